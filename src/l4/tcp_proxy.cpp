#include "l4/tcp_proxy.hpp"

#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "l4/tcp_connect.hpp"
#include "l4/tcp_splice.hpp"

namespace rws::l4 {
namespace {

using asio::ip::tcp;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

std::vector<std::shared_ptr<proxy::Backend>> make_backends(const config::TcpProxyConfig& c) {
  std::vector<std::shared_ptr<proxy::Backend>> out;
  for (const config::Backend& b : c.backends)
    out.push_back(std::make_shared<proxy::Backend>(c.name, b));
  return out;
}

}  // namespace

TcpProxy::TcpProxy(asio::io_context& io, config::TcpProxyConfig config)
    : io_(io),
      config_(std::move(config)),
      acceptor_(io),
      backends_(make_backends(config_)),
      balancer_(proxy::Balancer::make(config_.strategy, backends_)) {}

void TcpProxy::listen() {
  const tcp::endpoint endpoint(asio::ip::make_address(config_.listen.ip), config_.listen.port);
  try {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "tcp_proxy " + config_.name + ": cannot listen on " +
                                          config_.listen.ip + ":" +
                                          std::to_string(config_.listen.port));
  }
}

void TcpProxy::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  if (config_.health_check) {
    for (const auto& backend : backends_)
      asio::co_spawn(io_, probe_loop(backend), asio::detached);
  }
}

asio::awaitable<void> TcpProxy::accept_loop() {
  for (;;) {
    auto [ec, client] = co_await acceptor_.async_accept(kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: log, pause briefly (instead of spinning on an error
      // that persists) and accept again once connections may have closed.
      log::server().warn("tcp_proxy {}: accept failed: {}", config_.name, ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    asio::co_spawn(io_, serve(std::move(client)), asio::detached);
  }
}

asio::awaitable<void> TcpProxy::serve(tcp::socket client) {
  std::error_code ignored;
  const std::string client_ip = client.remote_endpoint(ignored).address().to_string();
  std::vector<bool> tried(backends_.size(), false);
  auto eligible = [&](std::size_t i) {
    return !tried[i] && backends_[i]->healthy.load(std::memory_order_relaxed);
  };
  for (std::size_t attempt = 0; attempt < backends_.size(); ++attempt) {
    std::optional<std::size_t> pick = balancer_->pick(client_ip, eligible);
    if (!pick) break;
    tried[*pick] = true;
    std::shared_ptr<proxy::Backend> backend = backends_[*pick];
    std::error_code error;
    tcp::socket upstream = co_await connect_backend(*backend, config_.connect_timeout, error);
    if (error) {
      log::server().warn("tcp_proxy {}: cannot connect to backend {}: {}", config_.name,
                         backend->url(), error.message());
      continue;
    }
    backend->in_flight.fetch_add(1, std::memory_order_relaxed);
    splice(std::move(client), std::move(upstream), config_.idle_timeout,
           [backend] { backend->in_flight.fetch_sub(1, std::memory_order_relaxed); });
    co_return;
  }
  log::server().warn("tcp_proxy {}: no backend reachable for {}; connection closed", config_.name,
                     client_ip);
}

// A backend is out after `unhealthy_threshold` failed connects in a row and back after
// `healthy_threshold` good ones; probe connections are closed at once.
asio::awaitable<void> TcpProxy::probe_loop(std::shared_ptr<proxy::Backend> backend) {
  const config::TcpHealthCheck& hc = *config_.health_check;
  asio::steady_timer timer(io_);
  for (;;) {
    std::error_code error;
    tcp::socket probe = co_await connect_backend(*backend, hc.timeout, error);
    const bool ok = !error;
    std::error_code ignored;
    probe.close(ignored);
    if (ok) {
      backend->check_failures = 0;
      if (!backend->healthy && ++backend->check_successes >= hc.healthy_threshold) {
        backend->healthy = true;
        log::server().info("tcp_proxy {}: backend {} is healthy again", config_.name,
                           backend->url());
      }
    } else {
      backend->check_successes = 0;
      if (backend->healthy && ++backend->check_failures >= hc.unhealthy_threshold) {
        backend->healthy = false;
        log::server().warn("tcp_proxy {}: backend {} is unhealthy: {}", config_.name,
                           backend->url(), error.message());
      }
    }
    timer.expires_after(hc.interval);
    auto [ec] = co_await timer.async_wait(kUseTuple);
    if (ec) co_return;
  }
}

}  // namespace rws::l4
