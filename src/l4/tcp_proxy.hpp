#pragma once
// TcpProxy: one [[tcp_proxy]] listener. Each accepted connection goes to a backend chosen by
// the strategy (connect timeout per attempt; on failure the next eligible backend is tried, each
// at most once) and is then spliced to it (l4/tcp_splice.hpp). A client for which no backend
// connects is closed.
//
// Lifecycle: construct on an io_context → listen() binds (throws std::system_error naming the
// listener and address) → start() spawns the accept loop and, with [tcp_proxy.health_check],
// one connect probe loop per backend. Everything runs on that io_context, which must be run by
// one thread. The object must outlive the io_context's run(); coroutines still pending when the
// io_context is destroyed never touch it again (they hold only their sockets and backends).

#include <memory>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include "config/l4_config.hpp"
#include "proxy/backend.hpp"
#include "proxy/balancer.hpp"

namespace rws::l4 {

class TcpProxy {
 public:
  TcpProxy(asio::io_context& io, config::TcpProxyConfig config);

  void listen();
  asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  void start();

  const config::TcpProxyConfig& config() const { return config_; }

 private:
  asio::awaitable<void> accept_loop();
  asio::awaitable<void> serve(asio::ip::tcp::socket client);
  asio::awaitable<void> probe_loop(std::shared_ptr<proxy::Backend> backend);

  asio::io_context& io_;
  config::TcpProxyConfig config_;
  asio::ip::tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<proxy::Backend>> backends_;
  std::unique_ptr<proxy::Balancer> balancer_;
};

}  // namespace rws::l4
