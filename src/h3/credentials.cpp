#include "h3/credentials.hpp"

#include <gnutls/gnutls.h>

namespace rws::h3 {
namespace {

constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:+GROUP-SECP521R1:"
    "%DISABLE_TLS13_COMPAT_MODE";

}  // namespace

Expected<std::shared_ptr<const Credentials>, std::string> Credentials::load(
    const net::TlsSettings& settings) {
  std::shared_ptr<Credentials> c(new Credentials());
  if (int rv = gnutls_certificate_allocate_credentials(&c->certificates_); rv < 0) {
    return Unexpected(std::string("HTTP/3 TLS: ") + gnutls_strerror(rv));
  }
  auto add = [&](const net::TlsCertificateFiles& files) -> std::string {
    const int rv = gnutls_certificate_set_x509_key_file2(c->certificates_, files.cert_file.c_str(),
                                                         files.key_file.c_str(),
                                                         GNUTLS_X509_FMT_PEM, nullptr, 0);
    if (rv < 0) {
      return "HTTP/3 TLS: cannot load certificate " + files.cert_file + " with key " +
             files.key_file + ": " + gnutls_strerror(rv);
    }
    return {};
  };
  // The first pair is what a client without a matching SNI gets.
  if (std::string error = add(settings.default_certificate); !error.empty()) {
    return Unexpected(std::move(error));
  }
  for (const net::TlsCertificateFiles& host : settings.virtual_hosts) {
    if (std::string error = add(host); !error.empty()) return Unexpected(std::move(error));
  }
  if (!settings.client_ca_file.empty()) {
    const int loaded = gnutls_certificate_set_x509_trust_file(
        c->certificates_, settings.client_ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (loaded <= 0) {
      return Unexpected("HTTP/3 TLS: client CA file " + settings.client_ca_file +
                        " holds no usable certificate" +
                        (loaded < 0 ? std::string(": ") + gnutls_strerror(loaded) : ""));
    }
    c->requires_client_certificate_ = true;
  }
  if (int rv = gnutls_priority_init(&c->priority_, kPriority, nullptr); rv < 0) {
    return Unexpected(std::string("HTTP/3 TLS priorities: ") + gnutls_strerror(rv));
  }
  return std::shared_ptr<const Credentials>(std::move(c));
}

Credentials::~Credentials() {
  if (priority_ != nullptr) gnutls_priority_deinit(priority_);
  if (certificates_ != nullptr) gnutls_certificate_free_credentials(certificates_);
}

}  // namespace rws::h3
