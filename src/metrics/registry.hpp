#pragma once
// Registry: the metrics of one rws process. Workers feed it every finished exchange (it is an
// http::ExchangeLog); the reload path counts reloads; scrape() renders everything in the
// Prometheus text format, followed by what the collectors (gauges read at scrape time, such as
// the gateway's backend state) write.
//
// record() is called on every worker thread for every exchange: it takes no lock and builds no
// string once the route/upstream has been seen (see SlotTable); counters are relaxed atomics,
// kept per thread shard (core::ThreadShards) so that workers do not contend for their cache
// lines, and summed by scrape().

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/thread_shards.hpp"
#include "http/exchange_log.hpp"
#include "metrics/histogram.hpp"
#include "metrics/slot_table.hpp"

namespace rws::metrics {

// Label values of the `method` label: the common methods, and "other" for the rest.
inline constexpr std::array<std::string_view, 8> kMethods = {"GET",   "HEAD",   "POST",    "PUT",
                                                             "PATCH", "DELETE", "OPTIONS", "other"};
// Label values of `code`: the status class; the upstream counter adds "error" for an attempt
// that got no response (connection refused, timeout, malformed response).
inline constexpr std::array<std::string_view, 6> kCodes = {"1xx", "2xx", "3xx",
                                                           "4xx", "5xx", "error"};

// Index into kMethods.
std::size_t method_index(std::string_view method) noexcept;
// Index into kCodes: 0..4 for 100..599, 5 ("error") for anything else.
std::size_t code_index(int status) noexcept;

class Registry final : public http::ExchangeLog {
 public:
  // Writes more samples (with their HELP/TYPE lines) at the end of every scrape.
  using Collector = std::function<void(std::string& out)>;

  void record(const http::ExchangeRecord& exchange) noexcept override;
  void count_reload(bool success) noexcept;
  // Collectors are added while setting up, before serving; each runs on the scraping thread.
  void add_collector(Collector collector);

  std::string scrape() const;

 private:
  struct RouteCounters {
    std::array<std::atomic<std::uint64_t>, kMethods.size() * kCodes.size()> requests{};
    std::atomic<std::uint64_t> response_bytes{0};
    std::atomic<std::uint64_t> request_bytes{0};
    Histogram duration;
  };
  struct BackendCounters {
    std::array<std::atomic<std::uint64_t>, kCodes.size()> requests{};
  };
  struct UpstreamCounters {
    Histogram response_time;
  };
  using RouteSlot = core::ThreadShards<RouteCounters>;
  using BackendSlot = core::ThreadShards<BackendCounters>;
  using UpstreamSlot = core::ThreadShards<UpstreamCounters>;

  SlotTable<RouteSlot> routes_;
  SlotTable<BackendSlot> backends_;  // (upstream, backend address)
  SlotTable<UpstreamSlot> upstreams_;
  std::array<std::atomic<std::uint64_t>, 2> reloads_{};  // success, failure
  mutable std::mutex collectors_mutex_;
  std::vector<Collector> collectors_;
};

}  // namespace rws::metrics
