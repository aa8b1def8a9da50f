// Per-request cost of the rate limiter (RateLimiter::acquire with the real monotonic clock):
// one client, many clients, and two threads sharing one limiter — on the same key (one shard's
// mutex contended) and on keys of their own (the shards keep them apart).
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DRWS_BUILD_BENCH=ON
//   cmake --build build/bench --target rate_limit_bench && build/bench/bench/rate_limit_bench

#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include <rws/middleware/rate_limiter.hpp>

namespace {

using rws::middleware::RateLimitAlgorithm;
using rws::middleware::RateLimiter;
using rws::middleware::RateLimiterOptions;

// 1000 an hour: a client's state stays between its requests, and most of them are refused (the
// refused path costs the same). With a short window a client seen again after its quota
// refilled is forgotten and re-inserted, which costs about what BM_Eviction measures.
RateLimiterOptions options(RateLimitAlgorithm algorithm) {
  RateLimiterOptions o;
  o.max_requests = 1000;
  o.window = std::chrono::hours(1);
  o.algorithm = algorithm;
  return o;
}

// Keys as the middleware builds them: a kind tag and an IPv4 address.
std::vector<std::string> client_keys(std::size_t n, int salt) {
  std::vector<std::string> keys;
  for (std::size_t i = 0; i < n; ++i) {
    keys.push_back("a10." + std::to_string(salt) + "." + std::to_string(i / 256 % 256) + "." +
                   std::to_string(i % 256));
  }
  return keys;
}

RateLimitAlgorithm algorithm_of(const benchmark::State& state) {
  return state.range(0) == 0 ? RateLimitAlgorithm::kTokenBucket
                             : RateLimitAlgorithm::kSlidingWindow;
}

void BM_OneClient(benchmark::State& state) {
  RateLimiter limiter(options(algorithm_of(state)));
  const std::string key = "a192.0.2.1";
  for (auto _ : state)
    benchmark::DoNotOptimize(limiter.acquire(key));
}
BENCHMARK(BM_OneClient)->ArgName("sliding")->Arg(0)->Arg(1);

// 10 000 clients in turn: every acquire touches a different entry (cache misses).
void BM_ManyClients(benchmark::State& state) {
  RateLimiter limiter(options(algorithm_of(state)));
  const std::vector<std::string> keys = client_keys(10000, 0);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.acquire(keys[i]));
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_ManyClients)->ArgName("sliding")->Arg(0)->Arg(1);

// New clients beyond max_keys: every acquire inserts a key and evicts the least recently used.
void BM_Eviction(benchmark::State& state) {
  RateLimiterOptions o = options(RateLimitAlgorithm::kTokenBucket);
  o.max_keys = 1000;
  RateLimiter limiter(o);
  const std::vector<std::string> keys = client_keys(100000, 1);
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.acquire(keys[i]));
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_Eviction);

// One limiter shared by the benchmark's threads (as by a server's workers).
RateLimiter& shared_limiter() {
  static RateLimiter limiter(options(RateLimitAlgorithm::kTokenBucket));
  return limiter;
}

void BM_SharedSameKey(benchmark::State& state) {
  RateLimiter& limiter = shared_limiter();
  const std::string key = "a192.0.2.1";
  for (auto _ : state)
    benchmark::DoNotOptimize(limiter.acquire(key));
}
BENCHMARK(BM_SharedSameKey)->Threads(1)->Threads(2)->UseRealTime();

void BM_SharedOwnKeys(benchmark::State& state) {
  RateLimiter& limiter = shared_limiter();
  const std::vector<std::string> keys = client_keys(10000, 2 + state.thread_index());
  std::size_t i = 0;
  for (auto _ : state) {
    benchmark::DoNotOptimize(limiter.acquire(keys[i]));
    if (++i == keys.size()) i = 0;
  }
}
BENCHMARK(BM_SharedOwnKeys)->Threads(1)->Threads(2)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
