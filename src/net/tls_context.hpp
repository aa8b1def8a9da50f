#pragma once
// TlsContext: the server side of TLS for one configuration — the default certificate, the SNI
// certificates of [[virtual_host]], optional client-certificate verification, ALPN — built from
// files once and immutable afterwards. A reload builds a new one; connections keep the context
// they started with (shared_ptr), so swapping is safe at any time.
//
// Policy (not configurable): TLS 1.2 and 1.3 only, AEAD ECDHE suites for 1.2, no compression or
// renegotiation, stateless session tickets whose keys rotate hourly and are shared by every
// context of the process (a reload does not invalidate tickets), no server-side session cache.

#include <memory>
#include <string>
#include <vector>

#include <rws/core/expected.hpp>
#include <rws/http/tls_info.hpp>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace rws::net {

struct TlsCertificateFiles {
  std::string domain;  // "" for the default certificate; else exact or "*.suffix"
  std::string cert_file;
  std::string key_file;
};

struct TlsSettings {
  TlsCertificateFiles default_certificate;
  std::vector<TlsCertificateFiles> virtual_hosts;
  std::string client_ca_file;  // non-empty: a client certificate is required and verified
  // ALPN protocols offered, in server preference order ("h2", "http/1.1"). A client whose
  // list has none of them is refused with the no_application_protocol alert; a client that
  // sends no ALPN is served (HTTP/1.1).
  std::vector<std::string> alpn = {"http/1.1"};
};

class TlsContext {
 public:
  // Reads and checks every file: the chain parses, the key matches its certificate, the CA
  // file loads. The error names the file and what is wrong with it.
  static Expected<std::shared_ptr<const TlsContext>, std::string> load(const TlsSettings& settings);

  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A new server-side SSL object for one connection (the caller owns it); null when OpenSSL
  // cannot allocate one.
  SSL* new_connection() const;

  // The context serving `server_name` (case-insensitive; exact names before "*." wildcards of
  // one label); null: the default. Used by the SNI callback; exposed for tests.
  SSL_CTX* context_for(std::string_view server_name) const noexcept;

 private:
  struct Host {
    std::string domain;  // lower case
    SSL_CTX* ctx;
  };
  TlsContext() = default;

  SSL_CTX* default_ = nullptr;
  std::vector<Host> hosts_;
  std::string alpn_wire_;  // the ALPN list in wire format
};

// What `ssl` negotiated (after a completed handshake).
http::TlsInfo describe_tls(SSL* ssl);

}  // namespace rws::net
