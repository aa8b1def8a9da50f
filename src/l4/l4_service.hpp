#pragma once
// L4Service: every [[tcp_proxy]] and [[udp_proxy]] of a configuration, run on one thread of
// its own (L4 forwarding is copy-bound and light on CPU; one thread keeps every session
// single-threaded and apart from the HTTP workers).
//
// Lifecycle: construct (nothing bound) → listen() binds every listener, logging
// "tcp_proxy NAME listening on IP:PORT" (resp. udp_proxy) with the bound port; it throws
// std::system_error naming the listener when one cannot bind or a UDP backend does not resolve
// → start() runs them on the new thread (which keeps running with no listener at all) →
// drain() → wait_drained() → stop() (also in the destructor; idempotent) stops that thread and
// closes whatever is still open.
//
// Reload: prepare() checks and binds what a new configuration needs, apply() switches to it.
// Listeners are matched by protocol and listen address (and by name for port 0). A matched
// listener keeps its socket and its open connections; if its settings changed, new connections
// use the new ones. A listener no longer configured stops accepting (TCP: its open connections go
// on until they end; UDP: its sessions end). A new one is bound by prepare() and started by
// apply().
//
// Drain: stop accepting on every TCP listener, end every UDP session, let open TCP connections
// run until they end or `timeout` passes, then close them. abort() brings the deadline forward.

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>

#include "config/l4_config.hpp"
#include "l4/l4_stats.hpp"
#include "l4/tunnel_set.hpp"

namespace rws::l4 {

class TcpProxy;
class UdpProxy;

class L4Service {
 public:
  // What apply() switches to; made by prepare().
  struct Update;

  explicit L4Service(config::L4Config config);
  ~L4Service();
  L4Service(const L4Service&) = delete;
  L4Service& operator=(const L4Service&) = delete;

  void listen();
  void start();

  // Binds the new listeners of `next` and resolves its UDP backends; throws std::system_error
  // naming the listener on failure (then nothing changed). Called from one thread at a time,
  // after start(); apply() the result before the next prepare().
  std::shared_ptr<Update> prepare(const config::L4Config& next);
  // Switches to `update` on the L4 thread and returns once it is done. After a drain began it
  // changes nothing (and says so in the log).
  void apply(std::shared_ptr<Update> update);

  // Thread-safe, after start(). drain() is idempotent; the deadline counts from its first call.
  void drain(std::chrono::milliseconds timeout);
  void abort();
  // Blocks until the drain is over: every TCP connection ended or was closed.
  void wait_drained();
  void stop();

  // The current listeners' counters; thread-safe.
  std::vector<std::shared_ptr<const ListenerStats>> stats() const;

 private:
  void publish_stats();
  void set_drained();

  config::L4Config config_;  // as last applied; used by prepare()
  // Destroyed last: the proxies' sockets and pending coroutines belong to it.
  std::unique_ptr<asio::io_context> io_;
  asio::executor_work_guard<asio::io_context::executor_type> work_;
  std::shared_ptr<TunnelSet> tunnels_ = std::make_shared<TunnelSet>();
  // On the L4 thread once started. tcp_[i] serves config_.tcp[i], udp_[i] config_.udp[i];
  // retired ones (removed by a reload) stay until destruction: coroutines may still use them.
  std::vector<std::unique_ptr<TcpProxy>> tcp_;
  std::vector<std::unique_ptr<UdpProxy>> udp_;
  std::vector<std::unique_ptr<TcpProxy>> retired_tcp_;
  std::vector<std::unique_ptr<UdpProxy>> retired_udp_;
  bool draining_ = false;
  std::optional<asio::steady_timer> drain_timer_;  // reset before io_

  mutable std::mutex mutex_;  // guards stats_ and drained_
  std::vector<std::shared_ptr<const ListenerStats>> stats_;
  bool drained_ = false;
  std::condition_variable drained_changed_;

  std::thread thread_;
};

}  // namespace rws::l4
