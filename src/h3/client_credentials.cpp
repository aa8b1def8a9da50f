#include "h3/client_credentials.hpp"

#include <gnutls/gnutls.h>

namespace rws::h3 {

ClientCredentials::~ClientCredentials() {
  if (native_ != nullptr) gnutls_certificate_free_credentials(native_);
}

Expected<std::shared_ptr<const ClientCredentials>, std::string> ClientCredentials::load(
    const ClientTlsSettings& settings) {
  std::shared_ptr<ClientCredentials> c(new ClientCredentials());
  c->verify_ = settings.verify;
  if (gnutls_certificate_allocate_credentials(&c->native_) != 0) {
    return Unexpected(std::string("out of memory for TLS credentials"));
  }
  if (settings.verify) {
    const int loaded = settings.ca_file.empty()
                           ? gnutls_certificate_set_x509_system_trust(c->native_)
                           : gnutls_certificate_set_x509_trust_file(
                                 c->native_, settings.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (loaded <= 0) {
      return Unexpected(settings.ca_file.empty()
                            ? std::string("the system's trust store has no usable certificate")
                            : "CA file '" + settings.ca_file + "' holds no usable certificate");
    }
  }
  if (!settings.client_cert.empty()) {
    const int rv = gnutls_certificate_set_x509_key_file(
        c->native_, settings.client_cert.c_str(), settings.client_key.c_str(), GNUTLS_X509_FMT_PEM);
    if (rv < 0) {
      return Unexpected("client certificate '" + settings.client_cert + "' with key '" +
                        settings.client_key + "' cannot be used: " + gnutls_strerror(rv));
    }
  }
  return std::shared_ptr<const ClientCredentials>(std::move(c));
}

}  // namespace rws::h3
