#pragma once
// The live connections of one worker, for deadline sweeps and graceful drain. Single-threaded:
// used only on the worker's own thread.
//
// Timeouts are deadlines, not timers: a connection writes `deadline` (cheap, no syscall) before
// each operation that may wait, and the worker's sweeper calls on_deadline() for those that have
// passed it. Granularity is the sweep interval.

#include <chrono>
#include <cstddef>
#include <vector>

namespace rws::net {

using Clock = std::chrono::steady_clock;

// The callbacks run on the worker thread inside a registry walk: they may only cancel or close
// I/O (whose completions run later) and must not add or remove connections synchronously.
class TrackedConnection {
 public:
  virtual ~TrackedConnection() = default;
  // The deadline passed: abort the pending operation (it completes with operation_aborted).
  virtual void on_deadline() noexcept = 0;
  // The server is draining: close now if idle, otherwise after the current response.
  virtual void on_drain() noexcept = 0;
  // The drain period is over: close now.
  virtual void on_abort() noexcept = 0;

  Clock::time_point deadline = Clock::time_point::max();

 private:
  friend class ConnectionRegistry;
  std::size_t registry_index_ = 0;
};

class ConnectionRegistry {
 public:
  // The registry of the worker running on this thread (null outside workers): connections a
  // request opens on its own (upstream connections) register there for deadlines and drain.
  static ConnectionRegistry* current() noexcept;
  static void set_current(ConnectionRegistry* registry) noexcept;

  void add(TrackedConnection& c);
  void remove(TrackedConnection& c);
  std::size_t size() const noexcept { return live_.size(); }

  // Calls on_deadline() for every connection whose deadline is at or before `now`, and resets
  // that deadline so it fires once.
  void sweep(Clock::time_point now);
  // Starts the drain: every connection gets on_drain(), and draining() holds from now on (a
  // connection that becomes idle later closes instead of waiting for reuse).
  void drain_all();
  bool draining() const noexcept { return draining_; }
  void abort_all();

 private:
  template <class F>
  void for_each(F f);

  std::vector<TrackedConnection*> live_;
  bool draining_ = false;
};

}  // namespace rws::net
