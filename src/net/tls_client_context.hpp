#pragma once
// TlsClientContext: the client side of TLS toward one upstream's https:// backends — trust
// anchors (the system's or a CA file), certificate verification with the backend's name, an
// optional client certificate — built from files once and immutable afterwards.
//
// Policy: TLS 1.2 and 1.3, ALPN "http/1.1" (or "h2" for HTTP/2 backends), peer verification unless
// `verify` is false (then any certificate is accepted: only for backends the operator explicitly
// chose to trust so).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <rws/core/expected.hpp>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace rws::net {

struct TlsClientSettings {
  bool verify = true;
  std::string ca_file;      // empty: the system's trust store
  std::string client_cert;  // PEM chain presented when the backend asks; with client_key
  std::string client_key;
};

class TlsClientContext {
 public:
  // Reads every file; the error names the file and what is wrong with it.
  static Expected<std::shared_ptr<const TlsClientContext>, std::string> load(
      const TlsClientSettings& settings);

  ~TlsClientContext();
  TlsClientContext(const TlsClientContext&) = delete;
  TlsClientContext& operator=(const TlsClientContext&) = delete;

  // A client SSL object for a connection to `name` (a host name or an IP literal): SNI for
  // host names, and the certificate must be valid for `name` when verifying. The caller owns
  // it; null when OpenSSL cannot allocate one. `alpn` says which protocols ALPN offers.
  enum class Alpn { kHttp11, kH2, kH2OrHttp11 };
  SSL* new_connection(std::string_view name, Alpn alpn = Alpn::kHttp11) const;

  // Distinct for every context made by this process (pooled connections are not shared
  // between contexts).
  std::uint64_t id() const noexcept { return id_; }

 private:
  TlsClientContext() = default;
  SSL_CTX* ctx_ = nullptr;
  bool verify_ = true;
  std::uint64_t id_ = 0;
};

}  // namespace rws::net
