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
  // `metrics` null: no metrics endpoint. `connections`: the server's open connections.
  BuiltinEndpoints(std::shared_ptr<http::Service> next, const std::atomic<bool>& draining,
                   std::shared_ptr<const metrics::Registry> metrics, std::string metrics_path,
                   const std::atomic<std::size_t>& connections)
      : next_(std::move(next)),
        draining_(draining),
        metrics_(std::move(metrics)),
        metrics_path_(std::move(metrics_path)),
        connections_(connections) {}

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

 private:
  http::Response scrape() const;

  std::shared_ptr<http::Service> next_;
  const std::atomic<bool>& draining_;
  std::shared_ptr<const metrics::Registry> metrics_;
  std::string metrics_path_;
  const std::atomic<std::size_t>& connections_;
};

}  // namespace rws::server
