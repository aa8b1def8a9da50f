#pragma once
// Protocol upgrades (HTTP/1.1 101 Switching Protocols): a response may carry an upgrade handler;
// after the session has written the 101 head it hands the connection's byte stream to it, and
// closes the connection when the handler returns.

#include <cstddef>
#include <functional>
#include <span>
#include <system_error>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>

#include <rws/http/message_head.hpp>

namespace rws::http {

class UpgradedStream {
 public:
  virtual ~UpgradedStream() = default;
  // Bytes from the client (first those it sent right after the request); eof when it closed.
  virtual asio::awaitable<std::pair<std::error_code, std::size_t>> read_some(
      asio::mutable_buffer buffer) = 0;
  virtual asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers) = 0;
  virtual void shutdown_send() noexcept = 0;
};

using UpgradeHandler = std::function<asio::awaitable<void>(UpgradedStream&)>;

// Sends interim (1xx) responses ahead of the final one, e.g. 103 Early Hints forwarded by a
// proxy. Returns false when the connection failed.
class InterimSender {
 public:
  virtual ~InterimSender() = default;
  virtual asio::awaitable<bool> send_interim(const ResponseHead& head) = 0;
};

}  // namespace rws::http
