#pragma once
// Endpoints every rws server answers before its own routes: GET/HEAD /healthz (liveness),
// GET/HEAD /readyz (readiness: 503 while draining), GET/HEAD on the metrics path when metrics
// are on (Prometheus text format, with rws_connections_active added) and OPTIONS * (server
// capabilities).

#include <atomic>
#include <memory>
#include <string>

#include <rws/http/service.hpp>

#include "metrics/registry.hpp"

namespace rws::server {

class BuiltinEndpoints final : public http::Service {
 public:
  // `metrics` null: no metrics endpoint. `connections`: the server's open connections, of which
  // `h2_connections` speak HTTP/2 (the others HTTP/1.1, or are still in their TLS handshake).
  BuiltinEndpoints(std::shared_ptr<http::Service> next, const std::atomic<bool>& draining,
                   std::shared_ptr<const metrics::Registry> metrics, std::string metrics_path,
                   const std::atomic<std::size_t>& connections,
                   const std::atomic<std::size_t>& h2_connections)
      : next_(std::move(next)),
        draining_(draining),
        metrics_(std::move(metrics)),
        metrics_path_(std::move(metrics_path)),
        connections_(connections),
        h2_connections_(h2_connections) {}

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

 private:
  http::Response scrape() const;

  std::shared_ptr<http::Service> next_;
  const std::atomic<bool>& draining_;
  std::shared_ptr<const metrics::Registry> metrics_;
  std::string metrics_path_;
  const std::atomic<std::size_t>& connections_;
  const std::atomic<std::size_t>& h2_connections_;
};

}  // namespace rws::server
