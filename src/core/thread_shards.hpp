#pragma once
// ThreadShards<T>: one T per shard, each on cache lines of its own, for state that every worker
// thread updates on every request (counters, gauges). A thread updates the shard its shard index
// selects, so workers running on different CPUs do not pass one cache line back and forth with
// every update; readers combine all shards.
//
// Contract: a shard may be shared by several threads (indexes wrap after kThreadShards threads)
// and is read by other threads, so T's updates must be thread-safe on their own (atomics);
// sharding only removes the contention, not the need for atomicity.

#include <array>
#include <cstddef>
#include <new>

namespace rws::core {

inline constexpr std::size_t kThreadShards = 8;
inline constexpr std::size_t kCacheLine = 64;

// This thread's shard index, in [0, kThreadShards): threads are numbered in the order of their
// first call, so the first kThreadShards threads (the workers, in practice) each have one.
std::size_t this_thread_shard() noexcept;

template <class T>
class ThreadShards {
 public:
  // This thread's shard.
  T& local() noexcept { return shards_[this_thread_shard()].value; }

  // Calls f(T&) (f(const T&)) for every shard, in order.
  template <class F>
  void for_each(F&& f) {
    for (Padded& shard : shards_)
      f(shard.value);
  }
  template <class F>
  void for_each(F&& f) const {
    for (const Padded& shard : shards_)
      f(shard.value);
  }

 private:
  struct alignas(kCacheLine) Padded {
    T value{};
  };
  std::array<Padded, kThreadShards> shards_{};
};

}  // namespace rws::core
