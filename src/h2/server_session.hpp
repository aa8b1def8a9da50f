#pragma once
// HTTP/2 server session (RFC 9113) on nghttp2: one per connection that negotiated "h2" by ALPN
// or opened cleartext with the h2c preface. Every stream becomes a Request for the same
// http::Service the HTTP/1.1 session calls, so handlers, middleware, static files and the proxy
// work unchanged.
//
// Structure: run() reads and feeds nghttp2; a writer coroutine drains nghttp2's output into the
// transport (one write at a time); each stream's handler runs as its own coroutine on the same
// executor. Request bodies are pulled by the handler from what DATA frames delivered; the
// stream's receive window is only reopened (WINDOW_UPDATE) as the handler consumes, so a slow
// handler slows the client. Response bodies are pulled from the handler's Body a window's worth
// at a time, as nghttp2 asks for data.
//
// Limits: SETTINGS_MAX_CONCURRENT_STREAMS, a header block limit (431 on the stream), and a
// rapid-reset guard (a client cancelling streams faster than kMaxResetsPerSecond gets GOAWAY
// ENHANCE_YOUR_CALM), and a client that keeps the flow-control window shut while response data
// waits is disconnected after write_timeout. A drain sends GOAWAY and lets open streams finish.
//
// Extended CONNECT (RFC 8441, SETTINGS_ENABLE_CONNECT_PROTOCOL): `:method CONNECT` with
// `:protocol websocket` reaches the service as HTTP/1.1's GET with Upgrade; when the handler
// switches protocols, the stream answers 200 and its DATA frames carry the upgraded protocol.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>

#include "h1/server_session.hpp"
#include "net/connection_registry.hpp"
#include "net/transport.hpp"

typedef struct nghttp2_session nghttp2_session;

namespace rws::h2 {

class Signal;

// The 24 bytes every HTTP/2 connection starts with (RFC 9113 §3.4).
inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

class ServerSession final : public net::TrackedConnection {
 public:
  ServerSession(std::unique_ptr<net::Transport> transport, h1::SessionEnv env, std::uint64_t id);
  ~ServerSession() override;
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Serves the connection until it ends and every stream's handler has returned.
  static asio::awaitable<void> run(std::unique_ptr<ServerSession> self);

  void on_deadline() noexcept override;
  void on_drain() noexcept override;
  void on_abort() noexcept override;

  struct Stream;

 private:
  friend struct Callbacks;
  asio::awaitable<void> serve();
  asio::awaitable<void> write_loop();
  asio::awaitable<void> handle_stream(std::shared_ptr<Stream> stream);
  asio::awaitable<void> pump_response(std::shared_ptr<Stream> stream);
  // An extended CONNECT the handler accepted (101 with an upgrade handler): 200, then the
  // handler runs on the stream's DATA frames.
  asio::awaitable<void> run_tunnel(std::shared_ptr<Stream> stream, http::Response& response);
  class Tunnel;
  void start_stream(const std::shared_ptr<Stream>& stream);
  // Submits the response head (for HEAD: with the length the body would have); true when a
  // body follows (then `stream.file` or `stream.source` is set).
  bool submit_response(Stream& stream, http::Response& response, bool head_request);
  void note_reset();
  void wake_writer();
  void update_deadline();
  void log_exchange(Stream& stream);

  std::unique_ptr<net::Transport> transport_;
  asio::any_io_executor executor_;  // the connection's, once run() started
  h1::SessionEnv env_;
  std::uint64_t id_;
  nghttp2_session* session_ = nullptr;
  std::map<std::int32_t, std::shared_ptr<Stream>> streams_;
  std::unique_ptr<Signal> writer_wake_;
  std::unique_ptr<Signal> tasks_done_;
  std::size_t running_tasks_ = 0;
  bool writer_done_ = false;
  bool closing_ = false;  // no more reading; finish writing what is queued
  bool failed_ = false;   // transport error or abort: stop everything
  bool goaway_sent_ = false;
  bool stalled_ = false;  // response data waits for a window the client keeps shut
  net::Clock::time_point stalled_since_{};
  std::uint64_t requests_ = 0;
  std::uint64_t resets_in_window_ = 0;
  net::Clock::time_point reset_window_start_{};
};

}  // namespace rws::h2
