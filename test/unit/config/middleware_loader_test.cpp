#include "config/middleware_loader.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/gateway_loader.hpp"
#include "config/toml_reader.hpp"
#include "loader_test_support.hpp"

namespace rws::config {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using Strings = std::vector<std::string>;
using Pairs = std::vector<std::pair<std::string, std::string>>;

// As in gateway_loader_test: raw strings start with a newline, which load() drops so that line
// 1 is the first line shown.
struct Loaded : Reported {
  MiddlewareConfig defaults;
  GatewayConfig config;

  const MiddlewareConfig& route(std::size_t i) const { return config.routes.at(i).middleware; }
};

Loaded load(std::string_view text) {
  toml::table document = parse_document(text, "gw.toml");
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

TEST(MiddlewareLoader, SecurityHeadersAndMaintenance) {
  Loaded r = load(R"(
[middleware]
security_headers = { frame_options = "SAMEORIGIN", referrer_policy = "" }
maintenance = { retry_after_secs = 60, message = "Back at 10:00." }

[[route]]
name = "health"
match = { path = "/status" }
action = { type = "respond" }
middleware = { maintenance = { enabled = false } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.security_headers.has_value());
  EXPECT_EQ(r.defaults.security_headers->frame_options, "SAMEORIGIN");
  EXPECT_EQ(r.defaults.security_headers->referrer_policy, "");
  EXPECT_EQ(r.defaults.security_headers->content_type_options, "nosniff");
  ASSERT_TRUE(r.defaults.maintenance.has_value());
  EXPECT_TRUE(r.defaults.maintenance->enabled);
  EXPECT_EQ(r.defaults.maintenance->retry_after, std::chrono::seconds(60));
  EXPECT_EQ(r.defaults.maintenance->message, "Back at 10:00.");
  // The route's own maintenance table replaces the default: switched off there.
  ASSERT_TRUE(r.route(0).maintenance.has_value());
  EXPECT_FALSE(r.route(0).maintenance->enabled);
  EXPECT_EQ(r.route(0).security_headers->frame_options, "SAMEORIGIN");
}

TEST(MiddlewareLoader, SecurityHeadersAndMaintenanceErrors) {
  Loaded r = load(R"(
[middleware]
security_headers = { frame_option = "DENY", referrer_policy = "a\u0001b" }
maintenance = { retry_after_secs = -1, message = "two\nlines" }
)");
  EXPECT_EQ(r.errors.size(), 4u) << r.all();
  const std::string all = r.all();
  EXPECT_NE(all.find("gw.toml:2:22: [middleware] security_headers: unknown key 'frame_option'"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("did you mean 'frame_options'"), std::string::npos) << all;
  EXPECT_NE(all.find("referrer_policy: must be a header value without control characters"),
            std::string::npos)
      << all;
  EXPECT_NE(all.find("retry_after_secs must be an integer between 0 and 604800"), std::string::npos)
      << all;
  EXPECT_NE(all.find("message: must be one line of text"), std::string::npos) << all;
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

// ----- rate_limit -------------------------------------------------------------------------------

TEST(MiddlewareLoader, RateLimitReadsEveryKey) {
  Loaded r = load(R"(
[middleware]
rate_limit = { max_requests = 100, window_secs = 60 }

[[route]]
name = "api"
action = { type = "respond" }
[route.middleware.rate_limit]
max_requests = 5
window_secs = 10
key = "header:X-Api-Key"
burst = 3
algorithm = "token_bucket"
max_keys = 5000
store = "memory"

[[route]]
name = "sliding"
action = { type = "respond" }
middleware = { rate_limit = { max_requests = 7, window_secs = 1, algorithm = "sliding_window" } }

[[route]]
name = "inherits"
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_TRUE(r.defaults.rate_limit.has_value());
  const RateLimitConfig& d = *r.defaults.rate_limit;
  EXPECT_EQ(d.max_requests, 100u);
  EXPECT_EQ(d.window, seconds(60));
  EXPECT_EQ(d.key, "ip");  // the defaults
  EXPECT_EQ(d.burst, 0u);
  EXPECT_EQ(d.algorithm, RateLimitConfig::Algorithm::kTokenBucket);
  EXPECT_EQ(d.max_keys, 100000u);
  EXPECT_FALSE(r.defaults.empty());

  ASSERT_TRUE(r.route(0).rate_limit.has_value());
  const RateLimitConfig& api = *r.route(0).rate_limit;
  EXPECT_EQ(api.max_requests, 5u);
  EXPECT_EQ(api.window, seconds(10));
  EXPECT_EQ(api.key, "header:X-Api-Key");
  EXPECT_EQ(api.burst, 3u);
  EXPECT_EQ(api.max_keys, 5000u);

  ASSERT_TRUE(r.route(1).rate_limit.has_value());
  EXPECT_EQ(r.route(1).rate_limit->algorithm, RateLimitConfig::Algorithm::kSlidingWindow);
  EXPECT_EQ(r.route(1).rate_limit->max_requests, 7u);

  ASSERT_TRUE(r.route(2).rate_limit.has_value());
  EXPECT_EQ(*r.route(2).rate_limit, d);
}

TEST(MiddlewareLoader, RateLimitBadValues) {
  Loaded r = load(R"(
[[route]]
name = "a"
action = { type = "respond" }
middleware = { rate_limit = { max_requests = 0, window_secs = 0 } }

[[route]]
name = "b"
action = { type = "respond" }
[route.middleware.rate_limit]
max_requests = 5
window_secs = 60
key = "cookie:session"
algorithm = "leaky"
store = "memcached"
max_keys = 0
burst = -1

[[route]]
name = "c"
action = { type = "respond" }
middleware = { rate_limit = { max_requests = 5, window_secs = 60, key = "header:X Key" } }
)");
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:4:46: [[route]] 'a' middleware rate_limit: max_requests must be an integer "
          "between 1 and 1000000000",
          "gw.toml:4:63: [[route]] 'a' middleware rate_limit: window_secs must be an integer "
          "between 1 and 31536000",
          "gw.toml:12:7: [[route]] 'b' middleware rate_limit: key must be \"ip\" or "
          "\"header:NAME\" with NAME a header name, not 'cookie:session'",
          "gw.toml:16:9: [[route]] 'b' middleware rate_limit: burst must be an integer between 0 "
          "and 1000000000",
          "gw.toml:13:13: [[route]] 'b' middleware rate_limit: algorithm must be "
          "\"token_bucket\" or \"sliding_window\", not 'leaky'",
          "gw.toml:15:12: [[route]] 'b' middleware rate_limit: max_keys must be an integer "
          "between 1 and 100000000",
          "gw.toml:14:9: [[route]] 'b' middleware rate_limit: store must be \"memory\" or "
          "\"redis\", not 'memcached'",
          "gw.toml:21:73: [[route]] 'c' middleware rate_limit: key must be \"ip\" or "
          "\"header:NAME\" with NAME a header name, not 'header:X Key'",
      }))
      << r.all();
}

TEST(MiddlewareLoader, RateLimitNeedsItsLimit) {
  Loaded r = load(R"(
[middleware]
rate_limit = { key = "ip" }
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:2:14: [middleware] rate_limit: max_requests is required",
                          "gw.toml:2:14: [middleware] rate_limit: window_secs is required",
                      }))
      << r.all();
}

TEST(MiddlewareLoader, RateLimitRedisStoreReadsItsKeys) {
  Loaded r = load(R"(
[middleware]
rate_limit = { max_requests = 5, window_secs = 1, store = "redis", redis_url = "redis://127.0.0.1:6380" }
[[route]]
name = "api"
action = { type = "respond" }
[route.middleware.rate_limit]
max_requests = 9
window_secs = 60
store = "redis"
redis_url = "redis://app:p%40ss@cache.internal/2"
redis_timeout_ms = 40
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.rate_limit.has_value());
  const RateLimitConfig& d = *r.defaults.rate_limit;
  EXPECT_EQ(d.store, RateLimitConfig::Store::kRedis);
  EXPECT_EQ(d.redis_url, (redis::RedisUrl{"127.0.0.1", 6380, "", "", 0}));
  EXPECT_EQ(d.redis_timeout, milliseconds(250));
  ASSERT_TRUE(r.route(0).rate_limit.has_value());
  const RateLimitConfig& api = *r.route(0).rate_limit;
  EXPECT_EQ(api.store, RateLimitConfig::Store::kRedis);
  EXPECT_EQ(api.redis_url, (redis::RedisUrl{"cache.internal", 6379, "app", "p@ss", 2}));
  EXPECT_EQ(api.redis_timeout, milliseconds(40));
  EXPECT_EQ(api.max_requests, 9u);
}

TEST(MiddlewareLoader, RateLimitRedisStoreErrors) {
  Loaded r = load(R"(
[[route]]
name = "a"
action = { type = "respond" }
middleware = { rate_limit = { max_requests = 5, window_secs = 1, store = "redis" } }
[[route]]
name = "b"
action = { type = "respond" }
[route.middleware.rate_limit]
max_requests = 5
window_secs = 1
store = "redis"
redis_url = "rediss://:secret@127.0.0.1"
redis_timeout_ms = 0
max_keys = 10
[[route]]
name = "c"
action = { type = "respond" }
[route.middleware.rate_limit]
max_requests = 5
window_secs = 1
redis_url = "redis://127.0.0.1"
redis_timeout_ms = 100
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:4:74: [[route]] 'a' middleware rate_limit: store = \"redis\" needs "
                "redis_url (like \"redis://127.0.0.1:6379\")",
                "gw.toml:14:12: [[route]] 'b' middleware rate_limit: max_keys applies to store = "
                "\"memory\" only (Redis expires idle keys)",
                "gw.toml:12:13: [[route]] 'b' middleware rate_limit: redis_url is not a valid "
                "redis://[[user]:password@]host[:port][/db] URL: rediss:// (TLS) is not "
                "supported; use redis://",
                "gw.toml:13:20: [[route]] 'b' middleware rate_limit: redis_timeout_ms must be an "
                "integer between 1 and 60000",
                "gw.toml:21:13: [[route]] 'c' middleware rate_limit: redis_url applies to store = "
                "\"redis\" only",
                "gw.toml:22:20: [[route]] 'c' middleware rate_limit: redis_timeout_ms applies to "
                "store = \"redis\" only",
            }))
      << r.all();
  // The password is never shown.
  EXPECT_EQ(r.all().find("secret"), std::string::npos) << r.all();
}

