#pragma once
// TcpProxy: one [[tcp_proxy]] listener. Each accepted connection goes to a backend chosen by
// the strategy (connect timeout per attempt; on failure the next eligible backend is tried, each
// at most once) and is then spliced to it (l4/tcp_splice.hpp). A client for which no backend
// connects is closed. Both sockets of a spliced pair have TCP_NODELAY set.
//
// Lifecycle: construct on an io_context → listen() binds (throws std::system_error naming the
// listener and address) → start() spawns the accept loop and, with [tcp_proxy.health_check],
// one connect probe loop per backend. Everything runs on that io_context, which must be run by
// one thread; reconfigure() and stop_accepting() are called on it. The object must outlive the
// io_context's run(); coroutines still pending when the io_context is destroyed never touch it
// again (they hold only their sockets, backends, stats and the TunnelSet).
//
// Settings (backends, strategy, timeouts, health check) are a snapshot taken by each connection
// when it is accepted: reconfigure() changes what later connections get and leaves established
// ones as they are. Each open splice is registered in the TunnelSet until it finishes.

#include <memory>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "config/l4_config.hpp"
#include "l4/l4_stats.hpp"
#include "l4/tunnel_set.hpp"
#include "proxy/backend.hpp"
#include "proxy/balancer.hpp"

namespace rws::l4 {

class TcpProxy {
 public:
  TcpProxy(asio::io_context& io, config::TcpProxyConfig config, std::shared_ptr<TunnelSet> tunnels);

  void listen();
  asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();

  // New connections use `config` (same listen address); health probes of the old settings stop.
  void reconfigure(config::TcpProxyConfig config);
  // Closes the listening socket and stops the health probes; open splices go on.
  void stop_accepting();

  const std::shared_ptr<ListenerStats>& stats() const { return stats_; }

 private:
  struct Settings;

  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket client);
  asio::awaitable<void> probe_loop(std::shared_ptr<Settings> settings,
                                   std::shared_ptr<proxy::Backend> backend);
  void start_probes();

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  std::shared_ptr<Settings> settings_;
  std::shared_ptr<TunnelSet> tunnels_;
  std::shared_ptr<ListenerStats> stats_;
};

}  // namespace rws::l4
