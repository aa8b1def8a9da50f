#pragma once
// L4Service: every [[tcp_proxy]] and [[udp_proxy]] of a configuration, run on one thread of
// its own (L4 forwarding is copy-bound and light on CPU; one thread keeps every session
// single-threaded and apart from the HTTP workers).
//
// Lifecycle: construct (nothing bound) → listen() binds every listener, logging
// "tcp_proxy NAME listening on IP:PORT" (resp. udp_proxy) with the bound port; it throws
// std::system_error naming the listener when one cannot bind or a UDP backend does not resolve
// → start() runs them on the new thread → stop() (also in the destructor; idempotent) stops that
// thread and closes the listening sockets and every open L4 connection and session at once (no
// drain). The configuration is fixed for the object's life: a reload does not change it.

#include <memory>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>

#include "config/l4_config.hpp"

namespace rws::l4 {

class TcpProxy;
class UdpProxy;

class L4Service {
 public:
  explicit L4Service(config::L4Config config);
  ~L4Service();
  L4Service(const L4Service&) = delete;
  L4Service& operator=(const L4Service&) = delete;

  void listen();
  void start();
  void stop();

  const config::L4Config& config() const { return config_; }

 private:
  config::L4Config config_;
  // Destroyed last: the proxies' sockets and pending coroutines belong to it.
  std::unique_ptr<asio::io_context> io_;
  std::vector<std::unique_ptr<TcpProxy>> tcp_;
  std::vector<std::unique_ptr<UdpProxy>> udp_;
  std::thread thread_;
};

}  // namespace rws::l4