TEST(MiddlewareLoader, RateLimitRedisStoreBoundsTheBucket) {
  // Redis counts in microseconds with doubles (exact below 2^52): a bucket the memory store
  // accepts can still be too large for it.
  Loaded r = load(R"(
[middleware]
rate_limit = { max_requests = 1, window_secs = 31536000, burst = 142, store = "redis", redis_url = "redis://h" }
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:66: [middleware] rate_limit: burst is too large for "
                              "window_secs (the bucket would take over a century to fill)"})
      << r.all();
  r = load(R"(
[middleware]
rate_limit = { max_requests = 1, window_secs = 31536000, burst = 142 }
)");
  EXPECT_TRUE(r.errors.empty()) << r.all();
}

TEST(MiddlewareLoader, RateLimitBurstOnlyWithTheTokenBucket) {
  Loaded r = load(R"(
[middleware]
rate_limit = { max_requests = 5, window_secs = 1, burst = 2, algorithm = "sliding_window" }
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:59: [middleware] rate_limit: burst applies to "
                              "algorithm = \"token_bucket\" only"})
      << r.all();

  r = load(R"(
[middleware]
rate_limit = { max_requests = 1, window_secs = 31536000, burst = 1000000000 }
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:66: [middleware] rate_limit: burst is too large for "
                              "window_secs (the bucket would take over a century to fill)"})
      << r.all();
}

