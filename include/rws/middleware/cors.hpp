#pragma once
// CORS (the Fetch standard's CORS protocol) as middleware.
//
// Origins are compared exactly (scheme, host and port as the browser sends them). A preflight
// (OPTIONS with Origin and Access-Control-Request-Method) is answered here: 204 with the allowed
// methods, headers and max-age when the origin, method and headers are allowed, else 403 naming
// what is not. Other requests from an allowed origin pass on and get Access-Control-Allow-Origin
// (and -Credentials, -Expose-Headers) on the way out; from other origins they pass on untouched,
// so the browser withholds the response. Responses that depend on Origin carry `Vary: Origin`.

#include <chrono>
#include <string>
#include <vector>

#include <rws/app/handler.hpp>

namespace rws::middleware {

struct CorsOptions {
  bool allow_all = false;                  // any origin: "*" (never with credentials)
  std::vector<std::string> allow_origins;  // exact origins, e.g. "https://app.example.com"
  std::vector<std::string> allow_methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  std::vector<std::string> allow_headers;  // empty: only CORS-safelisted headers ("*": any)
  bool allow_credentials = false;          // ignored with allow_all
  std::vector<std::string> expose_headers;
  std::chrono::seconds max_age{86400};
};

Middleware cors(CorsOptions options);

}  // namespace rws::middleware
