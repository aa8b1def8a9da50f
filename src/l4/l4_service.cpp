#include "l4/l4_service.hpp"

#include <future>
#include <string>

#include <asio/post.hpp>

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

// Two configurations of the same listener: same address, and for port 0 (any free port, so the
// address alone says nothing) the same name.
template <class Config>
bool same_listener(const Config& a, const Config& b) {
  return a.listen == b.listen && (a.listen.port != 0 || a.name == b.name);
}

// Index into `running` of the listener `c` continues, among those not yet `taken`.
template <class Config>
std::optional<std::size_t> match(const std::vector<Config>& running, std::vector<bool>& taken,
                                 const Config& c) {
  for (std::size_t i = 0; i < running.size(); ++i) {
    if (!taken[i] && same_listener(running[i], c)) {
      taken[i] = true;
      return i;
    }
  }
  return std::nullopt;
}

}  // namespace

// Per listener of the next configuration: the running listener it continues (`keep`) or a
// fresh one, bound and not started.
struct L4Service::Update {
  struct Tcp {
    std::optional<std::size_t> keep;
    std::unique_ptr<TcpProxy> fresh;
  };
  struct Udp {
    std::optional<std::size_t> keep;
    std::shared_ptr<const UdpProxy::Settings> settings;
    std::unique_ptr<UdpProxy> fresh;
  };
  config::L4Config config;
  std::vector<Tcp> tcp;
  std::vector<Udp> udp;
};

L4Service::L4Service(config::L4Config config)
    : config_(std::move(config)),
      io_(std::make_unique<asio::io_context>(1)),
      work_(io_->get_executor()),
      drain_timer_(std::in_place, *io_) {}

L4Service::~L4Service() {
  stop();
  // Proxies first (their sockets need the io_context), then the io_context with whatever
  // coroutines were still pending.
  tcp_.clear();
  udp_.clear();
  retired_tcp_.clear();
  retired_udp_.clear();
  work_.reset();
  drain_timer_.reset();
  io_.reset();
}