TEST(MiddlewareLoader, RateLimitUnknownKey) {
  Loaded r = load(R"(
[middleware]
rate_limit = { max_request = 5, window_secs = 1, redis_host = "127.0.0.1" }
)");
  ASSERT_EQ(r.errors.size(), 3u) << r.all();
  EXPECT_EQ(r.errors[0], "gw.toml:2:14: [middleware] rate_limit: max_requests is required");
  EXPECT_EQ(r.errors[1],
            "gw.toml:2:16: [middleware] rate_limit: unknown key 'max_request' (did you mean "
            "'max_requests'?)");
  EXPECT_EQ(r.errors[2], "gw.toml:2:50: [middleware] rate_limit: unknown key 'redis_host'");
}

// ----- compress ---------------------------------------------------------------------------------

TEST(MiddlewareLoader, CompressReadsEveryKey) {
  Loaded r = load(R"(
[[route]]
name = "api"
action = { type = "respond" }
[route.middleware.compress]
algorithms = ["GZIP", "br"]
min_size = 0
types = ["application/json", "text/*", "*/*"]
levels = { br = 11, zstd = 19, gzip = 1 }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const std::optional<CompressConfig>& c = r.route(0).compress;
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->enabled);
  EXPECT_EQ(c->algorithms, (Strings{"gzip", "br"}));
  EXPECT_EQ(c->min_size, 0u);
  EXPECT_EQ(c->types, (Strings{"application/json", "text/*", "*/*"}));
  EXPECT_EQ(c->brotli_level, 11);
  EXPECT_EQ(c->zstd_level, 19);
  EXPECT_EQ(c->gzip_level, 1);
  EXPECT_FALSE(r.route(0).empty());
}

