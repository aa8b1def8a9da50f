#include "metrics/registry.hpp"

#include "metrics/exposition.hpp"

namespace rws::metrics {

std::size_t method_index(std::string_view method) noexcept {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i)
    if (kMethods[i] == method) return i;
  return kMethods.size() - 1;
}

std::size_t code_index(int status) noexcept {
  if (status < 100 || status > 599) return kCodes.size() - 1;
  return static_cast<std::size_t>(status / 100 - 1);
}

namespace {

// The sum over a slot's shards of the counter `field(shard)` selects.
template <class Slot, class Field>
std::uint64_t total(const Slot& slot, Field field) {
  std::uint64_t sum = 0;
  slot.for_each([&](const auto& shard) { sum += field(shard).load(std::memory_order_relaxed); });
  return sum;
}

// The merged histogram over a slot's shards of the histogram `field(shard)` selects.
template <class Slot, class Field>
HistogramSnapshot merged(const Slot& slot, Field field) {
  HistogramSnapshot sum;
  slot.for_each([&](const auto& shard) { sum += field(shard).snapshot(); });
  return sum;
}

}  // namespace

void Registry::record(const http::ExchangeRecord& exchange) noexcept {
  // A status outside 100..599 means no response was sent: not a request the server answered.
  if (exchange.status < 100 || exchange.status > 599) return;
  try {
    RouteCounters& route = routes_.get(exchange.route).local();
    route.requests[method_index(exchange.method) * kCodes.size() + code_index(exchange.status)]
        .fetch_add(1, std::memory_order_relaxed);
    route.response_bytes.fetch_add(exchange.body_bytes, std::memory_order_relaxed);
    route.request_bytes.fetch_add(exchange.request_bytes, std::memory_order_relaxed);
    route.duration.observe(exchange.duration);
    if (!exchange.upstream_address.empty()) {
      BackendCounters& backend =
          backends_.get(exchange.upstream, exchange.upstream_address).local();
      backend.requests[code_index(exchange.upstream_status)].fetch_add(1,
                                                                       std::memory_order_relaxed);
      if (exchange.upstream_time) {
        upstreams_.get(exchange.upstream).local().response_time.observe(*exchange.upstream_time);
      }
    }
  } catch (const std::bad_alloc&) {
    // Out of memory while creating a slot: this exchange goes uncounted.
  }
}

void Registry::count_reload(bool success) noexcept {
  reloads_[success ? 0 : 1].fetch_add(1, std::memory_order_relaxed);
}

void Registry::add_collector(Collector collector) {
  std::lock_guard lock(collectors_mutex_);
  collectors_.push_back(std::move(collector));
}

std::string Registry::scrape() const {
  std::string out;
  const auto& routes = routes_.entries();
  write_header(out, "rws_http_requests_total", "counter",
               "HTTP requests answered, by route, method and status class.");
  for (const auto& e : routes) {
    for (std::size_t m = 0; m < kMethods.size(); ++m) {
      for (std::size_t c = 0; c + 1 < kCodes.size(); ++c) {
        const std::size_t i = m * kCodes.size() + c;
        const std::uint64_t n = total(
            *e.slot, [i](const auto& r) -> auto& { return r.requests[i]; });
        if (n == 0) continue;
        write_sample(out, "rws_http_requests_total",
                     {{"route", e.first}, {"method", kMethods[m]}, {"code", kCodes[c]}}, n);
      }
    }
  }
  write_header(out, "rws_http_request_duration_seconds", "histogram",
               "Time from the start of a request to the end of its response, by route.");
  for (const auto& e : routes)
    write_histogram(out, "rws_http_request_duration_seconds", {{"route", e.first}},
                    merged(
                        *e.slot, [](const auto& r) -> auto& { return r.duration; }));
  write_header(out, "rws_http_response_bytes_total", "counter",
               "Response body bytes written, by route.");
  for (const auto& e : routes)
    write_sample(out, "rws_http_response_bytes_total", {{"route", e.first}},
                 total(
                     *e.slot, [](const auto& r) -> auto& { return r.response_bytes; }));
  write_header(out, "rws_http_request_bytes_total", "counter",
               "Request body bytes received, by route.");
  for (const auto& e : routes)
    write_sample(out, "rws_http_request_bytes_total", {{"route", e.first}},
                 total(
                     *e.slot, [](const auto& r) -> auto& { return r.request_bytes; }));

  write_header(out, "rws_upstream_requests_total", "counter",
               "Requests sent to backends (last attempt of each exchange), by status class; "
               "code=\"error\" when no response came.");
  for (const auto& e : backends_.entries()) {
    for (std::size_t c = 0; c < kCodes.size(); ++c) {
      const std::uint64_t n = total(
          *e.slot, [c](const auto& b) -> auto& { return b.requests[c]; });
      if (n == 0) continue;
      write_sample(out, "rws_upstream_requests_total",
                   {{"upstream", e.first}, {"backend", e.second}, {"code", kCodes[c]}}, n);
    }
  }
  write_header(out, "rws_upstream_response_seconds", "histogram",
               "Time from sending a request to a backend until its response head arrived.");
  for (const auto& e : upstreams_.entries())
    write_histogram(out, "rws_upstream_response_seconds", {{"upstream", e.first}},
                    merged(
                        *e.slot, [](const auto& u) -> auto& { return u.response_time; }));

  write_header(out, "rws_config_reloads_total", "counter", "Configuration reloads, by result.");
  write_sample(out, "rws_config_reloads_total", {{"result", "success"}},
               reloads_[0].load(std::memory_order_relaxed));
  write_sample(out, "rws_config_reloads_total", {{"result", "failure"}},
               reloads_[1].load(std::memory_order_relaxed));

  std::lock_guard lock(collectors_mutex_);
  for (const Collector& c : collectors_)
    c(out);
  return out;
}

}  // namespace rws::metrics
