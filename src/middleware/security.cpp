#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rws/http/status.hpp>
#include <rws/middleware/security.hpp>

namespace rws::middleware {

Middleware security_headers(SecurityHeaderOptions options) {
  struct Fields {
    std::vector<std::pair<std::string, std::string>> always;
    std::string hsts;
  };
  auto fields = std::make_shared<Fields>();
  auto add = [&](const char* name, std::string& value) {
    if (!value.empty()) fields->always.emplace_back(name, std::move(value));
  };
  add("X-Content-Type-Options", options.content_type_options);
  add("X-Frame-Options", options.frame_options);
  add("Referrer-Policy", options.referrer_policy);
  add("Content-Security-Policy", options.content_security_policy);
  fields->hsts = std::move(options.strict_transport_security);
  return [fields](http::Request& request, Context& context,
                  Next next) -> asio::awaitable<http::Response> {
    http::Response response = co_await next(request, context);
    http::Headers& headers = response.head.headers;
    for (const auto& [name, value] : fields->always)
      headers.set_default(name, value);
    if (context.secure() && !fields->hsts.empty()) {
      headers.set_default("Strict-Transport-Security", fields->hsts);
    }
    co_return response;
  };
}

Middleware maintenance(MaintenanceOptions options) {
  auto settings = std::make_shared<const MaintenanceOptions>(std::move(options));
  return [settings](http::Request&, Context&, Next) -> asio::awaitable<http::Response> {
    http::Response response = http::Response::text(503, settings->message + "\n");
    if (settings->retry_after.count() > 0) {
      response.head.headers.set("Retry-After", std::to_string(settings->retry_after.count()));
    }
    response.head.headers.set("Cache-Control", "no-store");
    co_return response;
  };
}

}  // namespace rws::middleware