TEST(MiddlewareLoader, CompressEmptyTableTakesTheMiddlewareDefaults) {
  Loaded r = load(R"(
[middleware]
compress = {}

[[route]]
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const std::optional<CompressConfig>& c = r.route(0).compress;
  ASSERT_TRUE(c.has_value());
  EXPECT_TRUE(c->enabled);
  EXPECT_FALSE(c->algorithms || c->min_size || c->types || c->brotli_level || c->zstd_level ||
               c->gzip_level);
  EXPECT_FALSE(r.defaults.empty());
}

TEST(MiddlewareLoader, CompressFalseTurnsADefaultOffForOneRoute) {
  Loaded r = load(R"(
[middleware]
compress = { min_size = 10 }

[[route]]
name = "on"
action = { type = "respond" }

[[route]]
name = "off"
action = { type = "respond" }
middleware = { compress = false }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.route(0).compress.has_value());
  EXPECT_EQ(r.route(0).compress->min_size, 10u);
  ASSERT_TRUE(r.route(1).compress.has_value());
  EXPECT_FALSE(r.route(1).compress->enabled);
  EXPECT_TRUE(r.route(1).empty());  // nothing left to run
}

TEST(MiddlewareLoader, CompressUnknownAlgorithmsAndTypesArePositioned) {
  Loaded r = load(R"(
[middleware]
compress = { algorithms = ["br", "deflate", "gzip", "gzip"], types = ["text/html", "json", "text/html; charset=utf-8"] }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:34: [middleware] compress: algorithms: unknown algorithm 'deflate' (br, "
                "zstd or gzip)",
                "gw.toml:2:53: [middleware] compress: algorithms: 'gzip' is listed twice",
                "gw.toml:2:84: [middleware] compress: types: 'json' is not a media type "
                "(type/subtype, type/* or */*, no parameters)",
                "gw.toml:2:92: [middleware] compress: types: 'text/html; charset=utf-8' is not a "
                "media type (type/subtype, type/* or */*, no parameters)",
            }))
      << r.all();
}

TEST(MiddlewareLoader, CompressBadValues) {
  Loaded r = load(R"(
[middleware]
compress = { algorithms = [], types = [], min_size = -1, levels = { br = 12, zstd = 0, gzip = 10, lz4 = 1 }, level = 3 }

[[route]]
name = "r"
action = { type = "respond" }
middleware = { compress = "gzip" }
)");
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:2:27: [middleware] compress: algorithms is empty: use compress = false to turn "
          "compression off",
          "gw.toml:2:54: [middleware] compress: min_size must be an integer between 0 and "
          "9223372036854775807",
          "gw.toml:2:39: [middleware] compress: types is empty: nothing would be compressed",
          "gw.toml:2:74: [middleware] compress levels: br must be an integer between 0 and 11",
          "gw.toml:2:85: [middleware] compress levels: zstd must be an integer between 1 and 19",
          "gw.toml:2:95: [middleware] compress levels: gzip must be an integer between 1 and 9",
          "gw.toml:2:99: [middleware] compress levels: unknown key 'lz4'",
          "gw.toml:2:110: [middleware] compress: unknown key 'level' (did you mean 'levels'?)",
          "gw.toml:7:27: [[route]] 'r' middleware: compress must be a table (or false to turn a "
          "default off)",
      }))
      << r.all();
}

// ----- auth -------------------------------------------------------------------------------------
// Fixture paths are relative to test/unit, the unit tests' working directory.

const std::string kUsers = "middleware/fixtures/htpasswd/users.htpasswd";
const std::string kJwtDir = "middleware/fixtures/jwt/";

