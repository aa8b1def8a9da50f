#pragma once
// FillRegistry: the fills in flight of one response cache, so that concurrent misses for one
// key make one upstream request (request collapsing).
//
// Lifecycle: one per cache, held by shared_ptr (the leases it hands out hold it too). `join` is
// called from any thread. The first joiner of a key that may lead gets a FillLease and goes
// upstream; the fill ends when the lease is finished (stored or not) or destroyed. Joiners that
// arrive while a fill is in flight wait in `join` until it ends or their timeout passes.
//
// Waiting: a waiter sleeps on a timer in its own coroutine frame, on its own executor. The
// thread that ends a fill marks each waiter's outcome under the registry's mutex and posts a
// handler to the waiter's executor that cancels the timer; the timer's pointer is published and
// withdrawn under the mutex, so a waiter whose frame goes (cancelled, destroyed) is never
// touched again. The waiter's executor must run handlers one at a time (one thread per
// io_context, or a strand): the posted handler and the waiting coroutine share the timer.

#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <asio/awaitable.hpp>

namespace rws::middleware {

enum class FillOutcome {
  kStored,     // the leader stored its response: look again
  kNotStored,  // the leader's response could not be stored: go upstream
  kTimedOut,   // the wait passed its timeout: go upstream, store nothing
};

class FillRegistry;
struct FillFlight;
struct FillWaiter;

// The leader's hold on a fill. Move-only; an empty lease holds nothing.
class FillLease {
 public:
  FillLease() = default;
  FillLease(FillLease&& other) noexcept = default;
  FillLease& operator=(FillLease&& other) noexcept;
  ~FillLease() { finish(false); }

  explicit operator bool() const noexcept { return registry_ != nullptr; }

  // Ends the fill and releases its waiters with kStored or kNotStored; later calls do nothing.
  void finish(bool stored);

 private:
  friend class FillRegistry;
  FillLease(std::shared_ptr<FillRegistry> registry, std::string key,
            std::shared_ptr<FillFlight> flight)
      : registry_(std::move(registry)), key_(std::move(key)), flight_(std::move(flight)) {}

  std::shared_ptr<FillRegistry> registry_;
  std::string key_;
  std::shared_ptr<FillFlight> flight_;
};

// What `join` found: a lease (the caller leads), the outcome of waiting for another request's
// fill, or neither (no fill was in flight and the caller may not lead).
struct FillJoin {
  FillLease lease;
  std::optional<FillOutcome> outcome;
};

class FillRegistry : public std::enable_shared_from_this<FillRegistry> {
 public:
  // Leads the fill of `key` when none is in flight (if `may_lead`), else waits for the one in
  // flight at most `timeout`. Runs on the caller's executor. Throws
  // system_error(operation_aborted) when the wait is cancelled; the waiter is gone by then.
  asio::awaitable<FillJoin> join(std::string key, bool may_lead, std::chrono::milliseconds timeout);

  // Requests waiting right now (any thread).
  std::size_t waiting() const;

 private:
  friend class FillLease;
  class WaitGuard;

  void finish(const std::string& key, const FillFlight* flight, FillOutcome outcome);
  // Withdraws `waiter` (its timer is going); returns the outcome a finished fill gave it.
  std::optional<FillOutcome> leave(const std::string& key, FillWaiter& waiter);

  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<FillFlight>> flights_;
  std::size_t waiting_ = 0;
};

}  // namespace rws::middleware
