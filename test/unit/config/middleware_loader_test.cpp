#include "config/middleware_loader.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/gateway_loader.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// As in gateway_loader_test: raw strings start with a newline, which load() drops so that line
// 1 is the first line shown.
struct Loaded {
  MiddlewareConfig defaults;
  GatewayConfig config;
  std::vector<std::string> errors;
  std::vector<std::string> warnings;

  std::string all() const {
    std::string out;
    for (const std::string& e : errors)
      out += "error: " + e + "\n";
    for (const std::string& w : warnings)
      out += "warning: " + w + "\n";
    return out;
  }
  const MiddlewareConfig& route(std::size_t i) const { return config.routes.at(i).middleware; }
};

Loaded load(std::string_view text) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  toml::table document = toml::parse(text, std::string_view("gw.toml"));
  Loaded out;
  Diagnostics diagnostics("gw.toml", out.errors, out.warnings);
  out.defaults = load_middleware_defaults(document, diagnostics);
  out.config = load_gateway(document, out.defaults, diagnostics);
  return out;
}

// ----- errors -----------------------------------------------------------------------------------

TEST(MiddlewareLoader, UnknownKeysWithDidYouMean) {
  Loaded r = load(R"(
[middleware]
max_body_sise = 10
request_id = { headr = "X-Id" }

[[route]]
name = "r"
action = { type = "respond" }
middleware = { timout_ms = 5, cors = { allow_origin = ["https://a.example"] } }
)");
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:3:16: [middleware] request_id: unknown key 'headr' (did you mean 'header'?)",
          "gw.toml:2:1: [middleware]: unknown key 'max_body_sise' (did you mean "
          "'max_body_size'?)",
          "gw.toml:8:40: [[route]] 'r' middleware cors: unknown key 'allow_origin' (did you mean "
          "'allow_origins'?)",
          "gw.toml:8:16: [[route]] 'r' middleware: unknown key 'timout_ms' (did you mean "
          "'timeout_ms'?)",
      }))
      << r.all();
  EXPECT_TRUE(r.warnings.empty()) << r.all();
}

TEST(MiddlewareLoader, MiddlewareNotInThisVersionIsRefused) {
  Loaded r = load(R"(
[middleware]
rate_limit = { max_requests = 5 }
auth = { type = "bearer", token_env = "TOKEN" }
forward_auth = { address = "http://auth:9000" }
cache = { ttl_secs = 5 }
compress = { algorithms = ["gzip"] }
)");
  const std::string tail =
      " is not available in this version yet; remove it rather than run the route without it";
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:2:14: [middleware]: rate_limit" + tail,
                          "gw.toml:3:8: [middleware]: auth" + tail,
                          "gw.toml:4:16: [middleware]: forward_auth" + tail,
                          "gw.toml:5:9: [middleware]: cache" + tail,
                          "gw.toml:6:12: [middleware]: compress" + tail,
                      }))
      << r.all();
  EXPECT_TRUE(r.defaults.empty());

  // The same in a route, in sub-table form.
  r = load(R"(
[[route]]
name = "api"
action = { type = "respond" }
[route.middleware.auth]
type = "basic"
htpasswd_file = "/etc/rws/htpasswd"
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:4:1: [[route]] 'api' middleware: auth" + tail}) << r.all();
}

TEST(MiddlewareLoader, BadCidrs) {
  Loaded r = load(R"(
[middleware]
ip_filter = { allow = ["10.0.0.1/8", "192.0.2.0/24", "nonsense"], deny = ["::1/129"] }
)");
  const std::string tail =
      "' is not an IP address or CIDR block (like 10.0.0.0/8 or 2001:db8::/32)";
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:2:23: [middleware] ip_filter: allow: '10.0.0.1/8" + tail,
                          "gw.toml:2:23: [middleware] ip_filter: allow: 'nonsense" + tail,
                          "gw.toml:2:74: [middleware] ip_filter: deny: '::1/129" + tail,
                      }))
      << r.all();
}