TEST(MiddlewareLoader, AuthBearerReadsTheTokenFromTheEnvironment) {
  ::setenv("RWS_TEST_AUTH_TOKEN", "t0ken", 1);
  ::unsetenv("RWS_TEST_AUTH_UNSET");
  ::setenv("RWS_TEST_AUTH_EMPTY", "", 1);
  Loaded r = load(R"(
[middleware]
auth = { type = "bearer", token_env = "RWS_TEST_AUTH_TOKEN" }

[[route]]
name = "unset"
action = { type = "respond" }
middleware = { auth = { type = "bearer", token_env = "RWS_TEST_AUTH_UNSET" } }

[[route]]
name = "empty"
action = { type = "respond" }
[route.middleware.auth]
type = "bearer"
token_env = "RWS_TEST_AUTH_EMPTY"

[[route]]
name = "none"
action = { type = "respond" }
middleware = { auth = { type = "bearer" } }
)");
  ASSERT_TRUE(r.defaults.auth.has_value());
  EXPECT_EQ(r.defaults.auth->type, AuthConfig::Type::kBearer);
  EXPECT_EQ(r.defaults.auth->token, "t0ken");
  const std::string tail = "' is not set or empty (the route would be unprotected)";
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:7:54: [[route]] 'unset' middleware auth: token_env: environment variable "
                "'RWS_TEST_AUTH_UNSET" +
                    tail,
                "gw.toml:14:13: [[route]] 'empty' middleware auth: token_env: environment "
                "variable 'RWS_TEST_AUTH_EMPTY" +
                    tail,
                "gw.toml:19:23: [[route]] 'none' middleware auth: type = \"bearer\" needs "
                "token_env (the environment variable with the token)",
            }))
      << r.all();
}

TEST(MiddlewareLoader, AuthBasicParsesTheUserFile) {
  Loaded r = load(R"(
[[route]]
name = "a"
action = { type = "respond" }
middleware = { auth = { type = "basic", htpasswd_file = ")" +
                  kUsers + R"(", realm = "Ops" } }

[[route]]
name = "b"
action = { type = "respond" }
middleware = { auth = { type = "basic", users_file = ")" +
                  kUsers + R"(" } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const AuthConfig& a = *r.route(0).auth;
  EXPECT_EQ(a.type, AuthConfig::Type::kBasic);
  EXPECT_EQ(a.realm, "Ops");
  ASSERT_NE(a.users, nullptr);
  EXPECT_TRUE(a.users->verify("frank", "plain-pw"));
  EXPECT_EQ(r.route(1).auth->realm, "Restricted");
  EXPECT_EQ(r.route(1).auth->users->size(), 9u);
  EXPECT_EQ(r.warnings, Strings{"gw.toml:9:54: 'users_file' is deprecated; use 'htpasswd_file'"})
      << r.all();
}

TEST(MiddlewareLoader, AuthBasicUnreadableOrMalformedFile) {
  const std::string bad = ::testing::TempDir() + "/rws_bad.htpasswd";
  std::ofstream(bad) << "alice:plain\nbroken line\n";
  Loaded r = load(R"(
[[route]]
name = "missing"
action = { type = "respond" }
middleware = { auth = { type = "basic", htpasswd_file = "/nonexistent/htpasswd" } }

[[route]]
name = "malformed"
action = { type = "respond" }
middleware = { auth = { type = "basic", htpasswd_file = ")" +
                  bad + R"(" } }
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:4:57: [[route]] 'missing' middleware auth: htpasswd_file: "
                          "/nonexistent/htpasswd: cannot read: No such file or directory",
                          "gw.toml:9:57: [[route]] 'malformed' middleware auth: htpasswd_file: " +
                              bad + ":2: expected 'user:hash'",
                      }))
      << r.all();
}

