#include "core/thread_shards.hpp"

#include <atomic>

namespace rws::core {

std::size_t this_thread_shard() noexcept {
  static std::atomic<std::size_t> next_thread{0};
  thread_local const std::size_t shard =
      next_thread.fetch_add(1, std::memory_order_relaxed) % kThreadShards;
  return shard;
}

}  // namespace rws::core