TEST(MiddlewareLoader, EmptyIpFilter) {
  Loaded r = load(R"(
[middleware]
ip_filter = {}

[[route]]
name = "r"
action = { type = "respond" }
[route.middleware.ip_filter]
allow = []
deny = []
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:13: [middleware] ip_filter: ip_filter needs an allow or a deny list",
                "gw.toml:7:1: [[route]] 'r' middleware ip_filter: ip_filter needs an allow or a "
                "deny list",
            }))
      << r.all();
}

TEST(MiddlewareLoader, CorsOriginStarIsRefused) {
  Loaded r = load(R"(
[cors]
allow_origins = ["https://a.example", "*"]
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:17: [cors]: allow_origins: use allow_all = true for any "
                              "origin, not \"*\""})
      << r.all();
}

TEST(MiddlewareLoader, CorsOriginsMustBeBareOrigins) {
  Loaded r = load(R"(
[cors]
allow_origins = ["https://a.example/app", "https://b.example/", "c.example", "https://", "http://d.example:8080"]
)");
  const std::string tail = "' is not an origin (scheme://host[:port], no path)";
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:2:17: [cors]: allow_origins: 'https://a.example/app" + tail,
                          "gw.toml:2:17: [cors]: allow_origins: 'https://b.example/" + tail,
                          "gw.toml:2:17: [cors]: allow_origins: 'c.example" + tail,
                          "gw.toml:2:17: [cors]: allow_origins: 'https://" + tail,
                      }))
      << r.all();
}

TEST(MiddlewareLoader, CorsOriginsWithQueryFragmentOrSpacesAreRefused) {
  // An origin is scheme://host[:port] and "nothing else" (middleware_loader.cpp); these can never
  // equal what a browser sends, so accepting them silently leaves CORS broken.
  Loaded r = load(R"(
[cors]
allow_origins = ["https://a.example?x=1", "https://b.example#top", "https://c example"]
)");
  const std::string tail = "' is not an origin (scheme://host[:port], no path)";
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:2:17: [cors]: allow_origins: 'https://a.example?x=1" + tail,
                          "gw.toml:2:17: [cors]: allow_origins: 'https://b.example#top" + tail,
                          "gw.toml:2:17: [cors]: allow_origins: 'https://c example" + tail,
                      }))
      << r.all();
}

TEST(MiddlewareLoader, CorsEmptyOriginList) {
  Loaded r = load(R"(
[cors]
allow_origins = []
)");
  EXPECT_EQ(r.errors,
            Strings{"gw.toml:2:17: [cors]: allow_origins is empty: no origin would be allowed"})
      << r.all();

  // With allow_all an empty list is fine.
  r = load(R"(
[cors]
allow_all = true
allow_origins = []
)");
  EXPECT_TRUE(r.errors.empty()) << r.all();
}

TEST(MiddlewareLoader, CorsAllowAllWithCredentials) {
  Loaded r = load(R"(
[[route]]
name = "r"
action = { type = "respond" }
middleware = { cors = { allow_all = true, allow_credentials = true } }
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:4:63: [[route]] 'r' middleware cors: allow_credentials "
                              "cannot be combined with allow_all (credentialed requests need an "
                              "exact origin list in allow_origins)"})
      << r.all();
}

TEST(MiddlewareLoader, BadHeaderNames) {
  Loaded r = load(R"(
[middleware]
request_id = { header = "X Request Id" }
headers = { set = { "Bad Name" = "x", "X-Ok" = "fine" }, add = { "X-Ctl" = "a\u0001b", "X-Num" = 5 }, remove = ["Server"] }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:25: [middleware] request_id: header: 'X Request Id' is not a valid "
                "header name",
                "gw.toml:3:19: [middleware] headers: set: 'Bad Name' is not a valid header name",
                "gw.toml:3:64: [middleware] headers: add: the value of 'X-Ctl' must be a string "
                "without control characters",
                "gw.toml:3:64: [middleware] headers: add: the value of 'X-Num' must be a string "
                "without control characters",
            }))
      << r.all();
}