TEST(MiddlewareLoader, AuthJwtKeysAndRules) {
  ::setenv("RWS_TEST_JWT_SECRET", "fixture-hmac-secret-0123456789abcdef", 1);
  Loaded r = load(R"(
[[route]]
name = "hs"
action = { type = "respond" }
[route.middleware.auth]
type = "jwt"
secret_env = "RWS_TEST_JWT_SECRET"
algorithms = ["HS256"]
issuer = "https://issuer.example"
audience = "api"
leeway_secs = 30
claims_header = "X-Jwt-Claims"

[[route]]
name = "rs"
action = { type = "respond" }
middleware = { auth = { type = "jwt", public_key_file = ")" +
                  kJwtDir + R"(rsa_public.pem", audience = ["a", "b"] } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const AuthConfig& hs = *r.route(0).auth;
  EXPECT_EQ(hs.type, AuthConfig::Type::kJwt);
  EXPECT_EQ(hs.claims_header, "X-Jwt-Claims");
  ASSERT_NE(hs.jwt, nullptr);
  EXPECT_EQ(hs.jwt->algorithms(), std::vector<auth::JwtAlg>{auth::JwtAlg::kHS256});
  const AuthConfig& rs = *r.route(1).auth;
  EXPECT_EQ(rs.jwt->algorithms(), std::vector<auth::JwtAlg>{auth::JwtAlg::kRS256});
  EXPECT_TRUE(rs.claims_header.empty());
}

TEST(MiddlewareLoader, AuthJwtErrors) {
  ::unsetenv("RWS_TEST_AUTH_UNSET");
  Loaded r = load(R"(
[[route]]
name = "confused"
action = { type = "respond" }
middleware = { auth = { type = "jwt", public_key_file = ")" +
                  kJwtDir + R"(rsa_public.pem", algorithms = ["HS256"] } }

[[route]]
name = "none"
action = { type = "respond" }
middleware = { auth = { type = "jwt", jwks_url = "http://127.0.0.1:1/keys", algorithms = ["none"] } }

[[route]]
name = "two"
action = { type = "respond" }
middleware = { auth = { type = "jwt", secret_env = "RWS_TEST_AUTH_UNSET", jwks_url = "http://x/" } }

[[route]]
name = "https"
action = { type = "respond" }
middleware = { auth = { type = "jwt", jwks_url = "https://127.0.0.1:1/keys", leeway_secs = 7200 } }

[[route]]
name = "mixed"
action = { type = "respond" }
middleware = { auth = { type = "jwt", realm = "x", claims_header = "Bad Name" } }

[[route]]
name = "type"
action = { type = "respond" }
middleware = { auth = { type = "digest" } }
)");
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:4:112: [[route]] 'confused' middleware auth: algorithms: algorithm HS256 does "
          "not fit the configured key(s)",
          "gw.toml:9:90: [[route]] 'none' middleware auth: algorithms: 'none' is not supported "
          "(HS256, HS384, HS512, RS256, ES256)",
          // Every problem is reported at once: the keys are still fetched.
          "gw.toml:9:50: [[route]] 'none' middleware auth: jwks_url: http://127.0.0.1:1/keys: "
          "cannot connect: Connection refused",
          "gw.toml:14:23: [[route]] 'two' middleware auth: type = \"jwt\": give only one of "
          "secret_env, public_key_file, jwks_url",
          "gw.toml:19:92: [[route]] 'https' middleware auth: leeway_secs must be an integer "
          "between 0 and 3600",
          // https is fetched like http (the connection is refused before any TLS).
          "gw.toml:19:50: [[route]] 'https' middleware auth: jwks_url: https://127.0.0.1:1/keys: "
          "cannot connect: Connection refused",
          "gw.toml:24:23: [[route]] 'mixed' middleware auth: type = \"jwt\" needs one of "
          "secret_env, public_key_file, jwks_url",
          "gw.toml:24:68: [[route]] 'mixed' middleware auth: claims_header: 'Bad Name' is not a "
          "valid header name",
          "gw.toml:24:47: [[route]] 'mixed' middleware auth: realm is for type = \"basic\", not "
          "\"jwt\"",
          "gw.toml:29:32: [[route]] 'type' middleware auth: type: 'digest' is not one of "
          "\"bearer\", \"basic\", \"jwt\"",
      }))
      << r.all();
}

