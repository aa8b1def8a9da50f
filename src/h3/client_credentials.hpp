#pragma once
// The TLS side of HTTP/3 client connections (GnuTLS, as QUIC runs on it here): the trust
// anchors a server's certificate is verified against, and a client certificate to present when
// the server asks. Loaded once (per upstream, per rws-client run) and shared, read-only, by
// every connection made with it.

#include <memory>
#include <string>

#include <rws/core/expected.hpp>

typedef struct gnutls_certificate_credentials_st* gnutls_certificate_credentials_t;

namespace rws::h3 {

struct ClientTlsSettings {
  bool verify = true;       // false: any certificate is accepted (only when asked)
  std::string ca_file;      // empty: the system's trust store
  std::string client_cert;  // with client_key: PEM files presented when the server asks
  std::string client_key;
};

class ClientCredentials {
 public:
  // The error names the file (or the trust store) that cannot be used.
  static Expected<std::shared_ptr<const ClientCredentials>, std::string> load(
      const ClientTlsSettings& settings);

  ~ClientCredentials();
  ClientCredentials(const ClientCredentials&) = delete;
  ClientCredentials& operator=(const ClientCredentials&) = delete;

  bool verify() const { return verify_; }
  gnutls_certificate_credentials_t native() const { return native_; }

 private:
  ClientCredentials() = default;
  gnutls_certificate_credentials_t native_ = nullptr;
  bool verify_ = true;
};

}  // namespace rws::h3
