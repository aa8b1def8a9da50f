#include <algorithm>
#include <bit>
#include <functional>
#include <limits>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string>
#include <unordered_map>

#include <rws/middleware/rate_limiter.hpp>

namespace rws::middleware {
namespace {

// Exact products of counts and nanoseconds (both up to ~2^62).
__extension__ using Wide = unsigned __int128;

constexpr std::size_t kMaxShards = 64;
// A small limiter gets fewer shards, so each holds enough keys for its eviction to be close to
// least-recently-used over the whole limiter.
constexpr std::size_t kMinKeysPerShard = 16;
// Entries examined for idleness per acquire: more than the one an acquire can add, so idle keys
// drain faster than a steady stream of new keys creates them.
constexpr int kSweepPerAcquire = 2;
// The token bucket's full-at time must stay far from int64 overflow when added to a clock.
constexpr std::int64_t kMaxCapacityNs = std::int64_t{1} << 62;

// Per-key state. Token bucket: `at` is when the bucket is full again. Sliding window: `at` is
// the start of the current window, with the counts of it and of the one before.
struct KeyState {
  std::int64_t at = 0;
  std::uint32_t previous = 0;
  std::uint32_t current = 0;
};

std::int64_t floor_to(std::int64_t t, std::int64_t step) {
  std::int64_t r = t % step;
  return r < 0 ? t - r - step : t - r;
}

}  // namespace

// Cache-line aligned, so that threads working on neighbouring shards do not share a line.
struct alignas(64) RateLimiter::Shard {
  struct Entry {
    std::string key;
    KeyState state;
  };
  std::mutex mutex;
  std::list<Entry> lru;  // most recently used first; nodes never move, so `index` may view keys
  std::unordered_map<std::string_view, std::list<Entry>::iterator> index;
};

RateLimiter::RateLimiter(RateLimiterOptions options, Clock clock)
    : options_(options), clock_(std::move(clock)) {
  if (options_.max_requests == 0 || options_.max_requests > UINT32_MAX) {
    throw std::invalid_argument("rate limit: max_requests must be between 1 and 4294967295");
  }
  if (options_.window.count() <= 0) {
    throw std::invalid_argument("rate limit: the window must be positive");
  }
  if (options_.max_keys == 0) throw std::invalid_argument("rate limit: max_keys must be positive");
  if (options_.burst > 0 && options_.algorithm == RateLimitAlgorithm::kSlidingWindow) {
    throw std::invalid_argument("rate limit: burst applies to the token bucket only");
  }
  window_ns_ = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.window).count();
  // Rounded up: the bucket never refills faster than max_requests per window.
  const std::uint64_t max = options_.max_requests;
  interval_ns_ =
      static_cast<std::int64_t>((static_cast<std::uint64_t>(window_ns_) + max - 1) / max);
  const Wide capacity = Wide{max + options_.burst} * static_cast<std::uint64_t>(interval_ns_);
  if (capacity > static_cast<Wide>(kMaxCapacityNs)) {
    throw std::invalid_argument("rate limit: burst is too large for this window");
  }
  capacity_ns_ = static_cast<std::int64_t>(capacity);

  const std::size_t shards =
      std::bit_floor(std::clamp<std::size_t>(options_.max_keys / kMinKeysPerShard, 1, kMaxShards));
  shard_capacity_ = options_.max_keys / shards;
  shards_.reserve(shards);
  for (std::size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<Shard>());
}

RateLimiter::~RateLimiter() = default;

std::size_t RateLimiter::size() const {
  std::size_t n = 0;
  for (const auto& shard : shards_) {
    std::lock_guard lock(shard->mutex);
    n += shard->index.size();
  }
  return n;
}

RateLimitDecision RateLimiter::acquire(std::string_view key) {
  const std::int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_().time_since_epoch()).count();
  const std::size_t hash = std::hash<std::string_view>{}(key);
  // The high bits pick the shard; the map's buckets use the low ones.
  const std::size_t bits = static_cast<std::size_t>(std::countr_zero(shards_.size()));
  Shard& shard =
      *shards_[bits == 0 ? 0 : hash >> (std::numeric_limits<std::size_t>::digits - bits)];
  std::lock_guard lock(shard.mutex);
  return decide(shard, key, now);
}

