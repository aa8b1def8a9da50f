#pragma once
// One HTTP/1.1 connection to a backend (over TCP or TLS), and the per-worker pool of idle ones.
//
// A connection is used by one exchange at a time, on its worker's thread. It registers with the
// worker's ConnectionRegistry (when there is one), so read/write/connect deadlines are swept like
// those of client connections, and a drain closes it while it is idle in the pool.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <rws/core/error.hpp>

#include "h1/response_parser.hpp"
#include "net/buffer.hpp"
#include "net/connection_registry.hpp"
#include "net/tcp_transport.hpp"
#include "net/tls_client_context.hpp"
#include "proxy/backend.hpp"

namespace rws::proxy {

class UpstreamConnection final : public net::TrackedConnection {
 public:
  // Connects to the first reachable endpoint within `timeout` — with `tls`, the TLS handshake
  // included (SNI and certificate name `server_name`; ALPN offers `alpn`, and when that is only
  // "h2" the server must choose it). Errors are upstream-side and retryable (nothing was sent).
  static asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> connect(
      const std::vector<asio::ip::tcp::endpoint>& endpoints, std::chrono::milliseconds timeout,
      std::string pool_key, std::shared_ptr<const net::TlsClientContext> tls = nullptr,
      std::string_view server_name = {},
      net::TlsClientContext::Alpn alpn = net::TlsClientContext::Alpn::kHttp11);

  ~UpstreamConnection() override;

  // Writes everything within `timeout` per call.
  asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers,
                                         std::chrono::milliseconds timeout);
  // Writes `buffers` if the transport takes them at once (Transport::write_at_once): true when
  // that settled it (`ec`), false when write() must follow with the same buffers.
  bool write_at_once(std::span<const asio::const_buffer> buffers, std::error_code& ec) noexcept {
    return transport_->write_at_once(buffers, ec);
  }
  // What a read is for: more of what the backend is sending, or the first bytes of its reply to
  // the request written just before (by write(), with no suspension in between).
  enum class ReadFor { kMore, kReply };
  // Reads more bytes into input(); eof when the backend closed. Views of input() stay valid
  // until the next read_more(). A read for a reply skips the recv() that could only find
  // nothing yet (Transport::read_reply); since it would not notice an end of stream or bytes
  // that had arrived while the connection was idle (a backend that closed it without a reset
  // answering the request), it reads normally after kReplyRecheck without an answer.
  asio::awaitable<std::error_code> read_more(std::chrono::milliseconds timeout,
                                             ReadFor purpose = ReadFor::kMore);

  // Received bytes not yet consumed.
  std::string_view input() const noexcept { return input_.readable(); }
  void consume(std::size_t n) noexcept { input_.consume(n); }
  bool timed_out() const noexcept { return timed_out_; }
  const std::string& pool_key() const noexcept { return pool_key_; }
  net::Transport& transport() noexcept { return *transport_; }
  // Hands the connected transport to another owner (an HTTP/2 session); this object is done.
  std::unique_ptr<net::Transport> release_transport() noexcept {
    tcp_ = nullptr;
    return std::move(transport_);
  }
  // Where the exchange using the connection writes its request head; the capacity stays for
  // the next exchange (no allocation per request).
  std::string& request_head() noexcept { return request_head_; }
  // Where the exchange using the connection parses the response head (kept here, not in the
  // exchange's coroutine frame, to keep that frame small; the exchange resets it first).
  h1::ResponseParser& response_parser() noexcept { return response_parser_; }

  unsigned requests = 0;  // exchanges completed on it
  bool reused = false;    // taken from the pool (a failure before any byte may be stale)
  bool dead = false;      // closed; the pool drops it
  bool in_pool = false;
  net::Clock::time_point idle_since{};
  // Counts this connection while it sits in a pool; null: not counted.
  std::shared_ptr<IdleGauge> idle_gauge;

  // Whether an idle connection can still carry a request: no FIN, reset or stray bytes have
  // arrived (one non-blocking peek).
  bool still_open() noexcept;

  void on_deadline() noexcept override;
  void on_drain() noexcept override;
  void on_abort() noexcept override;

 private:
  UpstreamConnection(const asio::any_io_executor& executor, std::string pool_key);
  void cancel_io() noexcept;
  // Room in input() for the next read; kTooLarge when it may grow no further.
  std::error_code make_room();

  asio::any_io_executor executor_;
  asio::ip::tcp::socket socket_;               // used until connected
  std::unique_ptr<net::Transport> transport_;  // once connected
  net::TcpTransport* tcp_ = nullptr;           // transport_ when it is plain TCP, else null
  std::string pool_key_;
  net::Buffer input_;
  std::string request_head_;
  h1::ResponseParser response_parser_;
  net::ConnectionRegistry* registry_;
  bool timed_out_ = false;
  bool awaiting_recheck_ = false;  // the deadline of a reply read is its recheck, not a timeout
  bool recheck_due_ = false;       // that deadline passed: the read was cancelled to read anew
};

// Idle connections of this worker thread, per backend address ("ip:port").
class ConnectionPool {
 public:
  static ConnectionPool& local();
  ~ConnectionPool() { clear(); }

  // An idle connection to `key` that has not been idle longer than `idle_timeout`, or null.
  // With `verify_open`, one non-blocking peek per candidate also makes sure the backend has not
  // closed it (a syscall); without, the caller must be able to resend the request when the
  // connection turns out to be closed before any response byte.
  std::unique_ptr<UpstreamConnection> take(const std::string& key,
                                           std::chrono::seconds idle_timeout, bool verify_open);
  // Keeps `connection` for reuse (at most `max_idle` per key; the oldest goes first); while the
  // worker drains, closes it instead.
  void give(std::unique_ptr<UpstreamConnection> connection, unsigned max_idle,
            std::chrono::seconds idle_timeout);
  // Drops connections that were closed while idle.
  void purge();
  // Closes and drops every idle connection (before their io_context goes away, in tests).
  void clear();
  std::size_t idle_count() const;

 private:
  // A connection leaves the idle list: its gauge counts it no more.
  static void left_pool(UpstreamConnection& c) noexcept;

  std::unordered_map<std::string, std::vector<std::unique_ptr<UpstreamConnection>>> idle_;
};

}  // namespace rws::proxy
