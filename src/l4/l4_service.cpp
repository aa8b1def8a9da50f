#include "l4/l4_service.hpp"

#include <string>

#include "core/log.hpp"
#include "l4/tcp_proxy.hpp"
#include "l4/udp_proxy.hpp"

namespace rws::l4 {
namespace {

template <class Endpoint>
std::string describe(const Endpoint& e) {
  const std::string ip = e.address().to_string();
  return (e.address().is_v6() ? "[" + ip + "]" : ip) + ":" + std::to_string(e.port());
}

}  // namespace

L4Service::L4Service(config::L4Config config)
    : config_(std::move(config)), io_(std::make_unique<asio::io_context>(1)) {}

L4Service::~L4Service() {
  stop();
  // Proxies first (their sockets need the io_context), then the io_context with whatever
  // coroutines were still pending.
  tcp_.clear();
  udp_.clear();
  io_.reset();
}

void L4Service::listen() {
  for (const config::TcpProxyConfig& c : config_.tcp) {
    auto proxy = std::make_unique<TcpProxy>(*io_, c);
    proxy->listen();
    log::server().info("tcp_proxy {} listening on {}", c.name, describe(proxy->local_endpoint()));
    tcp_.push_back(std::move(proxy));
  }
  for (const config::UdpProxyConfig& c : config_.udp) {
    auto proxy = std::make_unique<UdpProxy>(*io_, c);
    proxy->listen();
    log::server().info("udp_proxy {} listening on {}", c.name, describe(proxy->local_endpoint()));
    udp_.push_back(std::move(proxy));
  }
}

void L4Service::start() {
  for (auto& p : tcp_)
    p->start();
  for (auto& p : udp_)
    p->start();
  // The accept and receive loops keep run() busy until stop().
  thread_ = std::thread([io = io_.get()] { io->run(); });
}

void L4Service::stop() {
  if (!thread_.joinable()) return;
  io_->stop();
  thread_.join();
}

}  // namespace rws::l4
