#include "proxy/balancer.hpp"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <random>

#include "core/thread_shards.hpp"

namespace rws::proxy {
namespace {

std::uint64_t hash64(std::string_view s, std::uint64_t seed = 0) {
  // FNV-1a, then a 64-bit finalizer: stable across runs and processes (unlike std::hash).
  std::uint64_t h = 1469598103934665603ull ^ seed;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdull;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ull;
  h ^= h >> 33;
  return h;
}

std::mt19937_64& rng() {
  thread_local std::mt19937_64 generator{std::random_device{}()};
  return generator;
}

// Nginx's smooth weighted round robin: every pick adds each eligible backend's weight to its
// running score and takes the highest, which then pays back the total; picks interleave in
// proportion to the weights. Each thread shard keeps scores of its own, as each nginx worker does
// without a shared zone: the picks of one worker interleave smoothly, all workers' picks
// together keep the proportions, and workers do not contend for one lock per request.
class RoundRobin final : public Balancer {
 public:
  explicit RoundRobin(std::vector<std::shared_ptr<Backend>> backends)
      : backends_(std::move(backends)) {}

  std::optional<std::size_t> pick(std::string_view, const Eligible& eligible) override {
    Scores& scores = scores_.local();
    std::lock_guard lock(scores.mutex);
    std::vector<std::int64_t>& current = scores.current;
    if (current.size() != backends_.size()) current.assign(backends_.size(), 0);
    std::int64_t total = 0;
    std::optional<std::size_t> best;
    for (std::size_t i = 0; i < backends_.size(); ++i) {
      if (!eligible(i)) continue;
      auto w = static_cast<std::int64_t>(backends_[i]->weight());
      current[i] += w;
      total += w;
      if (!best || current[i] > current[*best]) best = i;
    }
    if (best) current[*best] -= total;
    return best;
  }

 private:
  // A shard's scores; the mutex serialises the threads that share a shard.
  struct Scores {
    std::mutex mutex;
    std::vector<std::int64_t> current;  // sized on the shard's first pick
  };

  std::vector<std::shared_ptr<Backend>> backends_;
  core::ThreadShards<Scores> scores_;
};

// Fewest requests in flight relative to weight; ties go round the list.
class LeastConn final : public Balancer {
 public:
  explicit LeastConn(std::vector<std::shared_ptr<Backend>> backends)
      : backends_(std::move(backends)) {}

  bool uses_load() const noexcept override { return true; }

  std::optional<std::size_t> pick(std::string_view, const Eligible& eligible) override {
    std::size_t n = backends_.size();
    std::size_t start = next_.fetch_add(1, std::memory_order_relaxed);
    std::optional<std::size_t> best;
    double best_load = 0;
    for (std::size_t k = 0; k < n; ++k) {
      std::size_t i = (start + k) % n;
      if (!eligible(i)) continue;
      double load =
          (backends_[i]->in_flight.load(std::memory_order_relaxed) + 1.0) / backends_[i]->weight();
      if (!best || load < best_load) {
        best = i;
        best_load = load;
      }
    }
    return best;
  }

 private:
  std::vector<std::shared_ptr<Backend>> backends_;
  std::atomic<std::size_t> next_{0};
};

// Consistent hashing on a ring of virtual nodes (100 per unit of weight): a client keeps its
// backend while it is eligible, and a backend that goes away only moves its own clients.
class IpHash final : public Balancer {
 public:
  explicit IpHash(std::vector<std::shared_ptr<Backend>> backends) {
    for (std::size_t i = 0; i < backends.size(); ++i) {
      for (unsigned v = 0; v < 100 * backends[i]->weight(); ++v) {
        ring_.emplace_back(hash64(backends[i]->url(), v), i);
      }
    }
    std::sort(ring_.begin(), ring_.end());
  }

  std::optional<std::size_t> pick(std::string_view client, const Eligible& eligible) override {
    if (ring_.empty()) return std::nullopt;
    std::uint64_t h = hash64(client);
    auto it = std::lower_bound(ring_.begin(), ring_.end(), std::make_pair(h, std::size_t{0}));
    for (std::size_t k = 0; k < ring_.size(); ++k, ++it) {
      if (it == ring_.end()) it = ring_.begin();
      if (eligible(it->second)) return it->second;
    }
    return std::nullopt;
  }

 private:
  std::vector<std::pair<std::uint64_t, std::size_t>> ring_;
};

// Weighted random among the eligible backends.
class Random final : public Balancer {
 public:
  explicit Random(std::vector<std::shared_ptr<Backend>> backends)
      : backends_(std::move(backends)) {}

  std::optional<std::size_t> pick(std::string_view, const Eligible& eligible) override {
    std::uint64_t total = 0;
    for (std::size_t i = 0; i < backends_.size(); ++i) {
      if (eligible(i)) total += backends_[i]->weight();
    }
    if (total == 0) return std::nullopt;
    std::uint64_t r = rng()() % total;
    for (std::size_t i = 0; i < backends_.size(); ++i) {
      if (!eligible(i)) continue;
      if (r < backends_[i]->weight()) return i;
      r -= backends_[i]->weight();
    }
    return std::nullopt;
  }

 private:
  std::vector<std::shared_ptr<Backend>> backends_;
};

// Power of two choices: two random eligible backends, the one with less load (requests in
// flight times recent latency) wins.
class PowerOfTwo final : public Balancer {
 public:
  explicit PowerOfTwo(std::vector<std::shared_ptr<Backend>> backends)
      : backends_(std::move(backends)) {}

  bool uses_load() const noexcept override { return true; }

  std::optional<std::size_t> pick(std::string_view, const Eligible& eligible) override {
    std::vector<std::size_t> candidates;
    for (std::size_t i = 0; i < backends_.size(); ++i) {
      if (eligible(i)) candidates.push_back(i);
    }
    if (candidates.empty()) return std::nullopt;
    if (candidates.size() == 1) return candidates[0];
    std::size_t a = candidates[rng()() % candidates.size()];
    std::size_t b = candidates[rng()() % (candidates.size() - 1)];
    if (b == a) b = candidates.back();
    return score(a) <= score(b) ? a : b;
  }

 private:
  double score(std::size_t i) const {
    const Backend& b = *backends_[i];
    return (b.in_flight.load(std::memory_order_relaxed) + 1.0) * std::max(1.0, b.latency_us()) /
           b.weight();
  }

  std::vector<std::shared_ptr<Backend>> backends_;
};

}  // namespace

std::unique_ptr<Balancer> Balancer::make(config::Strategy strategy,
                                         std::vector<std::shared_ptr<Backend>> backends) {
  switch (strategy) {
    case config::Strategy::kRoundRobin:
      return std::make_unique<RoundRobin>(std::move(backends));
    case config::Strategy::kLeastConn:
      return std::make_unique<LeastConn>(std::move(backends));
    case config::Strategy::kIpHash:
      return std::make_unique<IpHash>(std::move(backends));
    case config::Strategy::kRandom:
      return std::make_unique<Random>(std::move(backends));
    case config::Strategy::kP2c:
      return std::make_unique<PowerOfTwo>(std::move(backends));
  }
  return std::make_unique<RoundRobin>(std::move(backends));
}

}  // namespace rws::proxy
