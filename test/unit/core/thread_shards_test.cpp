#include "core/thread_shards.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <set>
#include <thread>
#include <vector>

namespace rws::core {
namespace {

TEST(ThreadShards, AThreadKeepsItsShard) {
  const std::size_t shard = this_thread_shard();
  EXPECT_LT(shard, kThreadShards);
  EXPECT_EQ(this_thread_shard(), shard);
}

// Threads started one after another take the next shards, so up to kThreadShards of them never
// share one; every shard sits on cache lines of its own.
TEST(ThreadShards, ConsecutiveThreadsTakeDistinctShardsOnSeparateCacheLines) {
  ThreadShards<std::atomic<std::uint64_t>> shards;
  std::set<std::uintptr_t> lines;
  for (std::size_t t = 0; t < kThreadShards; ++t) {
    std::thread([&] {
      lines.insert(reinterpret_cast<std::uintptr_t>(&shards.local()) / kCacheLine);
    }).join();
  }
  EXPECT_EQ(lines.size(), kThreadShards);
}

// Whichever shards the threads update, the shards together hold every update.
TEST(ThreadShards, ShardsTogetherHoldEveryUpdate) {
  ThreadShards<std::atomic<std::uint64_t>> counter;
  constexpr int kThreads = 2 * static_cast<int>(kThreadShards) + 1;  // some threads share
  constexpr int kPerThread = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&counter] {
      for (int i = 0; i < kPerThread; ++i)
        counter.local().fetch_add(1, std::memory_order_relaxed);
    });
  }
  for (std::thread& t : threads)
    t.join();
  std::uint64_t sum = 0;
  counter.for_each([&](const std::atomic<std::uint64_t>& shard) { sum += shard.load(); });
  EXPECT_EQ(sum, std::uint64_t{kThreads} * kPerThread);
}

}  // namespace
}  // namespace rws::core
