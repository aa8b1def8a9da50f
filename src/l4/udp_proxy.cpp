#include "l4/udp_proxy.hpp"

#include <string>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"

namespace rws::l4 {
namespace {

using asio::ip::udp;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

std::string describe(const udp::endpoint& e) {
  const std::string ip = e.address().to_string();
  return (e.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(e.port());
}

}  // namespace

// One configuration with its backends' state and addresses.
struct UdpProxy::Settings {
  config::UdpProxyConfig options;
  std::vector<std::shared_ptr<proxy::Backend>> backends;
  std::vector<udp::endpoint> endpoints;  // per backend
  std::unique_ptr<proxy::Balancer> balancer;
};

// One client address's session. Owned by sessions_ while open and by its two loops; `closed`
// tells the loops to stop.
struct UdpProxy::Session {
  Session(asio::io_context& io, udp::endpoint from, std::shared_ptr<proxy::Backend> to,
          std::shared_ptr<const Settings> with)
      : client(std::move(from)),
        backend(std::move(to)),
        settings(std::move(with)),
        socket(io),
        timer(io) {}
  ~Session() { backend->in_flight.fetch_sub(1, std::memory_order_relaxed); }

  udp::endpoint client;
  std::shared_ptr<proxy::Backend> backend;
  std::shared_ptr<const Settings> settings;  // as when the session opened
  udp::socket socket;                        // connected to the backend
  asio::steady_timer timer;
  Clock::time_point last_request = Clock::now();   // the client's latest datagram
  Clock::time_point last_activity = Clock::now();  // latest datagram either way
  bool closed = false;
};

std::shared_ptr<const UdpProxy::Settings> UdpProxy::resolve(asio::io_context& io,
                                                            config::UdpProxyConfig c) {
  auto settings = std::make_shared<Settings>();
  settings->options = std::move(c);
  const config::UdpProxyConfig& cfg = settings->options;
  udp::resolver resolver(io);
  for (const config::Backend& b : cfg.backends) {
    auto backend = std::make_shared<proxy::Backend>(cfg.name, b);
    std::error_code ec;
    auto results = resolver.resolve(backend->host(), std::to_string(backend->port()), ec);
    if (ec || results.empty()) {
      throw std::system_error(
          ec, "udp_proxy " + cfg.name + ": cannot resolve backend " + backend->url());
    }
    settings->endpoints.push_back(results.begin()->endpoint());
    settings->backends.push_back(std::move(backend));
  }
  settings->balancer = proxy::Balancer::make(cfg.strategy, settings->backends);
  return settings;
}

UdpProxy::UdpProxy(asio::io_context& io, config::UdpProxyConfig config)
    : io_(io),
      config_(std::move(config)),
      socket_(io),
      stats_(std::make_shared<ListenerStats>(ListenerStats::Kind::kUdp)) {}

void UdpProxy::listen() {
  settings_ = resolve(io_, config_);
  publish_settings();
  const udp::endpoint endpoint(asio::ip::make_address(config_.listen.ip), config_.listen.port);
  try {
    socket_.open(endpoint.protocol());
    socket_.bind(endpoint);
  } catch (const std::system_error& e) {
    throw std::system_error(e.code(), "udp_proxy " + config_.name + ": cannot listen on " +
                                          config_.listen.ip + ":" +
                                          std::to_string(config_.listen.port));
  }
}

void UdpProxy::publish_settings() {
  std::lock_guard lock(stats_->mutex);
  stats_->name = settings_->options.name;
  stats_->backends = settings_->backends;
}

void UdpProxy::reconfigure(std::shared_ptr<const Settings> settings) {
  settings_ = std::move(settings);
  publish_settings();
}

void UdpProxy::stop() {
  std::error_code ignored;
  socket_.close(ignored);
  const auto sessions = sessions_;  // close() erases from sessions_
  for (const auto& [client, session] : sessions)
    close(*session);
}

void UdpProxy::start() {
  asio::co_spawn(io_, receive_loop(), asio::detached);
}

asio::awaitable<void> UdpProxy::receive_loop() {
  std::vector<char> buffer;
  for (;;) {
    buffer.resize(settings_->options.buffer_size);  // a reload may change it
    udp::endpoint from;
    auto [ec, n] = co_await socket_.async_receive_from(asio::buffer(buffer), from, kUseTuple);
    if (ec == asio::error::operation_aborted || !socket_.is_open()) co_return;
    if (ec) continue;  // e.g. a truncated or refused datagram: the socket itself is fine
    std::shared_ptr<Session> session;
    if (auto it = sessions_.find(from); it != sessions_.end()) {
      session = it->second;
    } else {
      session = open_session(from);
      if (!session) continue;
    }
    session->last_request = session->last_activity = Clock::now();
    auto [send_error, sent] =
        co_await session->socket.async_send(asio::buffer(buffer.data(), n), kUseTuple);
    if (send_error && !session->closed) {
      log::server().debug("udp_proxy {}: sending to backend {} failed: {}",
                          session->settings->options.name, session->backend->url(),
                          send_error.message());
    }
    if (!send_error) stats_->bytes->a_to_b.fetch_add(sent, std::memory_order_relaxed);
  }
}

std::shared_ptr<UdpProxy::Session> UdpProxy::open_session(const udp::endpoint& client) {
  const std::shared_ptr<const Settings> settings = settings_;
  const config::UdpProxyConfig& cfg = settings->options;
  if (sessions_.size() >= kMaxSessions) {
    if (Clock::now() - last_full_warning_ >= std::chrono::seconds(1)) {
      last_full_warning_ = Clock::now();
      log::server().warn("udp_proxy {}: {} sessions open; datagrams from new clients are dropped",
                         cfg.name, kMaxSessions);
    }
    return nullptr;
  }
  const std::string client_ip = client.address().to_string();
  std::optional<std::size_t> pick = settings->balancer->pick(client_ip, [&](std::size_t i) {
    return settings->backends[i]->healthy.load(std::memory_order_relaxed);
  });
  if (!pick) return nullptr;
  settings->backends[*pick]->in_flight.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_shared<Session>(io_, client, settings->backends[*pick], settings);
  std::error_code ec;
  session->socket.open(settings->endpoints[*pick].protocol(), ec);
  if (!ec) session->socket.connect(settings->endpoints[*pick], ec);
  if (ec) {
    log::server().warn("udp_proxy {}: cannot open a socket to backend {}: {}", cfg.name,
                       session->backend->url(), ec.message());
    stats_->count_connect_failure(session->backend->url());
    return nullptr;
  }
  sessions_.emplace(client, session);
  stats_->connections.fetch_add(1, std::memory_order_relaxed);
  stats_->active_udp.fetch_add(1, std::memory_order_relaxed);
  log::server().debug("udp_proxy {}: session for {} opened to {}", cfg.name, describe(client),
                      session->backend->url());
  asio::co_spawn(io_, reply_loop(session), asio::detached);
  asio::co_spawn(io_, expiry_loop(session), asio::detached);
  return session;
}

asio::awaitable<void> UdpProxy::reply_loop(std::shared_ptr<Session> session) {
  const config::UdpProxyConfig& cfg = session->settings->options;
  std::vector<char> buffer(cfg.buffer_size);
  for (;;) {
    auto [ec, n] = co_await session->socket.async_receive(asio::buffer(buffer), kUseTuple);
    if (session->closed) co_return;
    // connection_refused: an ICMP "port unreachable" for an earlier datagram; the backend may
    // come back, so the session keeps listening.
    if (ec == asio::error::connection_refused) continue;
    if (ec) {
      close(*session);
      co_return;
    }
    const Clock::time_point now = Clock::now();
    if (now - session->last_request > cfg.reply_timeout) {
      log::server().debug("udp_proxy {}: dropped a late reply from {} for {}", cfg.name,
                          session->backend->url(), describe(session->client));
      continue;
    }
    session->last_activity = now;
    auto [send_error, sent] =
        co_await socket_.async_send_to(asio::buffer(buffer.data(), n), session->client, kUseTuple);
    if (send_error == asio::error::operation_aborted || !socket_.is_open()) co_return;
    if (!send_error) stats_->bytes->b_to_a.fetch_add(sent, std::memory_order_relaxed);
  }
}

asio::awaitable<void> UdpProxy::expiry_loop(std::shared_ptr<Session> session) {
  const config::UdpProxyConfig& cfg = session->settings->options;
  while (!session->closed) {
    session->timer.expires_at(session->last_activity + cfg.session_timeout);
    co_await session->timer.async_wait(kUseTuple);  // woken by expiry or close()
    if (session->closed) co_return;
    if (Clock::now() >= session->last_activity + cfg.session_timeout) {
      log::server().debug("udp_proxy {}: session for {} expired", cfg.name,
                          describe(session->client));
      close(*session);
    }
  }
}

void UdpProxy::close(Session& session) {
  if (session.closed) return;
  session.closed = true;
  stats_->active_udp.fetch_sub(1, std::memory_order_relaxed);
  std::error_code ignored;
  session.socket.close(ignored);
  session.timer.cancel();
  if (auto it = sessions_.find(session.client);
      it != sessions_.end() && it->second.get() == &session) {
    sessions_.erase(it);
  }
}

}  // namespace rws::l4
