#pragma once
// Counters and state of one L4 listener, read by the /metrics collector (l4/l4_metrics.hpp) on
// HTTP worker threads while the L4 thread updates them: counters are atomics, the rest takes the
// mutex. A listener keeps its ListenerStats across reloads that keep its socket.

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "l4/tcp_splice.hpp"
#include "proxy/backend.hpp"

namespace rws::l4 {

struct ListenerStats {
  enum class Kind { kTcp, kUdp };
  explicit ListenerStats(Kind k) : kind(k) {}

  const Kind kind;
  // TCP: client connections accepted; UDP: sessions opened.
  std::atomic<std::uint64_t> connections{0};
  std::atomic<std::int64_t> active_tcp{0};  // spliced TCP pairs open
  std::atomic<std::int64_t> active_udp{0};  // UDP sessions open
  // a_to_b: from clients to backends ("in"); b_to_a: from backends to clients ("out").
  const std::shared_ptr<SpliceCounters> bytes = std::make_shared<SpliceCounters>();

  void count_connect_failure(const std::string& backend) {
    std::lock_guard lock(mutex);
    ++connect_failures[backend];
  }

  mutable std::mutex mutex;
  std::string name;                                       // the listener's current name
  std::vector<std::shared_ptr<proxy::Backend>> backends;  // of the current settings
  std::map<std::string, std::uint64_t> connect_failures;  // by backend url, never reset
};

}  // namespace rws::l4
