#include <algorithm>
#include <memory>

#include <rws/http/headers.hpp>
#include <rws/middleware/cors.hpp>

#include "http/syntax.hpp"

namespace rws::middleware {
namespace {

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) {
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out;
}

bool contains_ci(const std::vector<std::string>& items, std::string_view value) {
  return std::any_of(items.begin(), items.end(),
                     [&](const std::string& item) { return http::iequals(item, value); });
}

// Splits a comma-separated list into trimmed, non-empty items.
std::vector<std::string_view> split_list(std::string_view list) {
  std::vector<std::string_view> out;
  while (!list.empty()) {
    std::size_t comma = list.find(',');
    std::string_view item = http::syntax::trim_ows(list.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    list.remove_prefix(comma + 1);
  }
  return out;
}

void add_vary(http::Headers& headers, std::string_view token) {
  std::string vary = headers.joined("vary");
  if (http::list_contains(vary, token) || http::list_contains(vary, "*")) return;
  headers.set("Vary", vary.empty() ? std::string(token) : vary + ", " + std::string(token));
}

struct Policy {
  CorsOptions options;
  bool wildcard;  // "*" as the allowed origin (allow_all)
  bool any_header;

  bool allows_origin(std::string_view origin) const {
    return options.allow_all ||
           std::find(options.allow_origins.begin(), options.allow_origins.end(), origin) !=
               options.allow_origins.end();
  }
  bool credentials() const { return options.allow_credentials && !wildcard; }

  void allow(http::Headers& headers, std::string_view origin) const {
    headers.set("Access-Control-Allow-Origin", wildcard ? std::string_view("*") : origin);
    if (credentials()) headers.set("Access-Control-Allow-Credentials", "true");
  }
};

http::Response refuse_preflight(const std::string& why) {
  http::Response r = http::Response::text(403, "Forbidden: CORS preflight refused: " + why + "\n");
  add_vary(r.head.headers, "Origin");
  return r;
}

}  // namespace

Middleware cors(CorsOptions options) {
  auto policy = std::make_shared<Policy>();
  policy->wildcard = options.allow_all;
  policy->any_header = std::find(options.allow_headers.begin(), options.allow_headers.end(), "*") !=
                       options.allow_headers.end();
  policy->options = std::move(options);
  return [policy](http::Request& request, Context& context,
                  Next next) -> asio::awaitable<http::Response> {
    const Policy& p = *policy;
    const std::string origin(request.head.headers.get("origin"));
    const bool has_origin = request.head.headers.contains("origin");
    const std::string_view requested_method =
        request.head.headers.get("access-control-request-method");
    if (has_origin && request.head.method == "OPTIONS" && !requested_method.empty()) {
      if (!p.allows_origin(origin))
        co_return refuse_preflight("origin '" + origin + "' is not allowed");
      if (!contains_ci(p.options.allow_methods, requested_method) && requested_method != "GET" &&
          requested_method != "HEAD" && requested_method != "POST") {
        co_return refuse_preflight("method '" + std::string(requested_method) + "' is not allowed");
      }
      const std::string requested_headers =
          request.head.headers.joined("access-control-request-headers");
      std::vector<std::string_view> asked = split_list(requested_headers);
      if (!p.any_header) {
        for (std::string_view name : asked) {
          if (!contains_ci(p.options.allow_headers, name)) {
            co_return refuse_preflight("header '" + std::string(name) + "' is not allowed");
          }
        }
      }
      http::Response r = http::Response::empty(204);
      p.allow(r.head.headers, origin);
      r.head.headers.set("Access-Control-Allow-Methods", join(p.options.allow_methods));
      if (!asked.empty()) {
        // The asked-for names, all of them allowed (a literal "*" is not honoured by browsers
        // for Authorization, so the names are listed).
        r.head.headers.set("Access-Control-Allow-Headers", requested_headers);
      }
      r.head.headers.set("Access-Control-Max-Age", std::to_string(p.options.max_age.count()));
      add_vary(r.head.headers, "Origin");
      add_vary(r.head.headers, "Access-Control-Request-Method");
      add_vary(r.head.headers, "Access-Control-Request-Headers");
      co_return r;
    }
    http::Response response = co_await next(request, context);
    if (!p.wildcard) add_vary(response.head.headers, "Origin");
    if (has_origin && p.allows_origin(origin)) {
      p.allow(response.head.headers, origin);
      if (!p.options.expose_headers.empty()) {
        response.head.headers.set("Access-Control-Expose-Headers", join(p.options.expose_headers));
      }
    }
    co_return response;
  };
}

}  // namespace rws::middleware
