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

// One client address's session. Owned by sessions_ while open and by its two loops; `closed`
// tells the loops to stop.
struct UdpProxy::Session {
  Session(asio::io_context& io, udp::endpoint from, std::shared_ptr<proxy::Backend> to)
      : client(std::move(from)), backend(std::move(to)), socket(io), timer(io) {}
  ~Session() { backend->in_flight.fetch_sub(1, std::memory_order_relaxed); }

  udp::endpoint client;
  std::shared_ptr<proxy::Backend> backend;
  udp::socket socket;  // connected to the backend
  asio::steady_timer timer;
  Clock::time_point last_request = Clock::now();   // the client's latest datagram
  Clock::time_point last_activity = Clock::now();  // latest datagram either way
  bool closed = false;
};

UdpProxy::UdpProxy(asio::io_context& io, config::UdpProxyConfig config)
    : io_(io), config_(std::move(config)), socket_(io) {
  for (const config::Backend& b : config_.backends)
    backends_.push_back(std::make_shared<proxy::Backend>(config_.name, b));
  balancer_ = proxy::Balancer::make(config_.strategy, backends_);
}

void UdpProxy::listen() {
  udp::resolver resolver(io_);
  for (const auto& backend : backends_) {
    std::error_code ec;
    auto results = resolver.resolve(backend->host(), std::to_string(backend->port()), ec);
    if (ec || results.empty()) {
      throw std::system_error(
          ec, "udp_proxy " + config_.name + ": cannot resolve backend " + backend->url());
    }
    endpoints_.push_back(results.begin()->endpoint());
  }
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

void UdpProxy::start() {
  asio::co_spawn(io_, receive_loop(), asio::detached);
}

asio::awaitable<void> UdpProxy::receive_loop() {
  std::vector<char> buffer(config_.buffer_size);
  for (;;) {
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
      log::server().debug("udp_proxy {}: sending to backend {} failed: {}", config_.name,
                          session->backend->url(), send_error.message());
    }
  }
}

std::shared_ptr<UdpProxy::Session> UdpProxy::open_session(const udp::endpoint& client) {
  if (sessions_.size() >= kMaxSessions) {
    if (Clock::now() - last_full_warning_ >= std::chrono::seconds(1)) {
      last_full_warning_ = Clock::now();
      log::server().warn("udp_proxy {}: {} sessions open; datagrams from new clients are dropped",
                         config_.name, kMaxSessions);
    }
    return nullptr;
  }
  const std::string client_ip = client.address().to_string();
  std::optional<std::size_t> pick = balancer_->pick(client_ip, [this](std::size_t i) {
    return backends_[i]->healthy.load(std::memory_order_relaxed);
  });
  if (!pick) return nullptr;
  backends_[*pick]->in_flight.fetch_add(1, std::memory_order_relaxed);
  auto session = std::make_shared<Session>(io_, client, backends_[*pick]);
  std::error_code ec;
  session->socket.open(endpoints_[*pick].protocol(), ec);
  if (!ec) session->socket.connect(endpoints_[*pick], ec);
  if (ec) {
    log::server().warn("udp_proxy {}: cannot open a socket to backend {}: {}", config_.name,
                       session->backend->url(), ec.message());
    return nullptr;
  }
  sessions_.emplace(client, session);
  log::server().debug("udp_proxy {}: session for {} opened to {}", config_.name, describe(client),
                      session->backend->url());
  asio::co_spawn(io_, reply_loop(session), asio::detached);
  asio::co_spawn(io_, expiry_loop(session), asio::detached);
  return session;
}

asio::awaitable<void> UdpProxy::reply_loop(std::shared_ptr<Session> session) {
  std::vector<char> buffer(config_.buffer_size);
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
    if (now - session->last_request > config_.reply_timeout) {
      log::server().debug("udp_proxy {}: dropped a late reply from {} for {}", config_.name,
                          session->backend->url(), describe(session->client));
      continue;
    }
    session->last_activity = now;
    auto [send_error, sent] =
        co_await socket_.async_send_to(asio::buffer(buffer.data(), n), session->client, kUseTuple);
    if (send_error == asio::error::operation_aborted || !socket_.is_open()) co_return;
  }
}

asio::awaitable<void> UdpProxy::expiry_loop(std::shared_ptr<Session> session) {
  while (!session->closed) {
    session->timer.expires_at(session->last_activity + config_.session_timeout);
    co_await session->timer.async_wait(kUseTuple);  // woken by expiry or close()
    if (session->closed) co_return;
    if (Clock::now() >= session->last_activity + config_.session_timeout) {
      log::server().debug("udp_proxy {}: session for {} expired", config_.name,
                          describe(session->client));
      close(*session);
    }
  }
}

void UdpProxy::close(Session& session) {
  if (session.closed) return;
  session.closed = true;
  std::error_code ignored;
  session.socket.close(ignored);
  session.timer.cancel();
  if (auto it = sessions_.find(session.client);
      it != sessions_.end() && it->second.get() == &session) {
    sessions_.erase(it);
  }
}

}  // namespace rws::l4
