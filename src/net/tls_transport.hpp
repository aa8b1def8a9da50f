#pragma once

#include <memory>
#include <string>

#include <asio/ip/tcp.hpp>

#include "net/tls_context.hpp"
#include "net/transport.hpp"

namespace rws::net {

// A TLS connection (server or client side) over a non-blocking TCP socket: OpenSSL reads and
// writes the socket itself, and the coroutine waits for readiness when OpenSSL asks for it.
//
// Errors: asio::error::eof when the peer closed (close_notify or not), operation_aborted after
// cancel(), a system error from the socket, or std::errc::protocol_error for a TLS failure
// (failure() then says what OpenSSL reported).
class TlsTransport final : public Transport {
 public:
  enum class Role { kServer, kClient };
  // Owns `ssl` (from a TlsContext or TlsClientContext) and keeps `owner` (that context) alive.
  TlsTransport(asio::ip::tcp::socket socket, SSL* ssl, std::shared_ptr<const void> owner,
               Role role = Role::kServer);
  ~TlsTransport() override;

  // The handshake of this transport's role; on success tls_info() describes the connection.
  // A failed client-side certificate verification is named in failure().
  asio::awaitable<std::error_code> handshake();
  const std::string& failure() const noexcept { return failure_; }

  asio::awaitable<ReadOutcome> read_some(asio::mutable_buffer buffer) override;
  asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers) override;
  // Reads the file into memory a record's worth at a time (TLS encrypts in user space).
  asio::awaitable<std::error_code> send_file(std::string_view prefix, int fd, std::uint64_t offset,
                                             std::uint64_t length) override;
  // Sends close_notify if the socket takes it at once, then half-closes the TCP connection.
  // Reads pending TLS records (e.g. session tickets) without blocking: open while no data, no
  // close_notify and no error has arrived.
  bool idle_and_open() noexcept override;
  void shutdown_send() noexcept override;
  void cancel() noexcept override;
  void close() noexcept override;
  const PeerAddress& peer() const noexcept override { return peer_; }
  const http::TlsInfo* tls_info() const noexcept override {
    return established_ ? &info_ : nullptr;
  }

 private:
  // After an OpenSSL call failed with `ssl_error`: waits for the readiness it wants, or turns the
  // failure into an error code.
  asio::awaitable<std::error_code> wait_for(int ssl_error);
  asio::awaitable<std::error_code> write_all(const char* data, std::size_t size);

  asio::ip::tcp::socket socket_;
  SSL* ssl_;
  std::shared_ptr<const void> owner_;
  PeerAddress peer_;
  http::TlsInfo info_;
  bool established_ = false;
  std::string failure_;
  std::string scratch_;  // small writes gathered into one record; file pieces
};

}  // namespace rws::net