TEST(MiddlewareLoader, BadHeaderNamesInHeadersRemove) {
  // "bad values are reported" (CONFIG.md): a name that cannot be a header is a typo to report,
  // as it is for set and add.
  Loaded r = load(R"(
[middleware]
headers = { remove = ["Server", "X Powered By"] }
)");
  EXPECT_EQ(r.errors.size(), 1u) << r.all();
  if (!r.errors.empty()) {
    EXPECT_EQ(r.errors[0].substr(0, 16), "gw.toml:2:33: [m") << r.all();
    EXPECT_NE(r.errors[0].find("'X Powered By'"), std::string::npos) << r.all();
  }
}

TEST(MiddlewareLoader, TimeoutAndBodySizeOutOfRange) {
  const std::string range = " must be an integer between 1 and 86400000";
  for (std::string_view value : {"0", "-5", "86400001", "\"30\"", "1.5"}) {
    Loaded r = load("[middleware]\ntimeout_ms = " + std::string(value) + "\n");
    EXPECT_EQ(r.errors, Strings{"gw.toml:2:14: [middleware]: timeout_ms" + range}) << value;
    EXPECT_FALSE(r.defaults.timeout.has_value()) << value;
  }
  Loaded r = load("[middleware]\ntimeout_ms = 86400000\nmax_body_size = 0\n");
  EXPECT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.defaults.timeout, milliseconds(86400000));
  EXPECT_EQ(r.defaults.max_body_size, 0u);

  r = load("[middleware]\nmax_body_size = -1\n");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:17: [middleware]: max_body_size must be an integer "
                              "between 0 and 9223372036854775807"})
      << r.all();
}

TEST(MiddlewareLoader, CorsInBothPlacesIsAnError) {
  Loaded r = load(R"(
[middleware]
cors = { allow_origins = ["https://a.example"] }

[cors]
allow_origins = ["https://b.example"]
)");
  EXPECT_EQ(r.errors,
            Strings{"gw.toml:4:1: [cors] and [middleware] cors both configure CORS; keep one"})
      << r.all();
}

TEST(MiddlewareLoader, MiddlewareAndCorsMustBeTables) {
  Loaded r = load(R"(
middleware = 5
cors = "yes"
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:1:14: 'middleware' must be a table ([middleware])",
                          "gw.toml:2:8: 'cors' must be a table ([cors])",
                      }))
      << r.all();
}

// ----- values and inheritance -------------------------------------------------------------------

