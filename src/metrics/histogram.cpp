#include "metrics/histogram.hpp"

namespace rws::metrics {
namespace {

// Bounds in nanoseconds, so that observe() compares integers.
constexpr std::array<std::int64_t, kBucketBounds.size()> bounds_ns() {
  std::array<std::int64_t, kBucketBounds.size()> out{};
  for (std::size_t i = 0; i < out.size(); ++i)
    out[i] = static_cast<std::int64_t>(kBucketBounds[i] * 1e9 + 0.5);
  return out;
}
constexpr std::array<std::int64_t, kBucketBounds.size()> kBoundsNs = bounds_ns();

}  // namespace

void Histogram::observe(std::chrono::nanoseconds value) noexcept {
  const std::int64_t ns = value.count() < 0 ? 0 : value.count();
  std::size_t i = 0;
  while (i < kBoundsNs.size() && ns > kBoundsNs[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_ns_.fetch_add(static_cast<std::uint64_t>(ns), std::memory_order_relaxed);
}

HistogramSnapshot& HistogramSnapshot::operator+=(const HistogramSnapshot& other) noexcept {
  for (std::size_t i = 0; i < buckets.size(); ++i)
    buckets[i] += other.buckets[i];
  sum_seconds += other.sum_seconds;
  return *this;
}

HistogramSnapshot Histogram::snapshot() const noexcept {
  HistogramSnapshot s;
  for (std::size_t i = 0; i < buckets_.size(); ++i)
    s.buckets[i] = buckets_[i].load(std::memory_order_relaxed);
  s.sum_seconds = static_cast<double>(sum_ns_.load(std::memory_order_relaxed)) / 1e9;
  return s;
}

}  // namespace rws::metrics
