#pragma once
// UdpProxy: one [[udp_proxy]] listener. One socket on `listen`; the first datagram from a client
// address opens a session: a connected UDP socket of its own to a backend chosen by the strategy
// (ip_hash keys on the client IP). Datagrams from the client go out on the session's socket;
// datagrams from the backend go back to the client from the listening socket, as long as they
// arrive within `reply_timeout` of the client's latest datagram (later ones are dropped). A
// session with no traffic either way for `session_timeout` is closed. At most kMaxSessions
// sessions are open per listener; datagrams from further new clients are dropped (logged once
// per second at most). Datagrams longer than `buffer_size` are truncated to it.
//
// Backends are resolved once per configuration, by resolve(); a backend that does not resolve
// fails listen() (or the reload that brings it).
//
// Lifecycle: construct on an io_context → listen() binds (throws std::system_error naming the
// listener and address) → start() spawns the receive loop. Everything runs on that io_context,
// which must be run by one thread; reconfigure() and stop() are called on it. The object must
// outlive the io_context's run(); coroutines still pending when the io_context is destroyed never
// touch it again.
//
// Settings are a snapshot taken by each session when it opens: reconfigure() changes what later
// sessions get (backend, timeouts) and the buffer for later datagrams; open sessions keep theirs.

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "config/l4_config.hpp"
#include "l4/l4_stats.hpp"
#include "proxy/backend.hpp"
#include "proxy/balancer.hpp"

namespace rws::l4 {

class UdpProxy {
 public:
  static constexpr std::size_t kMaxSessions = 4096;
  struct Settings;

  // A configuration with its backends resolved; throws std::system_error naming the listener
  // and the backend that does not resolve. Callable from any thread.
  static std::shared_ptr<const Settings> resolve(asio::io_context& io,
                                                 config::UdpProxyConfig config);

  UdpProxy(asio::io_context& io, config::UdpProxyConfig config);

  void listen();
  asio::ip::udp::endpoint local_endpoint() const { return socket_.local_endpoint(); }
  void start();

  // New sessions use `settings` (same listen address).
  void reconfigure(std::shared_ptr<const Settings> settings);
  // Closes the listening socket and every session.
  void stop();

  const std::shared_ptr<ListenerStats>& stats() const { return stats_; }

 private:
  struct Session;
  using Clock = std::chrono::steady_clock;

  asio::awaitable<void> receive_loop();
  std::shared_ptr<Session> open_session(const asio::ip::udp::endpoint& client);
  asio::awaitable<void> reply_loop(std::shared_ptr<Session> session);
  asio::awaitable<void> expiry_loop(std::shared_ptr<Session> session);
  void close(Session& session);

  void publish_settings();

  asio::io_context& io_;
  config::UdpProxyConfig config_;  // until listen() resolves it into settings_
  asio::ip::udp::socket socket_;
  std::shared_ptr<const Settings> settings_;
  std::shared_ptr<ListenerStats> stats_;
  std::map<asio::ip::udp::endpoint, std::shared_ptr<Session>> sessions_;
  Clock::time_point last_full_warning_{};
};

}  // namespace rws::l4
