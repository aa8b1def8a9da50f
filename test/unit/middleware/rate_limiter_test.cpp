#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include <rws/middleware/rate_limiter.hpp>

namespace rws::middleware {
namespace {

using namespace std::chrono_literals;
using std::chrono::nanoseconds;

// A clock the test moves by hand; readable from several threads.
struct FakeClock {
  std::atomic<std::int64_t> ns{1'000'000'000'000};  // an arbitrary, non-zero start
  void advance(nanoseconds d) { ns += d.count(); }
  RateLimiter::Clock fn() {
    return [this] { return std::chrono::steady_clock::time_point(nanoseconds(ns.load())); };
  }
};

RateLimiterOptions bucket(std::uint64_t max, std::chrono::milliseconds window,
                          std::uint64_t burst = 0) {
  RateLimiterOptions o;
  o.max_requests = max;
  o.window = window;
  o.burst = burst;
  return o;
}

RateLimiterOptions sliding(std::uint64_t max, std::chrono::milliseconds window) {
  RateLimiterOptions o = bucket(max, window);
  o.algorithm = RateLimitAlgorithm::kSlidingWindow;
  return o;
}

int admitted(RateLimiter& limiter, std::string_view key, int attempts) {
  int n = 0;
  for (int i = 0; i < attempts; ++i)
    n += limiter.acquire(key).allowed ? 1 : 0;
  return n;
}

// ----- token bucket ---------------------------------------------------------------------------

TEST(TokenBucket, AdmitsTheCapacityAtOnceThenRefusesWithRetryAfter) {
  FakeClock clock;
  RateLimiter limiter(bucket(3, 3000ms), clock.fn());
  for (std::uint64_t remaining : {2, 1, 0}) {
    RateLimitDecision d = limiter.acquire("k");
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 3u);
    EXPECT_EQ(d.remaining, remaining);
  }
  RateLimitDecision d = limiter.acquire("k");
  EXPECT_FALSE(d.allowed);
  EXPECT_EQ(d.limit, 3u);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_EQ(d.retry_after, 1s);  // one token per second
  EXPECT_EQ(d.reset, 3s);        // three tokens to earn back
}

TEST(TokenBucket, RefillsAtMaxRequestsPerWindow) {
  FakeClock clock;
  RateLimiter limiter(bucket(10, 10000ms), clock.fn());  // a token a second
  EXPECT_EQ(admitted(limiter, "k", 20), 10);
  clock.advance(999ms);
  EXPECT_FALSE(limiter.acquire("k").allowed);
  clock.advance(1ms);
  RateLimitDecision d = limiter.acquire("k");
  EXPECT_TRUE(d.allowed);
  EXPECT_EQ(d.remaining, 0u);
  EXPECT_FALSE(limiter.acquire("k").allowed);
  clock.advance(3500ms);  // three and a half tokens
  EXPECT_EQ(admitted(limiter, "k", 10), 3);
  RateLimitDecision refused = limiter.acquire("k");
  EXPECT_EQ(refused.retry_after, 500ms);
  clock.advance(100s);  // never more than the capacity
  EXPECT_EQ(admitted(limiter, "k", 20), 10);
}

TEST(TokenBucket, BurstAddsCapacityNotRate) {
  FakeClock clock;
  RateLimiter limiter(bucket(2, 2000ms, 3), clock.fn());
  RateLimitDecision first = limiter.acquire("k");
  EXPECT_EQ(first.limit, 5u);
  EXPECT_EQ(first.remaining, 4u);
  EXPECT_EQ(first.reset, 1s);
  EXPECT_EQ(admitted(limiter, "k", 10), 4);
  clock.advance(1s);  // still one token a second
  EXPECT_EQ(admitted(limiter, "k", 10), 1);
  clock.advance(10s);
  EXPECT_EQ(admitted(limiter, "k", 10), 5);
}

TEST(TokenBucket, KeysAreIndependent) {
  FakeClock clock;
  RateLimiter limiter(bucket(2, 60000ms), clock.fn());
  EXPECT_EQ(admitted(limiter, "a", 5), 2);
  EXPECT_EQ(admitted(limiter, "b", 5), 2);
  EXPECT_EQ(admitted(limiter, "a", 5), 0);
}

TEST(TokenBucket, ResetCountsDownToAFullBucket) {
  FakeClock clock;
  RateLimiter limiter(bucket(4, 4000ms), clock.fn());
  EXPECT_EQ(limiter.acquire("k").reset, 1s);
  EXPECT_EQ(limiter.acquire("k").reset, 2s);
  clock.advance(500ms);
  RateLimitDecision d = limiter.acquire("k");
  EXPECT_EQ(d.reset, 2500ms);
  EXPECT_EQ(d.remaining, 1u);
}

// ----- sliding window -------------------------------------------------------------------------

TEST(SlidingWindow, CountsWithinOneWindow) {
  FakeClock clock;
  clock.ns = 0;  // windows are aligned on the clock: start at a window's beginning
  RateLimiter limiter(sliding(5, 10000ms), clock.fn());
  for (std::uint64_t remaining : {4, 3, 2, 1, 0}) {
    RateLimitDecision d = limiter.acquire("k");
    EXPECT_TRUE(d.allowed);
    EXPECT_EQ(d.limit, 5u);
    EXPECT_EQ(d.remaining, remaining);
    EXPECT_EQ(d.reset, 20s);  // this window's count weighs until the end of the next one
  }
  RateLimitDecision d = limiter.acquire("k");
  EXPECT_FALSE(d.allowed);
  // Next window: 5 × (1 - e/10 s) + 1 <= 5 once e >= 2 s.
  EXPECT_EQ(d.retry_after, 12s);
}

TEST(SlidingWindow, ThePreviousWindowWeighsByItsUnelapsedShare) {
  FakeClock clock;
  clock.ns = 0;
  RateLimiter limiter(sliding(10, 10000ms), clock.fn());
  EXPECT_EQ(admitted(limiter, "k", 10), 10);
  clock.advance(10s + 3s);  // next window, 30% in: the previous counts 10 × 0.7 = 7
  EXPECT_EQ(admitted(limiter, "k", 10), 3);
  RateLimitDecision d = limiter.acquire("k");
  EXPECT_FALSE(d.allowed);
  // 10 × (1 - e/10 s) + 3 + 1 <= 10 once e >= 4 s: a second from now.
  EXPECT_EQ(d.retry_after, 1s);
  EXPECT_EQ(d.reset, 17s);
  clock.advance(1s);
  RateLimitDecision next = limiter.acquire("k");
  EXPECT_TRUE(next.allowed);
  EXPECT_EQ(next.remaining, 0u);  // 10 × 0.6 + 4 = 10
  clock.advance(500ms);           // 10 × 0.55 + 4 = 9.5: room for none
  EXPECT_FALSE(limiter.acquire("k").allowed);
  clock.advance(500ms);  // 10 × 0.5 + 4 = 9: room for one
  EXPECT_TRUE(limiter.acquire("k").allowed);
}

TEST(SlidingWindow, AWindowSkippedClearsTheCounts) {
  FakeClock clock;
  clock.ns = 0;
  RateLimiter limiter(sliding(3, 1000ms), clock.fn());
  EXPECT_EQ(admitted(limiter, "k", 5), 3);
  clock.advance(2s);  // two windows on: nothing of the first one weighs
  EXPECT_EQ(admitted(limiter, "k", 5), 3);
}

TEST(SlidingWindow, RefusesBurst) {
  RateLimiterOptions o = sliding(3, 1000ms);
  o.burst = 1;
  EXPECT_THROW(RateLimiter{o}, std::invalid_argument);
}

TEST(RateLimiter, RefusesZeroLimits) {
  EXPECT_THROW(RateLimiter{bucket(0, 1000ms)}, std::invalid_argument);
  EXPECT_THROW(RateLimiter{bucket(1, 0ms)}, std::invalid_argument);
  RateLimiterOptions o = bucket(1, 1000ms);
  o.max_keys = 0;
  EXPECT_THROW(RateLimiter{o}, std::invalid_argument);
}

// ----- memory ---------------------------------------------------------------------------------

TEST(RateLimiter, IdleKeysAreDroppedAsOthersArrive) {
  FakeClock clock;
  RateLimiter limiter(bucket(1, 1000ms), clock.fn());  // a bucket is full a second after use
  auto add = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i)
      EXPECT_TRUE(limiter.acquire(prefix + std::to_string(i)).allowed);
  };
  add("old-", 1000);
  EXPECT_EQ(limiter.size(), 1000u);
  clock.advance(999ms);  // not yet full again: nothing is idle
  add("new-", 1000);
  EXPECT_EQ(limiter.size(), 2000u);
  auto touch = [&](const std::string& prefix, int n) {
    for (int i = 0; i < n; ++i)
      limiter.acquire(prefix + std::to_string(i));
  };
  clock.advance(1ms);  // the old buckets are full again, the new ones not
  add("newer-", 1000);
  EXPECT_LT(limiter.size(), 2100u);
  // Each acquire drops up to two idle keys of its shard (the keys spread unevenly over the
  // shards, so a second round finishes the old keys off).
  touch("newer-", 1000);
  EXPECT_EQ(limiter.size(), 2000u);
  clock.advance(10s);  // all idle
  add("newest-", 1000);
  touch("newest-", 1000);
  touch("newest-", 1000);
  EXPECT_EQ(limiter.size(), 1000u);
}

