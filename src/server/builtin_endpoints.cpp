#include "server/builtin_endpoints.hpp"

#include <algorithm>

#include "metrics/exposition.hpp"

namespace rws::server {
namespace {

http::Response probe(int status, std::string body) {
  http::Response r = http::Response::text(status, std::move(body));
  r.head.headers.add("Cache-Control", "no-store");
  return r;
}

}  // namespace

http::Response BuiltinEndpoints::scrape() const {
  std::string body = metrics_->scrape();
  metrics::write_header(body, "rws_connections_active", "gauge", "Open client connections.");
  const std::size_t all = connections_.load(std::memory_order_relaxed);
  const std::size_t h2 = std::min(all, h2_connections_.load(std::memory_order_relaxed));
  metrics::write_sample(body, "rws_connections_active", {{"protocol", "http1"}}, all - h2);
  metrics::write_sample(body, "rws_connections_active", {{"protocol", "http2"}}, h2);
  http::Response r = http::Response::text(200, std::move(body), metrics::kContentType);
  r.head.headers.add("Cache-Control", "no-store");
  return r;
}

asio::awaitable<http::Response> BuiltinEndpoints::handle(http::Request request,
                                                         http::RequestContext& context) {
  const http::RequestHead& head = request.head;
  const bool healthz = head.path == "/healthz";
  const bool readyz = head.path == "/readyz";
  const bool scrape_metrics = metrics_ && head.path == metrics_path_;
  if (healthz || readyz || scrape_metrics) {
    if (head.method != "GET" && head.method != "HEAD") {
      http::Response r = http::Response::text(405, "Method Not Allowed\n");
      r.head.headers.add("Allow", "GET, HEAD");
      co_return r;
    }
    if (healthz) co_return probe(200, "OK");
    if (scrape_metrics) co_return scrape();
    if (draining_.load(std::memory_order_relaxed)) co_return probe(503, "draining");
    co_return probe(200, "ready");
  }
  if (head.path == "*") {
    http::Response r = http::Response::empty(204);
    r.head.headers.add("Allow", "GET, HEAD, OPTIONS");
    co_return r;
  }
  co_return co_await next_->handle(std::move(request), context);
}

}  // namespace rws::server