TEST(MiddlewareLoader, ReadsEveryKey) {
  Loaded r = load(R"(
[middleware]
request_id = {}
ip_filter = { allow = ["10.0.0.0/8", "2001:db8::/32"], deny = "10.6.0.0/16" }
max_body_size = 1048576
timeout_ms = 2500
headers = { set = { "X-Frame-Options" = "DENY" }, add = { "Link" = "</a>" }, remove = ["Server"] }
cors = { allow_origins = ["https://a.example"], allow_methods = ["GET"], allow_headers = ["X-Token"], allow_credentials = true, expose_headers = ["X-Total"], max_age = 60 }
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  const MiddlewareConfig& m = r.defaults;
  EXPECT_EQ(m.request_id_header, "X-Request-Id");  // the default header
  ASSERT_TRUE(m.ip_filter.has_value());
  EXPECT_EQ(m.ip_filter->allow, (Strings{"10.0.0.0/8", "2001:db8::/32"}));
  EXPECT_EQ(m.ip_filter->deny, Strings{"10.6.0.0/16"});
  EXPECT_EQ(m.max_body_size, 1048576u);
  EXPECT_EQ(m.timeout, milliseconds(2500));
  ASSERT_TRUE(m.headers.has_value());
  EXPECT_EQ(m.headers->set, (Pairs{{"X-Frame-Options", "DENY"}}));
  EXPECT_EQ(m.headers->add, (Pairs{{"Link", "</a>"}}));
  EXPECT_EQ(m.headers->remove, Strings{"Server"});
  ASSERT_TRUE(m.cors.has_value());
  EXPECT_FALSE(m.cors->allow_all);
  EXPECT_EQ(m.cors->allow_origins, Strings{"https://a.example"});
  EXPECT_EQ(m.cors->allow_methods, Strings{"GET"});
  EXPECT_EQ(m.cors->allow_headers, Strings{"X-Token"});
  EXPECT_TRUE(m.cors->allow_credentials);
  EXPECT_EQ(m.cors->expose_headers, Strings{"X-Total"});
  EXPECT_EQ(m.cors->max_age, seconds(60));
}

TEST(MiddlewareLoader, NothingConfiguredIsEmpty) {
  Loaded r = load(R"(
[[route]]
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_TRUE(r.defaults.empty());
  EXPECT_TRUE(r.route(0).empty());
}

TEST(MiddlewareLoader, DefaultsReachEveryRoute) {
  Loaded r = load(R"(
[middleware]
request_id = { header = "X-Trace" }
ip_filter = { allow = ["10.0.0.0/8"] }
max_body_size = 1000
timeout_ms = 3000
headers = { set = { "X-A" = "1" } }

[[route]]
name = "one"
action = { type = "respond" }

[[route]]
name = "two"
action = { type = "respond" }
middleware = {}
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_EQ(r.config.routes.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const MiddlewareConfig& m = r.route(i);
    EXPECT_EQ(m.request_id_header, "X-Trace") << i;
    ASSERT_TRUE(m.ip_filter.has_value()) << i;
    EXPECT_EQ(m.ip_filter->allow, Strings{"10.0.0.0/8"}) << i;
    EXPECT_EQ(m.max_body_size, 1000u) << i;
    EXPECT_EQ(m.timeout, milliseconds(3000)) << i;
    ASSERT_TRUE(m.headers.has_value()) << i;
    EXPECT_EQ(m.headers->set, (Pairs{{"X-A", "1"}})) << i;
    EXPECT_FALSE(m.cors.has_value()) << i;
  }
}

TEST(MiddlewareLoader, RouteKeysReplaceDefaultsKeyByKey) {
  Loaded r = load(R"(
[middleware]
ip_filter = { allow = ["10.0.0.0/8"], deny = ["10.6.0.0/16"] }
max_body_size = 1000
timeout_ms = 3000
headers = { set = { "X-A" = "1" }, remove = ["Server"] }

[[route]]
name = "own"
action = { type = "respond" }
[route.middleware]
timeout_ms = 100
ip_filter = { deny = ["192.0.2.0/24"] }
headers = { add = { "X-B" = "2" } }
request_id = {}

[[route]]
name = "inherits"
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const MiddlewareConfig& own = r.route(0);
  EXPECT_EQ(own.timeout, milliseconds(100));
  EXPECT_EQ(own.max_body_size, 1000u);  // not set on the route: the default
  ASSERT_TRUE(own.ip_filter.has_value());
  EXPECT_TRUE(own.ip_filter->allow.empty());  // the whole ip_filter was replaced, not merged
  EXPECT_EQ(own.ip_filter->deny, Strings{"192.0.2.0/24"});
  ASSERT_TRUE(own.headers.has_value());
  EXPECT_TRUE(own.headers->set.empty());
  EXPECT_TRUE(own.headers->remove.empty());
  EXPECT_EQ(own.headers->add, (Pairs{{"X-B", "2"}}));
  EXPECT_EQ(own.request_id_header, "X-Request-Id");  // only on this route

  const MiddlewareConfig& inherits = r.route(1);
  EXPECT_EQ(inherits.timeout, milliseconds(3000));
  ASSERT_TRUE(inherits.ip_filter.has_value());
  EXPECT_EQ(inherits.ip_filter->allow, Strings{"10.0.0.0/8"});
  EXPECT_EQ(inherits.ip_filter->deny, Strings{"10.6.0.0/16"});
  ASSERT_TRUE(inherits.headers.has_value());
  EXPECT_EQ(inherits.headers->set, (Pairs{{"X-A", "1"}}));
  EXPECT_FALSE(inherits.request_id_header.has_value());
  // The defaults themselves are unchanged by a route's overlay.
  EXPECT_EQ(r.defaults.timeout, milliseconds(3000));
  EXPECT_FALSE(r.defaults.request_id_header.has_value());
}

TEST(MiddlewareLoader, GlobalCorsIsTheDefaultCors) {
  Loaded r = load(R"(
[cors]
allow_origins = ["https://a.example", "https://b.example:8443"]
allow_headers = ["X-Token"]

[[route]]
name = "plain"
action = { type = "respond" }

[[route]]
name = "open"
action = { type = "respond" }
middleware = { cors = { allow_all = true } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.cors.has_value());
  const MiddlewareConfig& plain = r.route(0);
  ASSERT_TRUE(plain.cors.has_value());
  EXPECT_FALSE(plain.cors->allow_all);
  EXPECT_EQ(plain.cors->allow_origins, (Strings{"https://a.example", "https://b.example:8443"}));
  EXPECT_EQ(plain.cors->allow_headers, Strings{"X-Token"});
  // Unset keys keep the documented defaults.
  EXPECT_EQ(plain.cors->allow_methods, (Strings{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"}));
  EXPECT_FALSE(plain.cors->allow_credentials);
  EXPECT_TRUE(plain.cors->expose_headers.empty());
  EXPECT_EQ(plain.cors->max_age, seconds(86400));

  const MiddlewareConfig& open = r.route(1);
  ASSERT_TRUE(open.cors.has_value());
  EXPECT_TRUE(open.cors->allow_all);
  EXPECT_TRUE(open.cors->allow_origins.empty());  // the route's cors replaces the default whole
  EXPECT_TRUE(open.cors->allow_headers.empty());
}

// ----- rewrite -----------------------------------------------------------------------------------

using RuleType = RewriteRule::Type;

TEST(MiddlewareLoader, RewriteRulesInEveryForm) {
  Loaded r = load(R"(
[[route]]
name = "api"
action = { type = "respond" }

[[route.middleware.rewrite.request]]
header_set = { name = "X-A", value = "1" }

[[route.middleware.rewrite.request]]
[route.middleware.rewrite.request.uri_regex]
pattern = '^/users/(?P<id>\d+)$'
replacement = "/u/${id}?full=1"

[[route.middleware.rewrite.request]]
type = "uri_strip_prefix"
prefix = "/api"

[[route.middleware.rewrite.request]]
type = "uri_add_prefix"
uri_add_prefix = { prefix = "/v2" }

[[route.middleware.rewrite.response]]
status_set = { code = 203, reason = "Rewritten" }

[[route.middleware.rewrite.response]]
body_replace = { from = "internal", to = "" }

[[route]]
name = "inline"
action = { type = "respond" }
middleware = { rewrite = { request = [{ uri_set = { value = "/x?y=1" } }, { header_remove = { name = "Cookie" } }], response = [{ type = "header_add", name = "X-B", value = "2" }] } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_TRUE(r.warnings.empty()) << r.all();
  ASSERT_TRUE(r.route(0).rewrite.has_value());
  const RewriteConfig& api = *r.route(0).rewrite;
  ASSERT_EQ(api.request.size(), 4u);
  EXPECT_EQ(api.request[0].type, RuleType::kHeaderSet);
  EXPECT_EQ(api.request[0].name, "X-A");
  EXPECT_EQ(api.request[0].value, "1");
  EXPECT_EQ(api.request[1].type, RuleType::kUriRegex);
  EXPECT_EQ(api.request[1].pattern, "^/users/(?P<id>\\d+)$");
  EXPECT_EQ(api.request[1].replacement, "/u/${id}?full=1");
  EXPECT_EQ(api.request[2].type, RuleType::kUriStripPrefix);
  EXPECT_EQ(api.request[2].prefix, "/api");
  EXPECT_EQ(api.request[3].type, RuleType::kUriAddPrefix);
  EXPECT_EQ(api.request[3].prefix, "/v2");
  ASSERT_EQ(api.response.size(), 2u);
  EXPECT_EQ(api.response[0].type, RuleType::kStatusSet);
  EXPECT_EQ(api.response[0].code, 203);
  EXPECT_EQ(api.response[0].reason, "Rewritten");
  EXPECT_EQ(api.response[1].type, RuleType::kBodyReplace);
  EXPECT_EQ(api.response[1].from, "internal");
  EXPECT_EQ(api.response[1].to, "");

  ASSERT_TRUE(r.route(1).rewrite.has_value());
  const RewriteConfig& in = *r.route(1).rewrite;
  ASSERT_EQ(in.request.size(), 2u);
  EXPECT_EQ(in.request[0].type, RuleType::kUriSet);
  EXPECT_EQ(in.request[0].value, "/x?y=1");
  EXPECT_EQ(in.request[1].type, RuleType::kHeaderRemove);
  ASSERT_EQ(in.response.size(), 1u);
  EXPECT_EQ(in.response[0].type, RuleType::kHeaderAdd);
  EXPECT_EQ(in.response[0].value, "2");
}

TEST(MiddlewareLoader, RewriteHistoricalTypeNamesAreWarned) {
  Loaded r = load(R"(
[middleware]
rewrite.request = [
  { set_header = { name = "X-A", value = "1" } },
  { remove_header = { name = "X-B" } },
  { set_uri = { value = "/x" } },
  { strip_prefix = { prefix = "/a" } },
  { strip_path_prefix = { prefix = "/b" } },
  { add_prefix = { prefix = "/c" } },
  { type = "add_path_prefix", prefix = "/d" },
]
rewrite.response = [
  { status = { code = 404 } },
  { set_status = { code = 410 } },
  { replace_body = { from = "a", to = "b" } },
]
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const std::string what = ": [middleware] rewrite.";
  EXPECT_EQ(
      r.warnings,
      (Strings{
          "gw.toml:3:5" + what + "request[1]: 'set_header' is deprecated; use 'header_set'",
          "gw.toml:4:5" + what + "request[2]: 'remove_header' is deprecated; use 'header_remove'",
          "gw.toml:5:5" + what + "request[3]: 'set_uri' is deprecated; use 'uri_set'",
          "gw.toml:6:5" + what + "request[4]: 'strip_prefix' is deprecated; use 'uri_strip_prefix'",
          "gw.toml:7:5" + what +
              "request[5]: 'strip_path_prefix' is deprecated; use 'uri_strip_prefix'",
          "gw.toml:8:5" + what + "request[6]: 'add_prefix' is deprecated; use 'uri_add_prefix'",
          "gw.toml:9:12" + what +
              "request[7]: 'add_path_prefix' is deprecated; use 'uri_add_prefix'",
          "gw.toml:12:5" + what + "response[1]: 'status' is deprecated; use 'status_set'",
          "gw.toml:13:5" + what + "response[2]: 'set_status' is deprecated; use 'status_set'",
          "gw.toml:14:5" + what + "response[3]: 'replace_body' is deprecated; use 'body_replace'",
      }))
      << r.all();
  ASSERT_TRUE(r.defaults.rewrite.has_value());
  const RewriteConfig& rw = *r.defaults.rewrite;
  ASSERT_EQ(rw.request.size(), 7u);
  EXPECT_EQ(rw.request[0].type, RuleType::kHeaderSet);
  EXPECT_EQ(rw.request[1].type, RuleType::kHeaderRemove);
  EXPECT_EQ(rw.request[2].type, RuleType::kUriSet);
  EXPECT_EQ(rw.request[3].type, RuleType::kUriStripPrefix);
  EXPECT_EQ(rw.request[4].type, RuleType::kUriStripPrefix);
  EXPECT_EQ(rw.request[5].type, RuleType::kUriAddPrefix);
  EXPECT_EQ(rw.request[6].type, RuleType::kUriAddPrefix);
  EXPECT_EQ(rw.request[6].prefix, "/d");
  ASSERT_EQ(rw.response.size(), 3u);
  EXPECT_EQ(rw.response[0].type, RuleType::kStatusSet);
  EXPECT_EQ(rw.response[0].code, 404);
  EXPECT_EQ(rw.response[1].code, 410);
  EXPECT_EQ(rw.response[2].type, RuleType::kBodyReplace);
}

TEST(MiddlewareLoader, RewriteTypeErrors) {
  Loaded r = load(R"(
[middleware]
rewrite.request = [
  { hedaer_set = { name = "X-A", value = "1" } },
  { status_set = { code = 404 } },
  { type = "uri_rgex", pattern = "a", replacement = "b" },
  { name = "X-A", value = "1" },
  { header_set = { name = "X-A", value = "1" }, header_add = { name = "X-B", value = "2" } },
  {},
  "header_set",
  { uri_set = "/x" },
]
rewrite.response = [
  { uri_set = { value = "/" } },
  { status = "404" },
]
rewrite.requests = []
)");
  const std::string what = ": [middleware] rewrite.";
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:3:5" + what +
              "request[1]: unknown request rule type 'hedaer_set' (did you mean 'header_set'?)",
          "gw.toml:4:5" + what +
              "request[2]: 'status_set' is a response rule; it belongs in rewrite.response",
          "gw.toml:5:12" + what +
              "request[3]: unknown request rule type 'uri_rgex' (did you mean 'uri_regex'?)",
          "gw.toml:6:3" + what + "request[4]: type is required (type = \"header_set\", …)",
          "gw.toml:7:3" + what +
              "request[5]: a rule has one type, but 2 are given; write one rule per array element",
          "gw.toml:8:3" + what +
              "request[6]: empty rule; write { <type> = { ... } }, e.g. { header_set = { name = "
              "\"X-A\", value = \"1\" } }",
          "gw.toml:9:3" + what + "request[7]: a rule is a table",
          "gw.toml:10:5" + what +
              "request[8]: 'uri_set' must be a table of the rule's fields, or write type = "
              "\"<type>\" with the fields beside it",
          "gw.toml:13:5" + what +
              "response[1]: 'uri_set' is a request rule; it belongs in rewrite.request",
          "gw.toml:14:5" + what +
              "response[2]: 'status' must be a table of the rule's fields, or write type = "
              "\"<type>\" with the fields beside it",
          "gw.toml:16:9: [middleware] rewrite: unknown key 'requests' (did you mean 'request'?)",
      }))
      << r.all();
}

TEST(MiddlewareLoader, RewriteFieldErrors) {
  Loaded r = load(R"(
[[route]]
name = "r"
action = { type = "respond" }
[[route.middleware.rewrite.request]]
header_set = { nmae = "X-A", value = "1" }
[[route.middleware.rewrite.request]]
header_add = { name = "Host", value = "x" }
[[route.middleware.rewrite.request]]
header_remove = { name = "Content-Length" }
[[route.middleware.rewrite.request]]
uri_regex = { pattern = "^/(a", replacement = "/" }
[[route.middleware.rewrite.request]]
uri_regex = { pattern = "^/(a)(?P<b>b)$", replacement = "/$3/${c}" }
[[route.middleware.rewrite.request]]
uri_regex = { pattern = "^/(a)$", replacement = "/<$1>" }
[[route.middleware.rewrite.request]]
uri_set = { value = "relative" }
[[route.middleware.rewrite.request]]
uri_strip_prefix = { prefix = "/api/" }
[[route.middleware.rewrite.request]]
type = "header_set"
header_set = { name = "X-A", value = "1" }
value = "stray"
[[route.middleware.rewrite.response]]
header_set = { name = "Transfer-Encoding", value = "chunked" }
[[route.middleware.rewrite.response]]
status_set = { code = 700 }
[[route.middleware.rewrite.response]]
status_set = { code = 103 }
[[route.middleware.rewrite.response]]
status_set = { reason = "No code" }
[[route.middleware.rewrite.response]]
body_replace = { from = "", to = "x" }
[[route.middleware.rewrite.response]]
body_replace = { from = "a" }
)");
  const std::string what = ": [[route]] 'r' middleware rewrite.";
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:5:14" + what + "request[1] (header_set): name is required",
          "gw.toml:5:16" + what +
              "request[1] (header_set): unknown key 'nmae' (did you mean 'name'?)",
          "gw.toml:7:23" + what +
              "request[2] (header_add): name: 'Host' is written by the proxy (the backend's "
              "authority, or the client's with preserve_host) and cannot be edited",
          "gw.toml:9:26" + what +
              "request[3] (header_remove): name: 'Content-Length' is written by rws itself "
              "(message framing, hop-by-hop) and cannot be edited",
          "gw.toml:11:25" + what +
              "request[4] (uri_regex): pattern '^/(a': invalid pattern: missing ): ^/(a",
          "gw.toml:13:57" + what +
              "request[5] (uri_regex): replacement refers to group 3 but the pattern has 2",
          "gw.toml:15:49" + what +
              "request[6] (uri_regex): replacement: '<' is not allowed in a request target "
              "(percent-encode it)",
          "gw.toml:17:21" + what +
              "request[7] (uri_set): value 'relative' is not an origin-form target: must start "
              "with '/'",
          "gw.toml:19:31" + what +
              "request[8] (uri_strip_prefix): prefix '/api/': a path prefix does not end with '/'",
          "gw.toml:23:1" + what +
              "request[9] (header_set): 'value' belongs in the 'header_set' table with the "
              "rule's other fields",
          "gw.toml:25:23" + what +
              "response[1] (header_set): name: 'Transfer-Encoding' is written by rws itself "
              "(message framing) and cannot be edited",
          "gw.toml:27:23" + what +
              "response[2] (status_set): code must be an integer between 100 and 599",
          "gw.toml:29:23" + what +
              "response[3] (status_set): code 103 is an interim (1xx) status; a response can "
              "only be given a final one (200..599)",
          "gw.toml:31:14" + what + "response[4] (status_set): code is required",
          "gw.toml:33:25" + what + "response[5] (body_replace): from must not be empty",
          "gw.toml:35:16" + what + "response[6] (body_replace): to is required",
      }))
      << r.all();
}

TEST(MiddlewareLoader, RouteRewriteReplacesTheDefaultAndAnEmptyOneLiftsIt) {
  Loaded r = load(R"(
[middleware]
rewrite = { response = [{ header_set = { name = "X-Default", value = "1" } }] }

[[route]]
name = "inherits"
action = { type = "respond" }

[[route]]
name = "own"
action = { type = "respond" }
middleware = { rewrite = { request = [{ uri_add_prefix = { prefix = "/v2" } }] } }

[[route]]
name = "none"
action = { type = "respond" }
middleware = { rewrite = {} }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.route(0).rewrite.has_value());
  ASSERT_EQ(r.route(0).rewrite->response.size(), 1u);
  EXPECT_EQ(r.route(0).rewrite->response[0].name, "X-Default");
  ASSERT_TRUE(r.route(1).rewrite.has_value());
  EXPECT_TRUE(r.route(1).rewrite->response.empty());
  ASSERT_EQ(r.route(1).rewrite->request.size(), 1u);
  ASSERT_TRUE(r.route(2).rewrite.has_value());
  EXPECT_TRUE(r.route(2).rewrite->request.empty());
  EXPECT_TRUE(r.route(2).rewrite->response.empty());
}

}  // namespace
}  // namespace rws::config