TEST(RateLimiter, AKeyInUseIsNotDropped) {
  FakeClock clock;
  RateLimiterOptions o = bucket(3, 3000ms);
  o.max_keys = 1;  // one shard of one key: every other key evicts it...
  RateLimiter limiter(o, clock.fn());
  EXPECT_EQ(admitted(limiter, "a", 3), 3);
  EXPECT_FALSE(limiter.acquire("a").allowed);
  clock.advance(1s);  // ...but only idle keys are swept: "a" still owes two tokens
  EXPECT_EQ(admitted(limiter, "a", 3), 1);
  EXPECT_EQ(limiter.size(), 1u);
}

TEST(RateLimiter, SizeIsBoundedByMaxKeysEvictingTheLeastRecentlyUsed) {
  FakeClock clock;
  RateLimiterOptions o = bucket(1, 3600000ms);  // nothing goes idle during the test
  o.max_keys = 4;                               // one shard: exact least-recently-used
  RateLimiter limiter(o, clock.fn());
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(limiter.acquire("k" + std::to_string(i)).allowed);
    ASSERT_LE(limiter.size(), 4u);
  }
  EXPECT_EQ(limiter.size(), 4u);
  // The four most recent keys are still counted; an earlier one was evicted and starts afresh.
  for (int i = 996; i < 1000; ++i)
    EXPECT_FALSE(limiter.acquire("k" + std::to_string(i)).allowed) << i;
  EXPECT_TRUE(limiter.acquire("k995").allowed);

  o.max_keys = 100000;  // the default: 64 shards
  RateLimiter big(o, clock.fn());
  for (int i = 0; i < 200000; ++i)
    big.acquire("k" + std::to_string(i));
  EXPECT_LE(big.size(), 100000u);
  EXPECT_GE(big.size(), 99000u);  // each shard evicts only its own least recently used
}

