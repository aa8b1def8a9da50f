#include "net/tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <algorithm>

#include <rws/http/headers.hpp>

#include "core/openssl_errors.hpp"
#include "net/session_tickets.hpp"

namespace rws::net {
namespace {

// TLS 1.2 suites: forward secret AEAD only (TLS 1.3 suites are OpenSSL's defaults, all AEAD).
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kGroups = "X25519:P-256:P-384";
constexpr long kSessionTimeoutSecs = 3 * 3600;
constexpr int kClientVerifyDepth = 4;
constexpr unsigned char kSessionIdContext[] = "rws";

// RFC 7301: the first of our protocols the client offers; none in common → fatal alert
// no_application_protocol (120).
int select_alpn(SSL*, const unsigned char** out, unsigned char* out_length, const unsigned char* in,
                unsigned int in_length, void* arg) {
  const auto* ours = static_cast<const std::string*>(arg);
  unsigned char* selected = nullptr;
  unsigned char selected_length = 0;
  if (SSL_select_next_proto(
          &selected, &selected_length, reinterpret_cast<const unsigned char*>(ours->data()),
          static_cast<unsigned int>(ours->size()), in, in_length) != OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_ALERT_FATAL;
  }
  *out = selected;
  *out_length = selected_length;
  return SSL_TLSEXT_ERR_OK;
}

// SNI: moves the connection onto the matching virtual host's context. Unknown names keep the
// default certificate (as nginx and Caddy do).
int select_certificate(SSL* ssl, int*, void* arg) {
  const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (name == nullptr) return SSL_TLSEXT_ERR_OK;
  const auto* context = static_cast<const TlsContext*>(arg);
  if (SSL_CTX* chosen = context->context_for(name)) SSL_set_SSL_CTX(ssl, chosen);
  return SSL_TLSEXT_ERR_OK;
}

struct CtxDeleter {
  void operator()(SSL_CTX* ctx) const noexcept { SSL_CTX_free(ctx); }
};
using CtxPtr = std::unique_ptr<SSL_CTX, CtxDeleter>;

Expected<CtxPtr, std::string> make_context(const TlsCertificateFiles& files,
                                           const TlsSettings& settings,
                                           const std::string& alpn_wire) {
  ERR_clear_error();
  CtxPtr ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx) return Unexpected("cannot create a TLS context: " + openssl_errors());
  SSL_CTX* c = ctx.get();
  SSL_CTX_set_min_proto_version(c, TLS1_2_VERSION);
  SSL_CTX_set_options(c, SSL_OP_NO_COMPRESSION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                             SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ENABLE_PARTIAL_WRITE |
                          SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (SSL_CTX_set_cipher_list(c, kTls12Ciphers) != 1 || SSL_CTX_set1_groups_list(c, kGroups) != 1) {
    return Unexpected("cannot set the TLS cipher suites: " + openssl_errors());
  }
  SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
  SSL_CTX_set_timeout(c, kSessionTimeoutSecs);
  SSL_CTX_set_num_tickets(c, 1);
  SSL_CTX_set_session_id_context(c, kSessionIdContext, sizeof kSessionIdContext - 1);
  use_rotating_ticket_keys(c);

  if (SSL_CTX_use_certificate_chain_file(c, files.cert_file.c_str()) != 1) {
    return Unexpected("certificate file '" + files.cert_file +
                      "' cannot be used: " + openssl_errors());
  }
  if (SSL_CTX_use_PrivateKey_file(c, files.key_file.c_str(), SSL_FILETYPE_PEM) != 1 &&
      ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
    return Unexpected("key file '" + files.key_file + "' cannot be used: " + openssl_errors());
  }
  if (SSL_CTX_check_private_key(c) != 1) {
    ERR_clear_error();
    return Unexpected("key file '" + files.key_file + "' does not match certificate '" +
                      files.cert_file + "'");
  }
  if (!settings.client_ca_file.empty()) {
    const char* ca = settings.client_ca_file.c_str();
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(ca);
    if (names == nullptr || SSL_CTX_load_verify_locations(c, ca, nullptr) != 1) {
      if (names) sk_X509_NAME_pop_free(names, X509_NAME_free);
      return Unexpected("client CA file '" + settings.client_ca_file +
                        "' cannot be used: " + openssl_errors());
    }
    SSL_CTX_set_client_CA_list(c, names);
    SSL_CTX_set_verify(c, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nullptr);
    SSL_CTX_set_verify_depth(c, kClientVerifyDepth);
  }
  SSL_CTX_set_alpn_select_cb(c, select_alpn, const_cast<std::string*>(&alpn_wire));
  return ctx;
}

}  // namespace

Expected<std::shared_ptr<const TlsContext>, std::string> TlsContext::load(
    const TlsSettings& settings) {
  std::shared_ptr<TlsContext> context(new TlsContext());
  for (const std::string& protocol : settings.alpn) {
    context->alpn_wire_.push_back(static_cast<char>(protocol.size()));
    context->alpn_wire_ += protocol;
  }
  auto main = make_context(settings.default_certificate, settings, context->alpn_wire_);
  if (!main) return Unexpected(main.error());
  context->default_ = main->release();
  for (const TlsCertificateFiles& host : settings.virtual_hosts) {
    auto made = make_context(host, settings, context->alpn_wire_);
    if (!made) return Unexpected("virtual host '" + host.domain + "': " + made.error());
    context->hosts_.push_back(Host{http::to_lower(host.domain), made->release()});
  }
  if (!context->hosts_.empty()) {
    SSL_CTX_set_tlsext_servername_callback(context->default_, select_certificate);
    SSL_CTX_set_tlsext_servername_arg(context->default_, context.get());
  }
  return std::shared_ptr<const TlsContext>(std::move(context));
}

TlsContext::~TlsContext() {
  SSL_CTX_free(default_);
  for (Host& host : hosts_)
    SSL_CTX_free(host.ctx);
}

SSL* TlsContext::new_connection() const {
  return SSL_new(default_);
}

SSL_CTX* TlsContext::context_for(std::string_view server_name) const noexcept {
  std::string name = http::to_lower(server_name);
  if (!name.empty() && name.back() == '.') name.pop_back();
  for (const Host& host : hosts_) {
    if (host.domain == name) return host.ctx;
  }
  const std::size_t dot = name.find('.');
  if (dot == std::string::npos || dot == 0) return nullptr;
  const std::string_view parent = std::string_view(name).substr(dot);  // ".example.com"
  for (const Host& host : hosts_) {
    if (host.domain.size() > 1 && host.domain.starts_with("*.") &&
        std::string_view(host.domain).substr(1) == parent) {
      return host.ctx;
    }
  }
  return nullptr;
}

}  // namespace rws::net
