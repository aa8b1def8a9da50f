#pragma once
// The TLS side of HTTP/3: QUIC's handshake runs on GnuTLS (Debian's ngtcp2 has no OpenSSL
// backend), so the certificates the TCP listener loads with OpenSSL are loaded a second time
// here, from the same PEM files. Immutable once loaded; a reload builds a new one and
// connections keep the one they started with.
//
// SNI: every [[virtual_host]] certificate is added to one GnuTLS credential after the default
// one; GnuTLS picks the certificate whose names (subjectAltName / CN) match the client's SNI and
// falls back to the first (the default). Unlike the TCP side, the match is on the names in the
// certificate, not on the virtual_host domain string (they agree when the certificate was issued
// for that domain).
//
// Mutual TLS: with tls_client_ca_file the CA is loaded as the credential's trust anchors and
// every connection requires a client certificate that verifies against it.

#include <memory>
#include <string>

#include <rws/core/expected.hpp>

#include "net/tls_context.hpp"

typedef struct gnutls_certificate_credentials_st* gnutls_certificate_credentials_t;
typedef struct gnutls_priority_st* gnutls_priority_t;

namespace rws::h3 {

class Credentials {
 public:
  // Loads the default certificate and every virtual host's; the error names the file.
  static Expected<std::shared_ptr<const Credentials>, std::string> load(
      const net::TlsSettings& settings);

  ~Credentials();
  Credentials(const Credentials&) = delete;
  Credentials& operator=(const Credentials&) = delete;

  gnutls_certificate_credentials_t certificates() const noexcept { return certificates_; }
  // TLS 1.3 only, the QUIC cipher suites, no middlebox compatibility mode (RFC 9001 §8.4).
  gnutls_priority_t priority() const noexcept { return priority_; }
  // tls_client_ca_file is set: every client must present a certificate that verifies against
  // it (the handshake fails otherwise), as on the TCP listener.
  bool requires_client_certificate() const noexcept { return requires_client_certificate_; }

 private:
  Credentials() = default;
  gnutls_certificate_credentials_t certificates_ = nullptr;
  gnutls_priority_t priority_ = nullptr;
  bool requires_client_certificate_ = false;
};

}  // namespace rws::h3