TEST(RateLimiter, EvictsTheLeastRecentlyUsedKeyFirst) {
  FakeClock clock;
  RateLimiterOptions o = bucket(1, 3600000ms);
  o.max_keys = 2;
  RateLimiter limiter(o, clock.fn());
  EXPECT_TRUE(limiter.acquire("a").allowed);
  EXPECT_TRUE(limiter.acquire("b").allowed);
  EXPECT_FALSE(limiter.acquire("a").allowed);  // "a" is now the most recently used
  EXPECT_TRUE(limiter.acquire("c").allowed);   // evicts "b"
  EXPECT_EQ(limiter.size(), 2u);
  EXPECT_FALSE(limiter.acquire("a").allowed);  // still counted
  EXPECT_TRUE(limiter.acquire("b").allowed);   // a fresh bucket (evicting "c")
  EXPECT_TRUE(limiter.acquire("c").allowed);
}

// ----- threads --------------------------------------------------------------------------------

TEST(RateLimiter, ConcurrentAcquiresAdmitExactlyTheLimit) {
  for (RateLimitAlgorithm algorithm :
       {RateLimitAlgorithm::kTokenBucket, RateLimitAlgorithm::kSlidingWindow}) {
    FakeClock clock;
    clock.ns = 0;
    RateLimiterOptions o = bucket(100, 60000ms);
    o.algorithm = algorithm;
    RateLimiter limiter(o, clock.fn());
    constexpr int kThreads = 4;
    constexpr int kAttempts = 2000;
    std::atomic<int> allowed{0};
    std::atomic<int> shared_key_allowed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        for (int i = 0; i < kAttempts; ++i) {
          if (limiter.acquire("shared").allowed) ++shared_key_allowed;
          // Keys of many shards, some shared between threads, some not.
          if (limiter.acquire("k" + std::to_string(i % 7) + "-" + std::to_string(t % 2)).allowed) {
            ++allowed;
          }
        }
      });
    }
    for (std::thread& t : threads)
      t.join();
    EXPECT_EQ(shared_key_allowed.load(), 100);
    EXPECT_EQ(allowed.load(), 14 * 100);  // 7 × 2 keys, each tried about 570 times
  }
}

}  // namespace
}  // namespace rws::middleware
