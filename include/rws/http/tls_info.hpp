#pragma once
// What a TLS connection negotiated, for handlers and logs. Filled once after the handshake;
// immutable for the life of the connection.

#include <string>

namespace rws::http {

struct ClientCertificate {
  std::string subject;             // RFC 2253 distinguished name, e.g. "CN=alice,O=Example"
  std::string issuer;              // same form
  std::string serial;              // hexadecimal, upper case
  std::string sha256_fingerprint;  // of the DER certificate, lower-case hexadecimal
  std::string not_after;           // ISO 8601 UTC, e.g. "2027-01-01T00:00:00Z"
};

struct TlsInfo {
  std::string server_name;  // SNI sent by the client; empty: none
  std::string alpn;         // negotiated protocol ("h2", "http/1.1"); empty: none
  std::string version;      // "TLSv1.3", "TLSv1.2"
  std::string cipher;       // e.g. "TLS_AES_128_GCM_SHA256"
  bool resumed = false;     // the session was resumed from a ticket
  // Set when the client presented a certificate that verified against tls_client_ca_file.
  bool has_client_certificate = false;
  ClientCertificate client_certificate;
};

}  // namespace rws::http
