#include "gateway/backend_metrics.hpp"

#include <algorithm>

#include "metrics/exposition.hpp"

namespace rws::gateway {
namespace {

std::uint64_t circuit_value(proxy::Backend::Circuit circuit) {
  switch (circuit) {
    case proxy::Backend::Circuit::kClosed:
      return 0;
    case proxy::Backend::Circuit::kHalfOpen:
      return 1;
    case proxy::Backend::Circuit::kOpen:
      return 2;
  }
  return 0;
}

}  // namespace

metrics::Registry::Collector backend_state_collector(std::shared_ptr<const Gateway> gateway) {
  return [gateway = std::move(gateway)](std::string& out) {
    const proxy::Clock::time_point now = proxy::Clock::now();
    std::string healthy;
    std::string ejected;
    std::string circuit;
    std::string idle;
    gateway->for_each_backend([&](const proxy::Backend& b) {
      const metrics::Labels labels = {{"upstream", b.upstream()}, {"backend", b.authority()}};
      const bool out_now = b.ejected(now);
      metrics::write_sample(healthy, "rws_upstream_backend_healthy", labels,
                            b.healthy.load(std::memory_order_relaxed) && !out_now ? 1 : 0);
      metrics::write_sample(ejected, "rws_upstream_backend_ejected", labels, out_now ? 1 : 0);
      metrics::write_sample(circuit, "rws_upstream_circuit_state", labels,
                            circuit_value(b.circuit()));
      metrics::write_sample(idle, "rws_upstream_pool_idle_connections", labels,
                            std::max<std::int64_t>(0, b.idle_connection_count()));
    });
    metrics::write_header(out, "rws_upstream_backend_healthy", "gauge",
                          "1 while the backend is healthy for both active health checks and "
                          "passive outlier ejection, else 0.");
    out += healthy;
    metrics::write_header(out, "rws_upstream_backend_ejected", "gauge",
                          "1 while passive outlier ejection keeps the backend out, else 0.");
    out += ejected;
    metrics::write_header(out, "rws_upstream_circuit_state", "gauge",
                          "Circuit breaker state: 0 closed, 1 half-open, 2 open.");
    out += circuit;
    metrics::write_header(out, "rws_upstream_pool_idle_connections", "gauge",
                          "Idle keep-alive connections to the backend, all workers together.");
    out += idle;
  };
}

}  // namespace rws::gateway