RateLimitDecision RateLimiter::decide(Shard& shard, std::string_view key, std::int64_t now) {
  const bool bucket = options_.algorithm == RateLimitAlgorithm::kTokenBucket;
  const std::int64_t w = window_ns_;
  auto idle = [&](const KeyState& s) { return bucket ? s.at <= now : s.at + 2 * w <= now; };

  for (int i = 0; i < kSweepPerAcquire && !shard.lru.empty() && idle(shard.lru.back().state); ++i) {
    shard.index.erase(shard.lru.back().key);
    shard.lru.pop_back();
  }

  KeyState* state = nullptr;
  bool fresh = false;
  if (auto it = shard.index.find(key); it != shard.index.end()) {
    shard.lru.splice(shard.lru.begin(), shard.lru, it->second);
    state = &it->second->state;
  } else {
    if (shard.index.size() >= shard_capacity_) {
      shard.index.erase(shard.lru.back().key);
      shard.lru.pop_back();
    }
    shard.lru.push_front({std::string(key), {}});
    shard.index.emplace(shard.lru.front().key, shard.lru.begin());
    state = &shard.lru.front().state;
    fresh = true;
  }

  RateLimitDecision d;
  if (bucket) {
    // GCRA: each request moves the full-at time one interval later; the bucket holds
    // capacity_ns_ worth of intervals.
    d.limit = options_.max_requests + options_.burst;
    const std::int64_t tat = fresh ? now : std::max(state->at, now);
    const std::int64_t next = tat + interval_ns_;
    if (next - now > capacity_ns_) {
      d.retry_after = std::chrono::nanoseconds(next - now - capacity_ns_);
      d.reset = std::chrono::nanoseconds(tat - now);
      return d;
    }
    state->at = next;
    d.allowed = true;
    d.remaining = static_cast<std::uint64_t>((capacity_ns_ - (next - now)) / interval_ns_);
    d.reset = std::chrono::nanoseconds(next - now);
    return d;
  }

  // Sliding window: windows are aligned to multiples of the window on the clock. Another thread
  // may have read the clock a little later and rolled the window already: that time is used.
  d.limit = options_.max_requests;
  const std::int64_t t = fresh ? now : std::max(now, state->at);
  const std::int64_t start = floor_to(t, w);
  if (fresh || state->at + w < start) {
    *state = {start, 0, 0};
  } else if (state->at + w == start) {
    *state = {start, state->current, 0};
  }
  const std::uint64_t max = options_.max_requests;
  const std::uint64_t elapsed = static_cast<std::uint64_t>(t - start);
  const std::uint64_t unelapsed = static_cast<std::uint64_t>(w) - elapsed;
  const std::uint64_t uw = static_cast<std::uint64_t>(w);
  // Admitted when previous × unelapsed / w + current + 1 <= max, in integers.
  const Wide weighted = Wide{state->previous} * unelapsed;
  if (weighted + Wide{state->current + std::uint64_t{1}} * uw <= Wide{max} * uw) {
    ++state->current;
    d.allowed = true;
    d.remaining = static_cast<std::uint64_t>((Wide{max} * uw - weighted) / uw) - state->current;
    d.reset = std::chrono::nanoseconds(2 * w - static_cast<std::int64_t>(elapsed));
    return d;
  }
  // Denied: find the first instant that admits one more request, in this window (the previous
  // one's weight fading) or else in the next one (this one's weight fading).
  d.reset = std::chrono::nanoseconds((state->current > 0 ? 2 * w : w) -
                                     static_cast<std::int64_t>(elapsed));
  if (state->current < max && state->previous > 0) {
    const Wide room = Wide{max - state->current - 1} * uw / state->previous;
    if (room > 0) {
      const std::uint64_t at = uw - static_cast<std::uint64_t>(std::min<Wide>(room, uw));
      d.retry_after = std::chrono::nanoseconds(static_cast<std::int64_t>(at - elapsed));
      return d;
    }
  }
  std::uint64_t at = 0;
  if (state->current > 0) {
    const Wide room = Wide{max - 1} * uw / state->current;
    at = uw - static_cast<std::uint64_t>(std::min<Wide>(room, uw));
  }
  d.retry_after = std::chrono::nanoseconds(static_cast<std::int64_t>(unelapsed + at));
  return d;
}

}  // namespace rws::middleware