void L4Service::listen() {
  for (const config::TcpProxyConfig& c : config_.tcp) {
    auto proxy = std::make_unique<TcpProxy>(*io_, c, tunnels_);
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
  publish_stats();
}

void L4Service::start() {
  for (auto& p : tcp_)
    p->start();
  for (auto& p : udp_)
    p->start();
  thread_ = std::thread([io = io_.get()] { io->run(); });
}

std::shared_ptr<L4Service::Update> L4Service::prepare(const config::L4Config& next) {
  auto update = std::make_shared<Update>();
  update->config = next;
  std::vector<bool> tcp_taken(config_.tcp.size(), false);
  for (const config::TcpProxyConfig& c : next.tcp) {
    Update::Tcp& plan = update->tcp.emplace_back();
    plan.keep = match(config_.tcp, tcp_taken, c);
    if (!plan.keep) {
      plan.fresh = std::make_unique<TcpProxy>(*io_, c, tunnels_);
      plan.fresh->listen();
    }
  }
  std::vector<bool> udp_taken(config_.udp.size(), false);
  for (const config::UdpProxyConfig& c : next.udp) {
    Update::Udp& plan = update->udp.emplace_back();
    plan.keep = match(config_.udp, udp_taken, c);
    if (plan.keep) {
      if (config_.udp[*plan.keep] != c) plan.settings = UdpProxy::resolve(*io_, c);
    } else {
      plan.fresh = std::make_unique<UdpProxy>(*io_, c);
      plan.fresh->listen();
    }
  }
  return update;
}

void L4Service::apply(std::shared_ptr<Update> update) {
  std::promise<bool> done;
  asio::post(*io_, [this, &update, &done] {
    if (draining_) {
      log::server().warn("reload: L4 listeners are draining; their configuration stays");
      done.set_value(false);
      return;
    }
    const config::L4Config& next = update->config;
    std::vector<std::unique_ptr<TcpProxy>> tcp;
    for (std::size_t j = 0; j < next.tcp.size(); ++j) {
      Update::Tcp& plan = update->tcp[j];
      const config::TcpProxyConfig& c = next.tcp[j];
      if (plan.keep) {
        tcp.push_back(std::move(tcp_[*plan.keep]));
        if (config_.tcp[*plan.keep] != c) {
          tcp.back()->reconfigure(c);
          log::server().info("tcp_proxy {} reconfigured; new connections use the new settings",
                             c.name);
        }
      } else {
        plan.fresh->start();
        log::server().info("tcp_proxy {} listening on {}", c.name,
                           describe(plan.fresh->local_endpoint()));
        tcp.push_back(std::move(plan.fresh));
      }
    }
    for (std::size_t i = 0; i < tcp_.size(); ++i) {
      if (!tcp_[i]) continue;  // kept
      tcp_[i]->stop_accepting();
      log::server().info("tcp_proxy {} removed: no longer accepting; open connections go on",
                         config_.tcp[i].name);
      retired_tcp_.push_back(std::move(tcp_[i]));
    }
    tcp_ = std::move(tcp);

    std::vector<std::unique_ptr<UdpProxy>> udp;
    for (std::size_t j = 0; j < next.udp.size(); ++j) {
      Update::Udp& plan = update->udp[j];
      const config::UdpProxyConfig& c = next.udp[j];
      if (plan.keep) {
        udp.push_back(std::move(udp_[*plan.keep]));
        if (plan.settings) {
          udp.back()->reconfigure(plan.settings);
          log::server().info("udp_proxy {} reconfigured; new sessions use the new settings",
                             c.name);
        }
      } else {
        plan.fresh->start();
        log::server().info("udp_proxy {} listening on {}", c.name,
                           describe(plan.fresh->local_endpoint()));
        udp.push_back(std::move(plan.fresh));
      }
    }
    for (std::size_t i = 0; i < udp_.size(); ++i) {
      if (!udp_[i]) continue;
      udp_[i]->stop();
      log::server().info("udp_proxy {} removed: closed with its sessions", config_.udp[i].name);
      retired_udp_.push_back(std::move(udp_[i]));
    }
    udp_ = std::move(udp);
    config_ = next;
    publish_stats();
    done.set_value(true);
  });
  done.get_future().wait();
}

void L4Service::drain(std::chrono::milliseconds timeout) {
  asio::post(*io_, [this, timeout] {
    if (draining_) return;
    draining_ = true;
    for (auto* list : {&tcp_, &retired_tcp_}) {
      for (auto& p : *list)
        p->stop_accepting();
    }
    for (auto* list : {&udp_, &retired_udp_}) {
      for (auto& p : *list)
        p->stop();
    }
    log::server().info("L4: stopped accepting; draining {} TCP connection(s), waiting up to {} ms",
                       tunnels_->size(), timeout.count());
    drain_timer_->expires_after(timeout);
    drain_timer_->async_wait([this](const std::error_code& ec) {
      if (ec) return;
      log::server().info("L4: closing {} remaining TCP connection(s)", tunnels_->size());
      tunnels_->close_all();
      set_drained();
    });
    tunnels_->when_empty([this] { set_drained(); });
  });
}

void L4Service::abort() {
  asio::post(*io_, [this] {
    if (!draining_) return;
    drain_timer_->cancel();
    log::server().info("L4: closing {} remaining TCP connection(s)", tunnels_->size());
    tunnels_->close_all();
    set_drained();
  });
}

void L4Service::set_drained() {
  std::lock_guard lock(mutex_);
  drained_ = true;
  drained_changed_.notify_all();
}

void L4Service::wait_drained() {
  std::unique_lock lock(mutex_);
  drained_changed_.wait(lock, [this] { return drained_; });
}

void L4Service::stop() {
  if (!thread_.joinable()) return;
  work_.reset();
  io_->stop();
  thread_.join();
}

void L4Service::publish_stats() {
  std::vector<std::shared_ptr<const ListenerStats>> all;
  for (const auto& p : tcp_)
    all.push_back(p->stats());
  for (const auto& p : udp_)
    all.push_back(p->stats());
  std::lock_guard lock(mutex_);
  stats_ = std::move(all);
}

std::vector<std::shared_ptr<const ListenerStats>> L4Service::stats() const {
  std::lock_guard lock(mutex_);
  return stats_;
}

}  // namespace rws::l4
