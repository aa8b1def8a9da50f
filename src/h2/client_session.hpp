#pragma once
// HTTP/2 client session (RFC 9113) on nghttp2: one connection to a backend carrying many
// concurrent exchanges (h2:// and grpc:// by prior knowledge, h2s:// and grpcs:// over TLS with
// ALPN "h2"). Used by the proxy for HTTP/2 upstreams and by health probes.
//
// Structure: a reader coroutine feeds received bytes to nghttp2, a writer coroutine drains
// nghttp2's output into the transport (one write at a time), and each exchange runs in the
// caller's coroutine. A request body is pulled from its BodySource by a pump coroutine, as the
// stream's flow-control window lets it leave; a response body is handed to the caller as a
// BodySource whose reads reopen the stream window (WINDOW_UPDATE), so a slow client slows the
// backend. Everything runs on the executor the session was created on.
//
// Lifetime: the session keeps itself alive while its reader runs. It ends when the transport
// fails, when the backend sends GOAWAY and the last stream ended, when it was idle (no stream)
// for `idle_timeout`, or when the worker drains and the last stream ended. Registered with the
// worker's ConnectionRegistry (when there is one) for the idle and write deadlines and drain.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include <rws/core/error.hpp>
#include <rws/http/body.hpp>
#include <rws/http/response.hpp>
#include <rws/http/upgrade.hpp>

#include "http/outgoing_request.hpp"
#include "net/connection_registry.hpp"
#include "net/transport.hpp"

typedef struct nghttp2_session nghttp2_session;

namespace rws::h2 {

class Signal;

class ClientSession final : public net::TrackedConnection,
                            public std::enable_shared_from_this<ClientSession> {
 public:
  struct Stream;

  // Takes a connected transport (TLS already negotiated "h2" when there is TLS) and starts the
  // session on the current executor: the client preface and SETTINGS go out at once.
  static asio::awaitable<std::shared_ptr<ClientSession>> start(
      std::unique_ptr<net::Transport> transport, std::chrono::seconds idle_timeout,
      std::string name);

  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Sends `request` and waits for the final response head (1xx heads before it go to
  // `interim` when given). The response body streams from the backend as it is read; its
  // trailers arrive as the body's trailers frame. Errors are upstream-side; `retryable` is set
  // when the backend cannot have processed the request (refused stream, GOAWAY before it).
  asio::awaitable<Result<http::Response>> exchange(http::OutgoingRequest request,
                                                   const http::ExchangeLimits& limits,
                                                   http::InterimSender* interim);

  // Whether the pool may hand this session to a new exchange now: alive, not draining, below
  // the backend's concurrent stream limit.
  bool can_take_stream() const noexcept;
  bool dead() const noexcept { return dead_; }
  std::size_t active_streams() const noexcept { return streams_.size(); }
  const std::string& name() const noexcept { return name_; }

  // Stops the session at once: open streams fail.
  void close() noexcept;

  void on_deadline() noexcept override;
  void on_drain() noexcept override;
  void on_abort() noexcept override;

 private:
  friend struct ClientCallbacks;
  friend class ClientResponseBody;
  ClientSession(std::unique_ptr<net::Transport> transport, std::chrono::seconds idle_timeout,
                std::string name);
  // Each coroutine holds `keep_alive` (the session itself) until it returns.
  asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<ClientSession> keep_alive);
  asio::awaitable<void> write_loop([[maybe_unused]] std::shared_ptr<ClientSession> keep_alive);
  asio::awaitable<void> pump_request([[maybe_unused]] std::shared_ptr<ClientSession> keep_alive,
                                     std::shared_ptr<Stream> stream, http::ExchangeLimits limits);
  void wake_writer();
  void fail_all(std::string_view why) noexcept;
  void stream_finished();
  void update_deadline();
  void leave_registry() noexcept;
  void reset_stream(Stream& stream, std::uint32_t error_code);

  std::unique_ptr<net::Transport> transport_;
  std::chrono::seconds idle_timeout_;
  std::string name_;  // the backend, for messages
  asio::any_io_executor executor_;
  nghttp2_session* session_ = nullptr;
  net::ConnectionRegistry* registry_ = nullptr;
  std::map<std::int32_t, std::shared_ptr<Stream>> streams_;
  std::unique_ptr<Signal> writer_wake_;
  bool dead_ = false;
  bool goaway_ = false;    // the backend said GOAWAY: no new streams
  bool draining_ = false;  // the worker drains: no new streams, close when idle
  bool writing_ = false;
  std::chrono::milliseconds write_timeout_{30000};
};

}  // namespace rws::h2
