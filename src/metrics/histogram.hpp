#pragma once
// A duration histogram with the fixed bucket bounds of every rws histogram. observe() is
// lock-free (relaxed atomics) and may be called from any thread; snapshot() reads a slightly
// moving but never torn view.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string_view>

namespace rws::metrics {

// Upper bounds in seconds, and the same bounds as they appear in le="...".
inline constexpr std::array<double, 11> kBucketBounds = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                         0.5,   1,    2.5,   5,    10};
inline constexpr std::array<std::string_view, 11> kBucketLabels = {
    "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10"};

struct HistogramSnapshot {
  // Per bucket (not cumulative); the last one holds the observations above every bound (+Inf).
  std::array<std::uint64_t, kBucketBounds.size() + 1> buckets{};
  double sum_seconds = 0;

  // Adds `other`'s observations (e.g. another shard's) to these.
  HistogramSnapshot& operator+=(const HistogramSnapshot& other) noexcept;
};

class Histogram {
 public:
  void observe(std::chrono::nanoseconds value) noexcept;
  HistogramSnapshot snapshot() const noexcept;

 private:
  std::array<std::atomic<std::uint64_t>, kBucketBounds.size() + 1> buckets_{};
  std::atomic<std::uint64_t> sum_ns_{0};
};

}  // namespace rws::metrics
