#include "l4/l4_metrics.hpp"

#include <algorithm>
#include <string>

#include "metrics/exposition.hpp"

namespace rws::l4 {

metrics::Registry::Collector l4_collector(std::shared_ptr<const L4Service> service) {
  return [service = std::move(service)](std::string& out) {
    std::string connections, active, sessions, bytes, failures, healthy;
    for (const std::shared_ptr<const ListenerStats>& s : service->stats()) {
      std::lock_guard lock(s->mutex);
      const std::string& name = s->name;
      metrics::write_sample(connections, "rws_l4_connections_total", {{"listener", name}},
                            s->connections.load(std::memory_order_relaxed));
      if (s->kind == ListenerStats::Kind::kTcp) {
        metrics::write_sample(
            active, "rws_l4_connections_active", {{"listener", name}},
            std::max<std::int64_t>(0, s->active_tcp.load(std::memory_order_relaxed)));
      } else {
        metrics::write_sample(
            sessions, "rws_l4_udp_sessions_active", {{"listener", name}},
            std::max<std::int64_t>(0, s->active_udp.load(std::memory_order_relaxed)));
      }
      metrics::write_sample(bytes, "rws_l4_bytes_total", {{"listener", name}, {"direction", "in"}},
                            s->bytes->a_to_b.load(std::memory_order_relaxed));
      metrics::write_sample(bytes, "rws_l4_bytes_total", {{"listener", name}, {"direction", "out"}},
                            s->bytes->b_to_a.load(std::memory_order_relaxed));
      for (const auto& [backend, count] : s->connect_failures) {
        metrics::write_sample(failures, "rws_l4_connect_failures_total",
                              {{"listener", name}, {"backend", backend}}, count);
      }
      for (const auto& b : s->backends) {
        metrics::write_sample(healthy, "rws_l4_backend_healthy",
                              {{"listener", name}, {"backend", b->url()}},
                              b->healthy.load(std::memory_order_relaxed) ? 1 : 0);
      }
    }
    auto section = [&out](const char* name, const char* type, const char* help,
                          const std::string& samples) {
      metrics::write_header(out, name, type, help);
      out += samples;
    };
    section("rws_l4_connections_total", "counter",
            "TCP connections accepted (tcp_proxy) or UDP sessions opened (udp_proxy).",
            connections);
    section("rws_l4_connections_active", "gauge",
            "TCP connections of the tcp_proxy spliced to a backend now.", active);
    section("rws_l4_udp_sessions_active", "gauge", "UDP sessions of the udp_proxy open now.",
            sessions);
    section("rws_l4_bytes_total", "counter",
            "Bytes forwarded: direction in is client to backend, out is backend to client.", bytes);
    section("rws_l4_connect_failures_total", "counter",
            "Failed connects (tcp_proxy) or socket setups (udp_proxy) to the backend.", failures);
    section("rws_l4_backend_healthy", "gauge",
            "1 while the backend's health check (if any) counts it healthy, else 0.", healthy);
  };
}

}  // namespace rws::l4
