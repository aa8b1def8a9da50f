#include "server/builtin_endpoints.hpp"

#include <algorithm>

#include "metrics/exposition.hpp"

namespace rws::server {
namespace {

// An answer already made, as the awaitable a Service returns.
asio::awaitable<http::Response> ready(http::Response response) {
  co_return response;
}

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
  // Not a coroutine: requests for the application go straight to it.
  const http::RequestHead& head = request.head;
  const bool healthz = head.path == "/healthz";
  const bool readyz = head.path == "/readyz";
  const bool scrape_metrics = metrics_ && head.path == metrics_path_;
  if (healthz || readyz || scrape_metrics) {
    if (head.method != "GET" && head.method != "HEAD") {
      http::Response r = http::Response::text(405, "Method Not Allowed\n");
      r.head.headers.add("Allow", "GET, HEAD");
      return ready(std::move(r));
    }
    if (healthz) return ready(probe(200, "OK"));
    if (scrape_metrics) return ready(scrape());
    if (draining_.load(std::memory_order_relaxed)) return ready(probe(503, "draining"));
    return ready(probe(200, "ready"));
  }
  if (head.path == "*") {
    http::Response r = http::Response::empty(204);
    r.head.headers.add("Allow", "GET, HEAD, OPTIONS");
    return ready(std::move(r));
  }
  return next_->handle(std::move(request), context);
}

}  // namespace rws::server