TEST(MiddlewareLoader, AuthOfARouteReplacesTheDefault) {
  ::setenv("RWS_TEST_AUTH_TOKEN", "t0ken", 1);
  Loaded r = load(R"(
[middleware]
auth = { type = "bearer", token_env = "RWS_TEST_AUTH_TOKEN" }

[[route]]
name = "inherits"
action = { type = "respond" }

[[route]]
name = "own"
action = { type = "respond" }
middleware = { auth = { type = "basic", htpasswd_file = ")" +
                  kUsers + R"(" } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.route(0).auth->type, AuthConfig::Type::kBearer);
  EXPECT_EQ(r.route(1).auth->type, AuthConfig::Type::kBasic);
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

// ----- cache ------------------------------------------------------------------------------------

TEST(MiddlewareLoader, CacheDefaultsAndValues) {
  Loaded r = load(R"(
[middleware]
cache = {}

[[route]]
name = "a"
action = { type = "respond" }
[route.middleware.cache]
ttl_secs = 30
vary_by = ["Accept-Language", "X-Tenant"]
max_entries = 5
max_entry_bytes = 100
max_bytes = 1000

[[route]]
name = "b"
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.cache.has_value());
  EXPECT_FALSE(r.defaults.cache->ttl.has_value());
  EXPECT_EQ(r.defaults.cache->max_entries, 10000u);
  EXPECT_EQ(r.defaults.cache->max_entry_bytes, 1u << 20);
  EXPECT_EQ(r.defaults.cache->max_bytes, 64u << 20);
  const std::optional<CacheConfig>& a = r.route(0).cache;
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->ttl, seconds(30));
  EXPECT_EQ(a->vary_by, (Strings{"Accept-Language", "X-Tenant"}));
  EXPECT_EQ(a->max_entries, 5u);
  EXPECT_EQ(a->max_entry_bytes, 100u);
  EXPECT_EQ(a->max_bytes, 1000u);
  ASSERT_TRUE(r.route(1).cache.has_value());  // the default reaches the other route
  EXPECT_FALSE(r.route(1).cache->ttl.has_value());
}

TEST(MiddlewareLoader, CacheBadValues) {
  Loaded r = load(R"(
[middleware]
cache = { ttl_secs = 0, vary_by = ["Accept", "bad name"], max_entries = 0, ttl = 5 }

[[route]]
name = "r"
action = { type = "respond" }
middleware = { cache = { max_entry_bytes = 2000, max_bytes = 1000 } }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:22: [middleware] cache: ttl_secs must be an integer between 1 and "
                "31536000",
                "gw.toml:2:46: [middleware] cache: vary_by: 'bad name' is not a header name",
                "gw.toml:2:73: [middleware] cache: max_entries must be an integer between 1 and "
                "100000000",
                "gw.toml:2:76: [middleware] cache: unknown key 'ttl'",
                "gw.toml:7:62: [[route]] 'r' middleware cache: max_bytes (1000) must be at least "
                "max_entry_bytes (2000)",
            }))
      << r.all();
}

// ----- forward_auth -----------------------------------------------------------------------------

