#include "net/tls_client_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <atomic>

#include <rws/http/cidr.hpp>

#include "core/openssl_errors.hpp"

namespace rws::net {
namespace {

constexpr unsigned char kAlpn[] = "\x08http/1.1";

std::atomic<std::uint64_t> next_id{1};

}  // namespace

Expected<std::shared_ptr<const TlsClientContext>, std::string> TlsClientContext::load(
    const TlsClientSettings& settings) {
  ERR_clear_error();
  std::shared_ptr<TlsClientContext> context(new TlsClientContext());
  context->id_ = next_id.fetch_add(1, std::memory_order_relaxed);
  context->verify_ = settings.verify;
  SSL_CTX* c = SSL_CTX_new(TLS_client_method());
  if (c == nullptr) return Unexpected("cannot create a TLS context: " + openssl_errors());
  context->ctx_ = c;
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  SSL_CTX_set_alpn_protos(c, kAlpn, sizeof kAlpn - 1);
  if (settings.verify) {
    const bool loaded = settings.ca_file.empty() ? SSL_CTX_set_default_verify_paths(c) == 1
                                                 : SSL_CTX_load_verify_locations(
                                                       c, settings.ca_file.c_str(), nullptr) == 1;
    if (!loaded) {
      return Unexpected(settings.ca_file.empty()
                            ? "the system's trust store cannot be loaded: " + openssl_errors()
                            : "CA file '" + settings.ca_file +
                                  "' cannot be used: " + openssl_errors());
    }
  }
  if (!settings.client_cert.empty()) {
    if (SSL_CTX_use_certificate_chain_file(c, settings.client_cert.c_str()) != 1) {
      return Unexpected("client certificate file '" + settings.client_cert +
                        "' cannot be used: " + openssl_errors());
    }
    if (SSL_CTX_use_PrivateKey_file(c, settings.client_key.c_str(), SSL_FILETYPE_PEM) != 1 &&
        ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
      return Unexpected("client key file '" + settings.client_key +
                        "' cannot be used: " + openssl_errors());
    }
    if (SSL_CTX_check_private_key(c) != 1) {
      ERR_clear_error();
      return Unexpected("client key file '" + settings.client_key +
                        "' does not match certificate '" + settings.client_cert + "'");
    }
  }
  return std::shared_ptr<const TlsClientContext>(std::move(context));
}

TlsClientContext::~TlsClientContext() {
  SSL_CTX_free(ctx_);
}

SSL* TlsClientContext::new_connection(std::string_view name, Alpn alpn) const {
  SSL* ssl = SSL_new(ctx_);
  if (ssl == nullptr) return nullptr;
  static constexpr unsigned char kH2[] = "\x02h2";
  static constexpr unsigned char kEither[] = "\x02h2\x08http/1.1";
  const int offered = alpn == Alpn::kH2           ? SSL_set_alpn_protos(ssl, kH2, sizeof kH2 - 1)
                      : alpn == Alpn::kH2OrHttp11 ? SSL_set_alpn_protos(ssl, kEither,
                                                                        sizeof kEither - 1)
                                                  : 0;  // the context's "http/1.1"
  if (offered != 0) {
    SSL_free(ssl);
    return nullptr;
  }
  const std::string host(name);
  const bool ip = http::parse_ip(host).has_value();
  bool ok = true;
  if (!ip && !host.empty()) ok = SSL_set_tlsext_host_name(ssl, host.c_str()) == 1;
  if (verify_) {
    SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
    X509_VERIFY_PARAM* param = SSL_get0_param(ssl);
    if (ip) {
      ok = ok && X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1;
    } else {
      X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
      ok = ok && SSL_set1_host(ssl, host.c_str()) == 1;
    }
  } else {
    SSL_set_verify(ssl, SSL_VERIFY_NONE, nullptr);
  }
  if (!ok) {
    SSL_free(ssl);
    return nullptr;
  }
  return ssl;
}

}  // namespace rws::net
