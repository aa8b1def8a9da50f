#pragma once
// RateLimiter: per-key request admission, shared by every worker thread of a server.
//
// Lifecycle: built once per configured limit (the gateway keeps it across reloads while the
// settings stay the same), then `acquire` is called from any thread for each request; it is
// destroyed when the last middleware holding it goes.
//
// Algorithms (one per limiter):
// - token bucket (default): a bucket of max_requests + burst tokens per key, refilled at
//   max_requests per window, one token per request. Stored as the time the bucket will be full
//   again (GCRA), so a key costs one integer of state.
// - sliding window: a counter for the current fixed window and one for the previous; a request
//   is admitted while previous × (unelapsed share of the current window) + current < max_requests.
//
// Memory: keys live in a hash map split into shards (one mutex each, chosen by the key's hash),
// so threads rarely wait for each other. A key whose state has decayed to "never seen" (a full
// bucket; both windows over) is idle and dropped: every acquire looks at most two entries of its
// shard, least recently used first. The map never holds more than max_keys keys: when a shard
// is full, its least recently used key is evicted (that client starts again with a full quota)
// rather than refusing new clients or growing.
//
// Time comes from an injectable monotonic clock, so tests need not sleep.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string_view>
#include <vector>

namespace rws::middleware {

enum class RateLimitAlgorithm { kTokenBucket, kSlidingWindow };

struct RateLimiterOptions {
  std::uint64_t max_requests = 60;          // per window; > 0
  std::chrono::milliseconds window{60000};  // > 0
  std::uint64_t burst = 0;                  // token bucket only: extra capacity
  RateLimitAlgorithm algorithm = RateLimitAlgorithm::kTokenBucket;
  std::size_t max_keys = 100000;  // > 0
};

// The outcome of one acquire. Durations are exact; the middleware rounds them up to seconds.
struct RateLimitDecision {
  bool allowed = false;
  std::uint64_t limit = 0;                  // requests a key with a fresh quota may make at once
  std::uint64_t remaining = 0;              // requests still admitted right now, after this one
  std::chrono::nanoseconds reset{0};        // until the quota is whole again
  std::chrono::nanoseconds retry_after{0};  // denied: until a request would be admitted
};

class RateLimiter {
 public:
  // A monotonic clock; called once per acquire, from any thread.
  using Clock = std::function<std::chrono::steady_clock::time_point()>;

  // Throws std::invalid_argument when max_requests, window or max_keys is 0, or burst is set
  // with the sliding window.
  explicit RateLimiter(RateLimiterOptions options, Clock clock = &std::chrono::steady_clock::now);
  ~RateLimiter();
  RateLimiter(const RateLimiter&) = delete;
  RateLimiter& operator=(const RateLimiter&) = delete;

  // Counts one request against `key` if it is admitted. Thread-safe.
  RateLimitDecision acquire(std::string_view key);

  // Keys currently held (all shards; a snapshot while others acquire).
  std::size_t size() const;
  const RateLimiterOptions& options() const { return options_; }

 private:
  struct Shard;
  RateLimitDecision decide(Shard& shard, std::string_view key, std::int64_t now);

  RateLimiterOptions options_;
  Clock clock_;
  std::int64_t window_ns_;    // the window
  std::int64_t interval_ns_;  // token bucket: time to earn one token
  std::int64_t capacity_ns_;  // token bucket: time to fill an empty bucket
  std::size_t shard_capacity_;
  std::vector<std::unique_ptr<Shard>> shards_;
};

}  // namespace rws::middleware
