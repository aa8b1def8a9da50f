#pragma once
// Client TLS on a connected non-blocking socket, for the blocking JWKS fetch (config load,
// reload and the refresh thread; never on a worker's event loop). Every step polls the socket
// on the handshake's or record layer's WANT_READ/WANT_WRITE until a shared deadline.
//
// Policy: TLS 1.2 or later; the server's certificate is verified against the system's trust
// store (OpenSSL's default paths, which honour SSL_CERT_FILE and SSL_CERT_DIR) and must be
// valid for the host (a DNS name, also sent as SNI, or an IP literal).

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

typedef struct ssl_st SSL;
typedef struct ssl_ctx_st SSL_CTX;

namespace rws::auth {

class TlsSocket {
 public:
  using Clock = std::chrono::steady_clock;
  // Reports a failure; must throw (the caller adds which URL it is about).
  using Fail = std::function<void(const std::string& problem)>;

  // Handshakes on `fd` (connected, non-blocking; still owned by the caller) with `host`.
  TlsSocket(int fd, const std::string& host, Clock::time_point deadline, const Fail& fail);
  TlsSocket(const TlsSocket&) = delete;
  TlsSocket& operator=(const TlsSocket&) = delete;

  void write_all(std::string_view data);
  // Reads up to `size` bytes; 0 when the server has closed the connection.
  std::size_t read_some(char* buffer, std::size_t size);

 private:
  // Waits for what `result` (an SSL_* call's return value) asks for; fails on anything else.
  void wait(int result, const char* step);

  int fd_;
  Clock::time_point deadline_;
  Fail fail_;
  std::unique_ptr<SSL_CTX, void (*)(SSL_CTX*)> ctx_;
  std::unique_ptr<SSL, void (*)(SSL*)> ssl_;
};

}  // namespace rws::auth
