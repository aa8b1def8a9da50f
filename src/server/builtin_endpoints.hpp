#pragma once
// Endpoints every rws server answers before its own routes: GET/HEAD /healthz (liveness),
// GET/HEAD /readyz (readiness: 503 while draining) and OPTIONS * (server capabilities).

#include <atomic>
#include <memory>

#include <rws/http/service.hpp>

namespace rws::server {

class BuiltinEndpoints final : public http::Service {
 public:
  BuiltinEndpoints(std::shared_ptr<http::Service> next, const std::atomic<bool>& draining)
      : next_(std::move(next)), draining_(draining) {}

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

 private:
  std::shared_ptr<http::Service> next_;
  const std::atomic<bool>& draining_;
};

}  // namespace rws::server