TEST(MiddlewareLoader, ForwardAuth) {
  Loaded r = load(R"(
[middleware]
forward_auth = { address = "http://127.0.0.1:9000/check?x=1", copy_headers = ["X-User", "X-Role"], timeout_ms = 250 }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.forward_auth);
  const ForwardAuthConfig& f = *r.defaults.forward_auth;
  EXPECT_EQ(f.host, "127.0.0.1:9000");
  EXPECT_EQ(f.target, "/check?x=1");
  EXPECT_EQ(f.copy_headers, (Strings{"X-User", "X-Role"}));
  EXPECT_EQ(f.timeout, milliseconds(250));
  EXPECT_EQ(f.addresses, Strings{"127.0.0.1"});
  EXPECT_EQ(f.port, 9000);
  EXPECT_EQ(f.name, "") << "an IP literal is never re-resolved";

  // Defaults: path "/", port 80, 5 s; a route inherits it.
  r = load(R"(
[middleware]
forward_auth = { address = "http://localhost" }
[[route]]
name = "api"
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.forward_auth);
  EXPECT_EQ(r.defaults.forward_auth->target, "/");
  EXPECT_EQ(r.defaults.forward_auth->timeout, milliseconds(5000));
  EXPECT_FALSE(r.defaults.forward_auth->addresses.empty());
  EXPECT_EQ(r.defaults.forward_auth->port, 80);
  EXPECT_EQ(r.defaults.forward_auth->name, "localhost") << "a DNS name is re-resolved";
  ASSERT_EQ(r.config.routes.size(), 1u);
  EXPECT_TRUE(r.config.routes[0].middleware.forward_auth);

  r = load(R"(
[middleware]
forward_auth = { address = "http://[::1]:9000" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.defaults.forward_auth->addresses, Strings{"::1"});
  EXPECT_EQ(r.defaults.forward_auth->name, "");
  EXPECT_FALSE(r.defaults.forward_auth->tls);
}

TEST(MiddlewareLoader, ForwardAuthHttps) {
  // https: port 443 by default; the certificate is checked for the host (no port, no brackets).
  Loaded r = load(R"(
[middleware]
forward_auth = { address = "HTTPS://127.0.0.1/check" }
[[route]]
name = "v6"
action = { type = "respond" }
middleware = { forward_auth = { address = "https://[::1]:8443/v?x=1" } }
[[route]]
name = "named"
action = { type = "respond" }
middleware = { forward_auth = { address = "https://localhost" } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const ForwardAuthConfig& f = *r.defaults.forward_auth;
  EXPECT_TRUE(f.tls);
  EXPECT_EQ(f.port, 443);
  EXPECT_EQ(f.server_name, "127.0.0.1");
  EXPECT_EQ(f.host, "127.0.0.1");
  EXPECT_EQ(f.target, "/check");
  EXPECT_EQ(f.addresses, Strings{"127.0.0.1"});
  const ForwardAuthConfig& v6 = *r.route(0).forward_auth;
  EXPECT_TRUE(v6.tls);
  EXPECT_EQ(v6.port, 8443);
  EXPECT_EQ(v6.server_name, "::1");
  EXPECT_EQ(v6.host, "[::1]:8443");
  EXPECT_EQ(v6.target, "/v?x=1");
  const ForwardAuthConfig& named = *r.route(1).forward_auth;
  EXPECT_TRUE(named.tls);
  EXPECT_EQ(named.port, 443);
  EXPECT_EQ(named.server_name, "localhost");
  EXPECT_EQ(named.name, "localhost");
}

TEST(MiddlewareLoader, ForwardAuthErrors) {
  Loaded r = load(R"(
[middleware]
forward_auth = { address = "ftp://127.0.0.1/check" }
[[route]]
name = "a"
action = { type = "respond" }
[route.middleware.forward_auth]
address = "auth:9000"
[[route]]
name = "b"
action = { type = "respond" }
[route.middleware.forward_auth]
address = "http://auth:0/x"
copy_headers = ["X-User", "bad name"]
timeout_ms = 0
[[route]]
name = "c"
action = { type = "respond" }
[route.middleware.forward_auth]
copy_headers = ["Content-Length"]
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:28: [middleware] forward_auth: address: 'ftp://127.0.0.1/check' must "
                "be an http:// or https:// URL",
                "gw.toml:7:11: [[route]] 'a' middleware forward_auth: address: 'auth:9000' must "
                "be an http:// or https:// URL",
                "gw.toml:12:11: [[route]] 'b' middleware forward_auth: address: "
                "'http://auth:0/x': invalid port '0'",
                "gw.toml:13:16: [[route]] 'b' middleware forward_auth: copy_headers: 'bad name' "
                "is not a valid name",
                "gw.toml:14:14: [[route]] 'b' middleware forward_auth: timeout_ms must be an "
                "integer between 1 and 86400000",
                "gw.toml:18:1: [[route]] 'c' middleware forward_auth: address is required",
                "gw.toml:19:16: [[route]] 'c' middleware forward_auth: copy_headers: "
                "'Content-Length' cannot be copied",
            }))
      << r.all();
}

// ----- cache lock_timeout_ms -------------------------------------------------------------------

TEST(MiddlewareLoader, CacheLockTimeout) {
  Loaded r = load(R"(
[middleware]
cache = {}

[[route]]
name = "a"
action = { type = "respond" }
middleware = { cache = { lock_timeout_ms = 250 } }

[[route]]
name = "b"
action = { type = "respond" }
middleware = { cache = { lock_timeout_ms = 0 } }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_TRUE(r.defaults.cache.has_value());
  EXPECT_EQ(r.defaults.cache->lock_timeout, std::chrono::milliseconds(5000));
  ASSERT_TRUE(r.route(0).cache.has_value());
  EXPECT_EQ(r.route(0).cache->lock_timeout, std::chrono::milliseconds(250));
  ASSERT_TRUE(r.route(1).cache.has_value());
  EXPECT_EQ(r.route(1).cache->lock_timeout, std::chrono::milliseconds(0));
  EXPECT_FALSE(*r.route(0).cache == *r.route(1).cache);
}

TEST(MiddlewareLoader, CacheLockTimeoutBadValues) {
  Loaded r = load(R"(
[middleware]
cache = { lock_timeout_ms = -1 }

[[route]]
name = "r"
action = { type = "respond" }
middleware = { cache = { lock_timeout_ms = "5s" } }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:29: [middleware] cache: lock_timeout_ms must be an integer between 0 "
                "and 86400000",
                "gw.toml:7:44: [[route]] 'r' middleware cache: lock_timeout_ms must be an integer "
                "between 0 and 86400000",
            }))
      << r.all();
}

}  // namespace
}  // namespace rws::config
