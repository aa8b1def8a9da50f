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

// One configuration of the listener with its backends' state. `retired` (L4 thread) tells the
// probe loops of replaced settings to stop at their next wake-up.
struct TcpProxy::Settings {
  explicit Settings(config::TcpProxyConfig c)
      : options(std::move(c)),
        backends(make_backends(options)),
        balancer(proxy::Balancer::make(options.strategy, backends)) {}

  const config::TcpProxyConfig options;
  const std::vector<std::shared_ptr<proxy::Backend>> backends;
  const std::unique_ptr<proxy::Balancer> balancer;
  bool retired = false;
};

TcpProxy::TcpProxy(asio::io_context& io, config::TcpProxyConfig config,
                   std::shared_ptr<TunnelSet> tunnels)
    : io_(io),
      acceptor_(io),
      settings_(std::make_shared<Settings>(std::move(config))),
      tunnels_(std::move(tunnels)),
      stats_(std::make_shared<ListenerStats>(ListenerStats::Kind::kTcp)) {
  std::lock_guard lock(stats_->mutex);
  stats_->name = settings_->options.name;
  stats_->backends = settings_->backends;
}

void TcpProxy::listen() {
  const config::TcpProxyConfig& cfg = settings_->options;
  const tcp::endpoint endpoint(asio::ip::make_address(cfg.listen.ip), cfg.listen.port);
  try {
    acceptor_.open(endpoint.protocol());
    acceptor_.set_option(tcp::acceptor::reuse_address(true));
    acceptor_.bind(endpoint);
    acceptor_.listen();
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "tcp_proxy " + cfg.name + ": cannot listen on " +
                                          cfg.listen.ip + ":" + std::to_string(cfg.listen.port));
  }
}

void TcpProxy::start() {
  asio::co_spawn(io_, accept_loop(), asio::detached);
  start_probes();
}

void TcpProxy::start_probes() {
  if (!settings_->options.health_check) return;
  for (const auto& backend : settings_->backends)
    asio::co_spawn(io_, probe_loop(settings_, backend), asio::detached);
}

void TcpProxy::reconfigure(config::TcpProxyConfig config) {
  settings_->retired = true;
  settings_ = std::make_shared<Settings>(std::move(config));
  {
    std::lock_guard lock(stats_->mutex);
    stats_->name = settings_->options.name;
    stats_->backends = settings_->backends;
  }
  if (acceptor_.is_open()) start_probes();
}

void TcpProxy::stop_accepting() {
  settings_->retired = true;
  std::error_code ignored;
  acceptor_.close(ignored);
}

asio::awaitable<void> TcpProxy::accept_loop() {
  for (;;) {
    auto [ec, client] = co_await acceptor_.async_accept(kUseTuple);
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) co_return;
    if (ec) {
      // Out of descriptors and the like: log, pause briefly (instead of spinning on an error
      // that persists) and accept again once connections may have closed.
      log::server().warn("tcp_proxy {}: accept failed: {}", settings_->options.name, ec.message());
      asio::steady_timer pause(io_, std::chrono::milliseconds(100));
      co_await pause.async_wait(kUseTuple);
      continue;
    }
    stats_->connections.fetch_add(1, std::memory_order_relaxed);
    asio::co_spawn(io_, serve(std::move(client)), asio::detached);
  }
}

asio::awaitable<void> TcpProxy::serve(tcp::socket client) {
  // This connection's settings, whatever a reload does meanwhile.
  const std::shared_ptr<Settings> settings = settings_;
  const config::TcpProxyConfig& cfg = settings->options;
  const std::vector<std::shared_ptr<proxy::Backend>>& backends = settings->backends;
  std::error_code ignored;
  const std::string client_ip = client.remote_endpoint(ignored).address().to_string();
  std::vector<bool> tried(backends.size(), false);
  auto eligible = [&](std::size_t i) {
    return !tried[i] && backends[i]->healthy.load(std::memory_order_relaxed);
  };
  for (std::size_t attempt = 0; attempt < backends.size(); ++attempt) {
    std::optional<std::size_t> pick = settings->balancer->pick(client_ip, eligible);
    if (!pick) break;
    tried[*pick] = true;
    std::shared_ptr<proxy::Backend> backend = backends[*pick];
    std::error_code error;
    tcp::socket upstream = co_await connect_backend(*backend, cfg.connect_timeout, error);
    if (error) {
      log::server().warn("tcp_proxy {}: cannot connect to backend {}: {}", cfg.name, backend->url(),
                         error.message());
      stats_->count_connect_failure(backend->url());
      continue;
    }
    // As nginx stream and haproxy do: no Nagle delay on either side; a small chunk (a request, a
    // response) is forwarded as soon as it is read.
    client.set_option(tcp::no_delay(true), ignored);
    upstream.set_option(tcp::no_delay(true), ignored);
    backend->in_flight.fetch_add(1, std::memory_order_relaxed);
    stats_->active_tcp.fetch_add(1, std::memory_order_relaxed);
    const std::uint64_t id = tunnels_->add();
    auto on_finish = [backend, stats = stats_, tunnels = tunnels_, id] {
      backend->in_flight.fetch_sub(1, std::memory_order_relaxed);
      stats->active_tcp.fetch_sub(1, std::memory_order_relaxed);
      tunnels->remove(id);
    };
    tunnels_->set(id, splice(std::move(client), std::move(upstream), cfg.idle_timeout,
                             stats_->bytes, std::move(on_finish)));
    co_return;
  }
  log::server().warn("tcp_proxy {}: no backend reachable for {}; connection closed", cfg.name,
                     client_ip);
}

// A backend is out after `unhealthy_threshold` failed connects in a row and back after
// `healthy_threshold` good ones; probe connections are closed at once.
// Stops once `settings` are retired (replaced by a reload, or the listener stopped).
asio::awaitable<void> TcpProxy::probe_loop(std::shared_ptr<Settings> settings,
                                           std::shared_ptr<proxy::Backend> backend) {
  const config::TcpProxyConfig& cfg = settings->options;
  const config::TcpHealthCheck& hc = *cfg.health_check;
  asio::steady_timer timer(io_);
  while (!settings->retired) {
    std::error_code error;
    tcp::socket probe = co_await connect_backend(*backend, hc.timeout, error);
    if (settings->retired) co_return;
    const bool ok = !error;
    std::error_code ignored;
    probe.close(ignored);
    if (ok) {
      backend->check_failures = 0;
      if (!backend->healthy && ++backend->check_successes >= hc.healthy_threshold) {
        backend->healthy = true;
        log::server().info("tcp_proxy {}: backend {} is healthy again", cfg.name, backend->url());
      }
    } else {
      backend->check_successes = 0;
      if (backend->healthy && ++backend->check_failures >= hc.unhealthy_threshold) {
        backend->healthy = false;
        log::server().warn("tcp_proxy {}: backend {} is unhealthy: {}", cfg.name, backend->url(),
                           error.message());
      }
    }
    timer.expires_after(hc.interval);
    auto [ec] = co_await timer.async_wait(kUseTuple);
    if (ec) co_return;
  }
}

}  // namespace rws::l4
