#include "config/gateway_loader.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "config/middleware_loader.hpp"
#include "config/toml_reader.hpp"
#include "loader_test_support.hpp"

namespace rws::config {
namespace {

// The documents below are written as raw strings that start with a newline for readability;
// load() drops that newline so that line 1 is the first line shown.
struct Loaded : Reported {
  GatewayConfig config;
};

Loaded load(std::string_view text) {
  toml::table document = parse_document(text, "gw.toml");
  Loaded out;
  Diagnostics diagnostics("gw.toml", out.errors, out.warnings);
  out.config = load_gateway(document, load_middleware_defaults(document, diagnostics), diagnostics);
  return out;
}

using Strings = std::vector<std::string>;

// ----- successful loads -------------------------------------------------------------------------

TEST(GatewayLoader, MinimalDocumentGetsTheDocumentedDefaults) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["127.0.0.1:8080"]

[[route]]
[route.action]
type = "proxy"
upstream = "api"
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_EQ(r.config.upstreams.size(), 1u);
  const Upstream& u = r.config.upstreams[0];
  EXPECT_EQ(u.name, "api");
  ASSERT_EQ(u.backends.size(), 1u);
  EXPECT_EQ(u.backends[0].url, "127.0.0.1:8080");
  EXPECT_EQ(u.backends[0].host, "127.0.0.1");
  EXPECT_EQ(u.backends[0].port, 8080);
  EXPECT_EQ(u.backends[0].weight, 1u);
  EXPECT_EQ(u.strategy, Strategy::kRoundRobin);
  EXPECT_EQ(u.connect_timeout, milliseconds(5000));
  EXPECT_EQ(u.read_timeout, milliseconds(30000));
  EXPECT_EQ(u.write_timeout, milliseconds(30000));
  EXPECT_EQ(u.max_idle_per_backend, 64u);
  EXPECT_EQ(u.idle_timeout, seconds(60));
  EXPECT_EQ(u.retries, 1u);
  EXPECT_FALSE(u.health_check.has_value());  // absent = off
  EXPECT_TRUE(u.passive.enabled);            // on by default
  EXPECT_EQ(u.passive.max_fails, 5u);
  EXPECT_EQ(u.passive.fail_window, seconds(10));
  EXPECT_EQ(u.passive.eject, seconds(30));
  EXPECT_FALSE(u.circuit_breaker.has_value());  // off by default

  ASSERT_EQ(r.config.routes.size(), 1u);
  const Route& route = r.config.routes[0];
  EXPECT_EQ(route.name, "route-1");
  EXPECT_EQ(route.kind, Route::Kind::kProxy);
  EXPECT_EQ(route.proxy.upstream, "api");
  EXPECT_EQ(route.proxy.strip_path_prefix, "");
  EXPECT_EQ(route.proxy.add_path_prefix, "");
  EXPECT_FALSE(route.proxy.preserve_host);
  EXPECT_FALSE(route.proxy.connect_timeout.has_value());
  EXPECT_FALSE(route.proxy.read_timeout.has_value());
  EXPECT_FALSE(route.proxy.websocket_only);
  EXPECT_FALSE(route.match.host.has_value());
  EXPECT_FALSE(route.match.path.has_value());
  EXPECT_TRUE(route.match.methods.empty());
  EXPECT_FALSE(route.match.content_type.has_value());
  EXPECT_TRUE(route.match.headers.empty());
}

TEST(GatewayLoader, EveryUpstreamKeyIsRead) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["a:1", { url = "http://b:2", weight = 3 }]
strategy = "ip_hash"
connect_timeout_ms = 100
read_timeout_ms = 200
write_timeout_ms = 300
max_idle_per_backend = 7
idle_timeout_secs = 8
max_requests_per_connection = 9
retries = 0
[upstream.health_check]
path = "/ready"
interval_secs = 11
timeout_ms = 12
healthy_threshold = 13
unhealthy_threshold = 14
expect_status = "200-399"
[upstream.passive]
enabled = false
max_fails = 15
fail_window_secs = 16
eject_secs = 17
[upstream.circuit_breaker]
failure_threshold = 18
recovery_secs = 19
max_half_open_probes = 20
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_EQ(r.config.upstreams.size(), 1u);
  const Upstream& u = r.config.upstreams[0];
  ASSERT_EQ(u.backends.size(), 2u);
  EXPECT_EQ(u.backends[1].host, "b");
  EXPECT_EQ(u.backends[1].port, 2);
  EXPECT_EQ(u.backends[1].weight, 3u);
  EXPECT_EQ(u.strategy, Strategy::kIpHash);
  EXPECT_EQ(u.connect_timeout, milliseconds(100));
  EXPECT_EQ(u.read_timeout, milliseconds(200));
  EXPECT_EQ(u.write_timeout, milliseconds(300));
  EXPECT_EQ(u.max_idle_per_backend, 7u);
  EXPECT_EQ(u.idle_timeout, seconds(8));
  EXPECT_EQ(u.max_requests_per_connection, 9u);
  EXPECT_EQ(u.retries, 0u);
  ASSERT_TRUE(u.health_check.has_value());
  EXPECT_EQ(u.health_check->path, "/ready");
  EXPECT_EQ(u.health_check->interval, seconds(11));
  EXPECT_EQ(u.health_check->timeout, milliseconds(12));
  EXPECT_EQ(u.health_check->healthy_threshold, 13u);
  EXPECT_EQ(u.health_check->unhealthy_threshold, 14u);
  EXPECT_EQ(u.health_check->expect_min, 200);
  EXPECT_EQ(u.health_check->expect_max, 399);
  EXPECT_FALSE(u.passive.enabled);
  EXPECT_EQ(u.passive.max_fails, 15u);
  EXPECT_EQ(u.passive.fail_window, seconds(16));
  EXPECT_EQ(u.passive.eject, seconds(17));
  ASSERT_TRUE(u.circuit_breaker.has_value());
  EXPECT_EQ(u.circuit_breaker->failure_threshold, 18u);
  EXPECT_EQ(u.circuit_breaker->recovery, seconds(19));
  EXPECT_EQ(u.circuit_breaker->max_half_open_probes, 20u);
}

TEST(GatewayLoader, HealthCheckTableWithoutKeysUsesDefaults) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["a:1"]
health_check = {}
circuit_breaker = {}
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const Upstream& u = r.config.upstreams.at(0);
  ASSERT_TRUE(u.health_check.has_value());
  EXPECT_EQ(u.health_check->path, "/health");
  EXPECT_EQ(u.health_check->interval, seconds(30));
  EXPECT_EQ(u.health_check->timeout, milliseconds(5000));
  EXPECT_EQ(u.health_check->healthy_threshold, 2u);
  EXPECT_EQ(u.health_check->unhealthy_threshold, 3u);
  EXPECT_EQ(u.health_check->expect_status, "2xx");
  EXPECT_EQ(u.health_check->expect_min, 200);
  EXPECT_EQ(u.health_check->expect_max, 299);
  ASSERT_TRUE(u.circuit_breaker.has_value());
  EXPECT_EQ(u.circuit_breaker->failure_threshold, 5u);
  EXPECT_EQ(u.circuit_breaker->recovery, seconds(30));
  EXPECT_EQ(u.circuit_breaker->max_half_open_probes, 1u);
}

TEST(GatewayLoader, EveryActionTypeWithItsDefaults) {
  std::string root = std::filesystem::temp_directory_path().string();
  Loaded r = load(R"(
[[route]]
name = "files"
[route.action]
type = "static"
root = ")" + root +
                  R"("

[[route]]
name = "moved"
[route.action]
type = "redirect"
location = "https://$host$request_uri"

[[route]]
name = "hello"
[route.action]
type = "respond"

[[upstream]]
name = "ws"
backends = ["ws://chat:3000"]

[[route]]
name = "chat"
[route.action]
type = "websocket"
upstream = "ws"
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_EQ(r.config.routes.size(), 4u);

  const Route& files = r.config.routes[0];
  EXPECT_EQ(files.name, "files");
  EXPECT_EQ(files.kind, Route::Kind::kStatic);
  EXPECT_EQ(files.static_files.root, root);
  EXPECT_EQ(files.static_files.index, Strings{"index.html"});
  EXPECT_FALSE(files.static_files.directory_listing);
  EXPECT_TRUE(files.static_files.strip_prefix);
  EXPECT_EQ(files.static_files.spa_fallback, "");

  const Route& moved = r.config.routes[1];
  EXPECT_EQ(moved.kind, Route::Kind::kRedirect);
  EXPECT_EQ(moved.redirect.location, "https://$host$request_uri");
  EXPECT_EQ(moved.redirect.status, 301);

  const Route& hello = r.config.routes[2];
  EXPECT_EQ(hello.kind, Route::Kind::kRespond);
  EXPECT_EQ(hello.respond.status, 200);
  EXPECT_EQ(hello.respond.body, "");
  EXPECT_EQ(hello.respond.content_type, "text/plain; charset=utf-8");
  EXPECT_TRUE(hello.respond.headers.empty());

  const Route& chat = r.config.routes[3];
  EXPECT_EQ(chat.kind, Route::Kind::kProxy);
  EXPECT_TRUE(chat.proxy.websocket_only);
  EXPECT_EQ(chat.proxy.upstream, "ws");
}

TEST(GatewayLoader, MatchIsReadAndNormalized) {
  Loaded r = load(R"(
[[route]]
[route.match]
host = "*.Example.COM"
path = "/api/*"
method = "GET"
content_type = "Application/GRPC*"
headers = { "X-Env" = "canary", "X-Debug" = "*" }
[route.action]
type = "respond"

[[route]]
match = { method = ["GET", "HEAD"], path = "/exact" }
action = { type = "respond" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_EQ(r.config.routes.size(), 2u);
  const RouteMatch& m = r.config.routes[0].match;
  EXPECT_EQ(m.host, "*.example.com");  // lower case: hosts compare case-insensitively
  EXPECT_EQ(m.path, "/api/*");
  EXPECT_EQ(m.methods, Strings{"GET"});
  EXPECT_EQ(m.content_type, "application/grpc*");
  auto headers = m.headers;  // the order of the entries carries no meaning
  std::sort(headers.begin(), headers.end());
  EXPECT_EQ(headers, (std::vector<std::pair<std::string, std::string>>{{"X-Debug", "*"},
                                                                       {"X-Env", "canary"}}));
  EXPECT_EQ(r.config.routes[1].match.methods, (Strings{"GET", "HEAD"}));
  EXPECT_EQ(r.config.routes[1].match.path, "/exact");
}

TEST(GatewayLoader, RespondActionKeys) {
  Loaded r = load(R"(
[[route]]
[route.action]
type = "respond"
status = 418
body = "short and stout"
content_type = "text/html"
headers = { "X-Teapot" = "yes" }
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  const RespondAction& a = r.config.routes.at(0).respond;
  EXPECT_EQ(a.status, 418);
  EXPECT_EQ(a.body, "short and stout");
  EXPECT_EQ(a.content_type, "text/html");
  ASSERT_EQ(a.headers.size(), 1u);
  EXPECT_EQ(a.headers[0], (std::pair<std::string, std::string>{"X-Teapot", "yes"}));
}

// ----- backends ---------------------------------------------------------------------------------

TEST(GatewayLoader, BackendAddressForms) {
  struct Case {
    std::string_view text;
    std::string_view host;
    std::uint16_t port;
  };
  for (const Case& c :
       {Case{"127.0.0.1:8080", "127.0.0.1", 8080}, Case{"backend.local:1", "backend.local", 1},
        Case{"[::1]:9000", "::1", 9000}, Case{"http://example.com", "example.com", 80},
        Case{"http://example.com/", "example.com", 80},
        Case{"HTTP://example.com:8081", "example.com", 8081},
        Case{"http://[2001:db8::1]", "2001:db8::1", 80},
        Case{"http://[2001:db8::1]:81", "2001:db8::1", 81}, Case{"ws://chat:3000", "chat", 3000},
        Case{"h:65535", "h", 65535}}) {
    std::string error;
    Backend b = parse_backend(c.text, error);
    EXPECT_EQ(error, "") << c.text;
    EXPECT_EQ(b.url, c.text);
    EXPECT_EQ(b.host, c.host) << c.text;
    EXPECT_EQ(b.port, c.port) << c.text;
  }
}

TEST(GatewayLoader, BadBackendAddressesAreRefused) {
  struct Case {
    std::string_view text;
    std::string_view error;
  };
  for (const Case& c : {
           Case{"localhost", "backend 'localhost' needs a port (host:port)"},
           Case{"h:0", "invalid port '0'"},
           Case{"h:65536", "invalid port '65536'"},
           Case{"h:8o", "invalid port '8o'"},
           Case{"h:", "backend 'h:' needs a port (host:port)"},
           Case{"http://h/api", "a backend is a host and port, without path, query or user"},
           Case{"http://user@h:1", "a backend is a host and port, without path, query or user"},
           Case{"h:1?x", "a backend is a host and port, without path, query or user"},
           Case{"[::1:80", "unterminated IPv6 address"},
           Case{"[::1]80", "expected ':' after the IPv6 address"},
           Case{"[zz::1]:80", "invalid IPv6 address"},
           Case{"::1:80", "invalid host '::1'"},
           Case{"bad host:80", "invalid host 'bad host'"},
           Case{"ftp://h:21", "unknown backend scheme 'ftp'"},
       }) {
    std::string error;
    parse_backend(c.text, error);
    EXPECT_EQ(error, c.error) << c.text;
  }
}

TEST(GatewayLoader, H3BackendsSpeakHttp3OverTls) {
  std::string error;
  Backend b = parse_backend("h3://h:8443", error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(b.http3);
  EXPECT_TRUE(b.tls);
  EXPECT_FALSE(b.http2);
  EXPECT_EQ(b.port, 8443);
  b = parse_backend("H3://h", error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(b.http3);
  EXPECT_EQ(b.port, 443);
}

TEST(GatewayLoader, Http2SchemesSayHowTheBackendIsReached) {
  struct Case {
    std::string_view text;
    bool tls;
    std::uint16_t port;
  };
  for (const Case& c : {Case{"h2://h", false, 80}, Case{"h2s://h", true, 443},
                        Case{"grpc://h:50051", false, 50051}, Case{"grpcs://h", true, 443}}) {
    std::string error;
    Backend b = parse_backend(c.text, error);
    EXPECT_EQ(error, "") << c.text;
    EXPECT_TRUE(b.http2) << c.text;
    EXPECT_EQ(b.tls, c.tls) << c.text;
    EXPECT_EQ(b.port, c.port) << c.text;
  }
  std::string error;
  EXPECT_FALSE(parse_backend("https://h", error).http2);
}

TEST(GatewayLoader, HttpsAndWssBackendsUseTlsAndDefaultToPort443) {
  std::string error;
  Backend b = parse_backend("https://api.example.com", error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(b.tls);
  EXPECT_EQ(b.port, 443);
  b = parse_backend("WSS://10.0.0.1:8443", error);
  EXPECT_EQ(error, "");
  EXPECT_TRUE(b.tls);
  EXPECT_EQ(b.port, 8443);
  b = parse_backend("http://h", error);
  EXPECT_FALSE(b.tls);
  EXPECT_EQ(b.port, 80);
}

TEST(GatewayLoader, UpstreamTlsKeys) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["https://h:1"]
[upstream.tls]
verify = true
ca_file = "/etc/hostname"
client_cert = "/etc/hostname"
client_key = "/etc/hostname"
sni = "api.internal"
)");
  EXPECT_TRUE(r.errors.empty()) << r.all();
  ASSERT_EQ(r.config.upstreams.size(), 1u);
  const UpstreamTls& tls = r.config.upstreams[0].tls;
  EXPECT_TRUE(tls.verify);
  EXPECT_EQ(tls.ca_file, "/etc/hostname");
  EXPECT_EQ(tls.client_cert, "/etc/hostname");
  EXPECT_EQ(tls.sni, "api.internal");
}

TEST(GatewayLoader, UpstreamTlsErrorsNameTheKey) {
  Loaded r = load(R"(
[[upstream]]
name = "plain"
backends = ["http://h:1"]
tls = { verify = false }

[[upstream]]
name = "api"
backends = ["https://h:1"]
tls = { ca_file = "/nonexistent/ca.pem", client_key = "/etc/hostname", sni = "bad name", verify = 1 }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:4:7: [[upstream]] 'plain': [upstream.tls] applies to https://, wss://, "
                "h2s:// and grpcs:// backends, and this upstream has none",
                "gw.toml:9:99: [[upstream]] 'api' tls: verify must be true or false",
                "gw.toml:9:19: [[upstream]] 'api' tls: '/nonexistent/ca.pem' cannot be read: No "
                "such file or directory",
                "gw.toml:9:7: [[upstream]] 'api' tls: client_cert and client_key must be set "
                "together",
                "gw.toml:9:78: [[upstream]] 'api' tls: 'bad name' is not a host name",
            }))
      << r.all();
}

TEST(GatewayLoader, EachBadBackendIsReportedAtItsOwnPosition) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["ok:1", "nohost", "h9://x:1",
            { url = "h:99999" }, 42, { weight = 2 }]
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:3:21: [[upstream]] 'api': backend 'nohost' needs a port (host:port)",
                "gw.toml:3:31: [[upstream]] 'api': unknown backend scheme 'h9'",
                "gw.toml:4:13: [[upstream]] 'api': invalid port '99999'",
                "gw.toml:4:34: [[upstream]] 'api': a backend is a string or { url, weight }",
                "gw.toml:4:38: [[upstream]] 'api' backend: url is required",
            }))
      << r.all();
  ASSERT_EQ(r.config.upstreams.size(), 1u);
  ASSERT_EQ(r.config.upstreams[0].backends.size(), 1u);  // only the valid one is kept
  EXPECT_EQ(r.config.upstreams[0].backends[0].host, "ok");
}

TEST(GatewayLoader, BackendsMustBeANonEmptyList) {
  Loaded r = load(R"(
[[upstream]]
name = "a"
backends = []

[[upstream]]
name = "b"
backends = "h:1"
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:3:12: [[upstream]] 'a': backends must be a non-empty list",
                          "gw.toml:7:12: [[upstream]] 'b': backends must be a non-empty list",
                      }))
      << r.all();
}

TEST(GatewayLoader, BackendWeightOutOfRange) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = [{ url = "h:1", weight = 0 }]
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:3:37: [[upstream]] 'api' backend: weight must be an integer "
                              "between 1 and 1000"})
      << r.all();
}

// ----- one test per error kind ------------------------------------------------------------------

TEST(GatewayLoader, UnknownKeysAreReportedWithASuggestion) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
stratgy = "p2c"
frobnicate = 1
[upstream.passive]
max_fail = 3

[[route]]
[route.match]
pth = "/x"
[route.action]
type = "proxy"
upstrem = "api"
upstream = "api"
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:7:1: [[upstream]] 'api' passive: unknown key 'max_fail' (did you mean "
                "'max_fails'?)",
                "gw.toml:5:1: [[upstream]] 'api': unknown key 'frobnicate'",
                "gw.toml:4:1: [[upstream]] 'api': unknown key 'stratgy' (did you mean 'strategy'?)",
                "gw.toml:11:1: [[route]] 'route-1' match: unknown key 'pth' (did you mean 'path'?)",
                "gw.toml:14:1: [[route]] 'route-1' action: unknown key 'upstrem' (did you mean "
                "'upstream'?)",
            }))
      << r.all();
}

TEST(GatewayLoader, WrongTypesAreReportedAtTheValue) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
connect_timeout_ms = "5000"
strategy = 3
passive = { enabled = "yes" }

[[route]]
name = 7
match = "/x"
[route.action]
type = "proxy"
upstream = "api"
preserve_host = 1
)");
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:5:12: [[upstream]] 'api': strategy must be a string",
          "gw.toml:4:22: [[upstream]] 'api': connect_timeout_ms must be an integer between 1 and "
          "86400000",
          "gw.toml:6:23: [[upstream]] 'api' passive: enabled must be true or false",
          "gw.toml:9:8: [[route]] 'route-1': name must be a string",
          "gw.toml:10:9: [[route]] 'route-1': match must be a table",
          "gw.toml:14:17: [[route]] 'route-1' action: preserve_host must be true or false",
      }))
      << r.all();
}

TEST(GatewayLoader, OutOfRangeIntegersAreRefused) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
read_timeout_ms = 0
retries = 101
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:4:19: [[upstream]] 'api': read_timeout_ms must be an integer between 1 "
                "and 86400000",
                "gw.toml:5:11: [[upstream]] 'api': retries must be an integer between 0 and 100",
            }))
      << r.all();
  EXPECT_EQ(r.config.upstreams.at(0).read_timeout, milliseconds(30000));  // default kept
}

TEST(GatewayLoader, DanglingUpstreamReference) {
  Loaded r = load(R"(
[[route]]
name = "a"
[route.action]
type = "proxy"
upstream = "users"

[[route]]
name = "b"
action = { type = "websocket", upstream = "nothing-like-it" }

[[upstream]]
name = "user"
backends = ["h:1"]
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:5:12: [[route]] 'a' action: unknown upstream 'users' (did you mean "
                "'user'?)",
                "gw.toml:9:43: [[route]] 'b' action: unknown upstream 'nothing-like-it'",
            }))
      << r.all();
}

TEST(GatewayLoader, UpstreamMayBeDefinedAfterTheRouteUsingIt) {
  Loaded r = load(R"(
[[route]]
action = { type = "proxy", upstream = "late" }

[[upstream]]
name = "late"
backends = ["h:1"]
)");
  EXPECT_TRUE(r.errors.empty()) << r.all();
}

TEST(GatewayLoader, DuplicateUpstreamName) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]

[[upstream]]
name = "api"
backends = ["h:2"]
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:6:8: [[upstream]] 'api': upstream 'api' is defined twice"})
      << r.all();
}

// Route names label metrics and logs (CONFIG.md), so two routes must not share one. The message
// wording is not pinned down here, only that the second name is reported at its position.
TEST(GatewayLoader, DuplicateRouteName) {
  Loaded r = load(R"(
[[route]]
name = "dup"
action = { type = "respond" }

[[route]]
name = "dup"
action = { type = "respond" }
)");
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0].rfind("gw.toml:6:8: ", 0), 0u) << r.errors[0];
  EXPECT_NE(r.errors[0].find("'dup'"), std::string::npos) << r.errors[0];
}

// An empty name is no name: it could not be told apart in logs, and `upstream = ""` would
// reference it. The wording is not pinned down, only the position (the value).
TEST(GatewayLoader, EmptyUpstreamNameIsRefused) {
  Loaded r = load(R"(
[[upstream]]
name = ""
backends = ["h:1"]
)");
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0].rfind("gw.toml:2:8: ", 0), 0u) << r.errors[0];
}

TEST(GatewayLoader, UnknownStrategyWithSuggestion) {
  Loaded r = load(R"(
[[upstream]]
name = "a"
backends = ["h:1"]
strategy = "round-robin"

[[upstream]]
name = "b"
backends = ["h:1"]
strategy = "fastest"
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:4:12: [[upstream]] 'a': unknown strategy 'round-robin' (did you mean "
                "'round_robin'?)",
                "gw.toml:9:12: [[upstream]] 'b': unknown strategy 'fastest'",
            }))
      << r.all();
  EXPECT_EQ(r.config.upstreams.at(0).strategy, Strategy::kRoundRobin);
}

TEST(GatewayLoader, EveryStrategyName) {
  for (auto [name, strategy] :
       {std::pair{"round_robin", Strategy::kRoundRobin},
        std::pair{"least_conn", Strategy::kLeastConn}, std::pair{"ip_hash", Strategy::kIpHash},
        std::pair{"random", Strategy::kRandom}, std::pair{"p2c", Strategy::kP2c}}) {
    Loaded r = load(std::string("[[upstream]]\nname = \"a\"\nbackends = [\"h:1\"]\nstrategy = \"") +
                    name + "\"\n");
    ASSERT_TRUE(r.errors.empty()) << r.all();
    EXPECT_EQ(r.config.upstreams.at(0).strategy, strategy) << name;
  }
}

TEST(GatewayLoader, RedirectStatusMustBeARedirect) {
  Loaded r = load(R"(
[[route]]
action = { type = "redirect", location = "/a", status = 302 }
[[route]]
action = { type = "redirect", location = "/a", status = 303 }
[[route]]
action = { type = "redirect", location = "/a", status = 307 }
[[route]]
action = { type = "redirect", location = "/a", status = 308 }
[[route]]
action = { type = "redirect", location = "/a", status = 304 }
[[route]]
action = { type = "redirect", location = "/a", status = 200 }
[[route]]
action = { type = "redirect", location = "/a", status = "301" }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:10:57: [[route]] 'route-5' action: redirect status must be 301, 302, 303, "
                "307 or 308",
                "gw.toml:12:57: [[route]] 'route-6' action: status must be an integer between "
                "301 and 308",
                "gw.toml:14:57: [[route]] 'route-7' action: status must be an integer between "
                "301 and 308",
            }))
      << r.all();
  ASSERT_EQ(r.config.routes.size(), 7u);
  EXPECT_EQ(r.config.routes[0].redirect.status, 302);
  EXPECT_EQ(r.config.routes[1].redirect.status, 303);
  EXPECT_EQ(r.config.routes[2].redirect.status, 307);
  EXPECT_EQ(r.config.routes[3].redirect.status, 308);
}

TEST(GatewayLoader, RespondStatusMustBeAFinalStatus) {
  Loaded r = load(R"(
[[route]]
action = { type = "respond", status = 700 }
[[route]]
action = { type = "respond", status = 101 }
[[route]]
action = { type = "respond", status = 599 }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:2:39: [[route]] 'route-1' action: status must be an integer between 200 "
                "and 599",
                "gw.toml:4:39: [[route]] 'route-2' action: status must be an integer between 200 "
                "and 599",
            }))
      << r.all();
  EXPECT_EQ(r.config.routes.at(2).respond.status, 599);
}

TEST(GatewayLoader, MissingRequiredKeys) {
  Loaded r = load(R"(
[[upstream]]
strategy = "random"

[[route]]
name = "no-action"

[[route]]
name = "no-type"
[route.action]
upstream = "x"

[[route]]
name = "no-upstream"
[route.action]
type = "proxy"

[[route]]
name = "no-location"
[route.action]
type = "redirect"

[[route]]
name = "no-root"
[route.action]
type = "static"
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:1:1: [[upstream]] '': name is required",
                          "gw.toml:1:1: [[upstream]] '': backends is required",
                          "gw.toml:4:1: [[route]] 'no-action': [route.action] is required",
                          "gw.toml:9:1: [[route]] 'no-type' action: type is required",
                          "gw.toml:14:1: [[route]] 'no-upstream' action: upstream is required",
                          "gw.toml:19:1: [[route]] 'no-location' action: location is required",
                          "gw.toml:24:1: [[route]] 'no-root' action: root is required",
                      }))
      << r.all();
}

TEST(GatewayLoader, UnknownActionTypeWithSuggestion) {
  Loaded r = load(R"(
[[route]]
action = { type = "proxi", upstream = "x" }
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:19: [[route]] 'route-1' action: unknown action type "
                              "'proxi' (did you mean 'proxy'?)"})
      << r.all();
}

// Two [route.action.<type>] tables and no `type`: which one is meant is ambiguous, so the route
// is refused rather than one being picked.
TEST(GatewayLoader, TwoActionTablesWithoutTypeAreAmbiguous) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]

[[route]]
[route.action.proxy]
upstream = "api"
[route.action.redirect]
location = "/elsewhere"
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:6:1: [[route]] 'route-1' action: a route has one action, "
                              "but [route.action.proxy], [route.action.redirect] are all given; "
                              "keep one (or say which with type)"})
      << r.all();
}

// The action's keys go in one place: a key left in [route.action] next to a
// [route.action.<type>] table is named, instead of being called unknown.
TEST(GatewayLoader, ActionKeysSplitAcrossBothPlacesAreRefused) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]

[[route]]
[route.action]
type = "proxy"
preserve_host = true
[route.action.proxy]
upstream = "api"
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:8:1: [[route]] 'route-1' action: 'preserve_host' belongs "
                              "in [route.action.proxy] with the action's other keys (not split "
                              "across both)"})
      << r.all();
}

// With an explicit `type`, a table for another type is a key that does not belong there.
TEST(GatewayLoader, ActionTableOfAnotherTypeIsRefused) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]

[[route]]
[route.action]
type = "proxy"
upstream = "api"
[route.action.redirect]
location = "/elsewhere"

[[route]]
[route.action]
type = "proxy"
[route.action.proxy]
upstream = "api"
[route.action.respond]
status = 200
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:9:15: [[route]] 'route-1' action: unknown key 'redirect'",
                          "gw.toml:17:15: [[route]] 'route-2' action: unknown key 'respond'",
                      }))
      << r.all();
}

TEST(GatewayLoader, GrpcRoutesNeedHttp2Backends) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["grpc://h:1", "h:2"]

[[upstream]]
name = "rpc"
backends = ["grpc://h:1", "h2s://h:2"]

[[route]]
action = { type = "grpc", upstream = "api" }

[[route]]
action = { type = "grpc", upstream = "rpc" }
)");
  EXPECT_EQ(r.errors,
            (Strings{
                "gw.toml:10:38: [[route]] 'route-1' action: action type 'grpc' needs backends "
                "that speak HTTP/2 (grpc://, grpcs://, h2:// or h2s://), but upstream 'api' has "
                "'h:2'",
            }))
      << r.all();
  ASSERT_EQ(r.config.routes.size(), 2u);
  EXPECT_TRUE(r.config.routes[1].proxy.grpc);
  EXPECT_EQ(r.config.routes[1].kind, Route::Kind::kProxy);
}

TEST(GatewayLoader, InvalidMatchValues) {
  Loaded r = load(R"(
[[route]]
action = { type = "respond" }
[route.match]
host = "exa mple.com"
path = "/a*"
method = ["GET", "BAD METHOD"]
headers = { "X-A" = 1 }

[[route]]
action = { type = "respond" }
match = { path = "api/*" }
)");
  EXPECT_EQ(
      r.errors,
      (Strings{
          "gw.toml:4:8: [[route]] 'route-1' match: host must be a name or '*.domain'",
          "gw.toml:5:8: [[route]] 'route-1' match: path must start with '/' and may only end in "
          "'/*'",
          "gw.toml:6:10: [[route]] 'route-1' match: 'BAD METHOD' is not an HTTP method",
          "gw.toml:7:21: [[route]] 'route-1' match.headers: each entry is name = \"value\" or "
          "\"*\"",
          "gw.toml:11:18: [[route]] 'route-2' match: path must start with '/' and may only end in "
          "'/*'",
      }))
      << r.all();
}

TEST(GatewayLoader, StaticRootMustBeADirectory) {
  Loaded r = load(R"(
[[route]]
action = { type = "static", root = "/nonexistent/rws-test-root" }
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:2:36: [[route]] 'route-1' action: root "
                              "'/nonexistent/rws-test-root' is not a readable directory"})
      << r.all();
}

TEST(GatewayLoader, ProxyPathPrefixesAreChecked) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]

[[route]]
[route.action]
type = "proxy"
upstream = "api"
strip_path_prefix = "/api/"
add_path_prefix = "v2"
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:6:1: [[route]] 'route-1' action: path prefixes start with '/' "
                          "and do not end with it ('/api/')",
                          "gw.toml:6:1: [[route]] 'route-1' action: path prefixes start with '/' "
                          "and do not end with it ('v2')",
                      }))
      << r.all();
}

TEST(GatewayLoader, SectionsMustBeArraysOfTables) {
  Loaded r = load(R"(
upstream = "api"
[route]
name = "single"
)");
  EXPECT_EQ(r.errors, (Strings{
                          "gw.toml:1:12: 'upstream' must be an array of tables ([[upstream]])",
                          "gw.toml:2:1: 'route' must be an array of tables ([[route]])",
                      }))
      << r.all();
}

TEST(GatewayLoader, ErrorsOfSeveralRoutesAreAllReported) {
  Loaded r = load(R"(
[[route]]
action = { type = "respond", status = 1 }
[[route]]
action = { type = "respond", status = 2 }
[[route]]
action = { type = "respond", status = 3 }
)");
  EXPECT_EQ(r.errors.size(), 3u) << r.all();
}

// ----- historical aliases -----------------------------------------------------------------------

TEST(GatewayLoader, LoadBalancingAliasWarnsOnce) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
load_balancing = "ip_hash"
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.config.upstreams.at(0).strategy, Strategy::kIpHash);
  EXPECT_EQ(r.warnings, Strings{"gw.toml:4:18: 'load_balancing' is deprecated; use 'strategy'"});
}

TEST(GatewayLoader, LeastConnectionsAliasWarnsOnce) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
strategy = "least_connections"
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.config.upstreams.at(0).strategy, Strategy::kLeastConn);
  EXPECT_EQ(r.warnings,
            Strings{"gw.toml:4:12: strategy 'least_connections' is deprecated; use 'least_conn'"});
}

// Both aliases at once: one warning per alias (CONFIG.md: "a one-line deprecation warning").
TEST(GatewayLoader, BothStrategyAliasesWarnOncePerAlias) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
load_balancing = "least_connections"
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.config.upstreams.at(0).strategy, Strategy::kLeastConn);
  EXPECT_EQ(r.warnings, (Strings{
                            "gw.toml:4:18: 'load_balancing' is deprecated; use 'strategy'",
                            "gw.toml:4:18: strategy 'least_connections' is deprecated; use "
                            "'least_conn'",
                        }))
      << r.all();
}

TEST(GatewayLoader, ProxyPrefixAliasesWarn) {
  Loaded r = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]

[[route]]
[route.action]
type = "proxy"
upstream = "api"
strip_prefix = "/api"
add_prefix = "/v2"
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.config.routes.at(0).proxy.strip_path_prefix, "/api");
  EXPECT_EQ(r.config.routes.at(0).proxy.add_path_prefix, "/v2");
  EXPECT_EQ(r.warnings, (Strings{
                            "gw.toml:9:16: 'strip_prefix' is deprecated; use 'strip_path_prefix'",
                            "gw.toml:10:14: 'add_prefix' is deprecated; use 'add_path_prefix'",
                        }));
}

// ----- equivalent spellings ---------------------------------------------------------------------

void expect_same_route(const Route& a, const Route& b) {
  EXPECT_EQ(a.name, b.name);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.match.host, b.match.host);
  EXPECT_EQ(a.match.path, b.match.path);
  EXPECT_EQ(a.match.methods, b.match.methods);
  EXPECT_EQ(a.match.content_type, b.match.content_type);
  EXPECT_EQ(a.match.headers, b.match.headers);
  EXPECT_EQ(a.proxy.upstream, b.proxy.upstream);
  EXPECT_EQ(a.proxy.strip_path_prefix, b.proxy.strip_path_prefix);
  EXPECT_EQ(a.proxy.add_path_prefix, b.proxy.add_path_prefix);
  EXPECT_EQ(a.proxy.preserve_host, b.proxy.preserve_host);
  EXPECT_EQ(a.proxy.connect_timeout, b.proxy.connect_timeout);
  EXPECT_EQ(a.proxy.read_timeout, b.proxy.read_timeout);
  EXPECT_EQ(a.redirect.location, b.redirect.location);
  EXPECT_EQ(a.redirect.status, b.redirect.status);
  EXPECT_EQ(a.respond.status, b.respond.status);
  EXPECT_EQ(a.respond.body, b.respond.body);
  EXPECT_EQ(a.respond.headers, b.respond.headers);
}

TEST(GatewayLoader, InlineTablesAndSubTablesAreEquivalent) {
  Loaded sub = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
[upstream.health_check]
path = "/ping"
expect_status = "200"
[upstream.passive]
max_fails = 2
[upstream.circuit_breaker]
recovery_secs = 4

[[route]]
name = "r"
[route.match]
host = "api.example.com"
path = "/api/*"
[route.match.headers]
X-Env = "canary"
[route.action]
type = "proxy"
upstream = "api"
strip_path_prefix = "/api"
read_timeout_ms = 900
)");
  Loaded inl = load(R"(
[[upstream]]
name = "api"
backends = ["h:1"]
health_check = { path = "/ping", expect_status = "200" }
passive = { max_fails = 2 }
circuit_breaker = { recovery_secs = 4 }

[[route]]
name = "r"
match = { host = "api.example.com", path = "/api/*", headers = { X-Env = "canary" } }
action = { type = "proxy", upstream = "api", strip_path_prefix = "/api", read_timeout_ms = 900 }
)");
  ASSERT_TRUE(sub.errors.empty()) << sub.all();
  ASSERT_TRUE(inl.errors.empty()) << inl.all();
  ASSERT_EQ(sub.config.routes.size(), 1u);
  ASSERT_EQ(inl.config.routes.size(), 1u);
  expect_same_route(sub.config.routes[0], inl.config.routes[0]);
  EXPECT_EQ(inl.config.routes[0].proxy.read_timeout, milliseconds(900));
  EXPECT_EQ(inl.config.routes[0].match.headers.size(), 1u);

  const Upstream& a = sub.config.upstreams.at(0);
  const Upstream& b = inl.config.upstreams.at(0);
  ASSERT_TRUE(a.health_check && b.health_check);
  EXPECT_EQ(a.health_check->path, b.health_check->path);
  EXPECT_EQ(b.health_check->path, "/ping");
  EXPECT_EQ(a.health_check->expect_min, b.health_check->expect_min);
  EXPECT_EQ(a.health_check->expect_max, b.health_check->expect_max);
  EXPECT_EQ(a.passive.max_fails, b.passive.max_fails);
  EXPECT_EQ(b.passive.max_fails, 2u);
  ASSERT_TRUE(a.circuit_breaker && b.circuit_breaker);
  EXPECT_EQ(a.circuit_breaker->recovery, b.circuit_breaker->recovery);
  EXPECT_EQ(b.circuit_breaker->recovery, seconds(4));
}

TEST(GatewayLoader, ActionKeysInEitherPlacement) {
  const std::string upstream = "[[upstream]]\nname = \"api\"\nbackends = [\"h:1\"]\n";
  Loaded direct = load(upstream + R"(
[[route]]
name = "r"
[route.action]
type = "proxy"
upstream = "api"
add_path_prefix = "/v2"
preserve_host = true
connect_timeout_ms = 250
)");
  Loaded nested_with_type = load(upstream + R"(
[[route]]
name = "r"
[route.action]
type = "proxy"
[route.action.proxy]
upstream = "api"
add_path_prefix = "/v2"
preserve_host = true
connect_timeout_ms = 250
)");
  Loaded nested_only = load(upstream + R"(
[[route]]
name = "r"
[route.action.proxy]
upstream = "api"
add_path_prefix = "/v2"
preserve_host = true
connect_timeout_ms = 250
)");
  for (const Loaded* r : {&direct, &nested_with_type, &nested_only}) {
    ASSERT_TRUE(r->errors.empty()) << r->all();
    ASSERT_EQ(r->config.routes.size(), 1u);
    const Route& route = r->config.routes[0];
    EXPECT_EQ(route.kind, Route::Kind::kProxy);
    EXPECT_EQ(route.proxy.upstream, "api");
    EXPECT_EQ(route.proxy.add_path_prefix, "/v2");
    EXPECT_TRUE(route.proxy.preserve_host);
    EXPECT_EQ(route.proxy.connect_timeout, milliseconds(250));
  }
  expect_same_route(direct.config.routes[0], nested_with_type.config.routes[0]);
  expect_same_route(direct.config.routes[0], nested_only.config.routes[0]);
}

TEST(GatewayLoader, RedirectAndRespondKeysInEitherPlacement) {
  Loaded direct = load(R"(
[[route]]
[route.action]
type = "redirect"
location = "https://$host$request_uri"
status = 308
[[route]]
[route.action]
type = "respond"
status = 204
body = ""
)");
  Loaded nested = load(R"(
[[route]]
[route.action.redirect]
location = "https://$host$request_uri"
status = 308
[[route]]
[route.action.respond]
status = 204
body = ""
)");
  ASSERT_TRUE(direct.errors.empty()) << direct.all();
  ASSERT_TRUE(nested.errors.empty()) << nested.all();
  ASSERT_EQ(nested.config.routes.size(), 2u);
  EXPECT_EQ(nested.config.routes[0].kind, Route::Kind::kRedirect);
  EXPECT_EQ(nested.config.routes[0].redirect.status, 308);
  EXPECT_EQ(nested.config.routes[1].kind, Route::Kind::kRespond);
  EXPECT_EQ(nested.config.routes[1].respond.status, 204);
  expect_same_route(direct.config.routes.at(0), nested.config.routes[0]);
  expect_same_route(direct.config.routes.at(1), nested.config.routes[1]);
}

TEST(GatewayLoader, UnknownKeyInsideTheNestedActionTable) {
  Loaded r = load(R"(
[[route]]
[route.action.respond]
stauts = 201
)");
  EXPECT_EQ(r.errors, Strings{"gw.toml:3:1: [[route]] 'route-1' action: unknown key 'stauts' "
                              "(did you mean 'status'?)"})
      << r.all();
}

// ----- health_check expect_status ---------------------------------------------------------------

TEST(GatewayLoader, ExpectStatusForms) {
  struct Case {
    std::string_view toml_value;
    int min;
    int max;
  };
  for (const Case& c :
       {Case{"\"2xx\"", 200, 299}, Case{"\"3xx\"", 300, 399}, Case{"\"1xx\"", 100, 199},
        Case{"\"5xx\"", 500, 599}, Case{"\"200\"", 200, 200}, Case{"204", 204, 204},
        Case{"\"200-399\"", 200, 399}, Case{"\"404-404\"", 404, 404}}) {
    Loaded r = load(
        "[[upstream]]\nname = \"a\"\nbackends = [\"h:1\"]\n"
        "health_check = { expect_status = " +
        std::string(c.toml_value) + " }\n");
    ASSERT_TRUE(r.errors.empty()) << c.toml_value << "\n" << r.all();
    const auto& hc = r.config.upstreams.at(0).health_check;
    ASSERT_TRUE(hc.has_value());
    EXPECT_EQ(hc->expect_min, c.min) << c.toml_value;
    EXPECT_EQ(hc->expect_max, c.max) << c.toml_value;
  }
}

TEST(GatewayLoader, BadExpectStatusIsRefused) {
  for (std::string_view value :
       {"\"6xx\"", "\"0xx\"", "\"2x\"", "\"2xxx\"", "\"99\"", "\"600\"", "\"399-200\"", "\"200-\"",
        "\"-200\"", "\"200-600\"", "\"abc\"", "\"\"", "true", "2.5", "[200]"}) {
    Loaded r = load(
        "[[upstream]]\nname = \"a\"\nbackends = [\"h:1\"]\n"
        "health_check = { expect_status = " +
        std::string(value) + " }\n");
    EXPECT_EQ(r.errors, Strings{"gw.toml:4:34: [[upstream]] 'a' health_check: expect_status must "
                                "be like \"2xx\", \"200\" or \"200-399\""})
        << value;
  }
}

TEST(GatewayLoader, HealthCheckPathMustStartWithSlash) {
  Loaded r = load(R"(
[[upstream]]
name = "a"
backends = ["h:1"]
[upstream.health_check]
path = "health"
)");
  EXPECT_EQ(r.errors,
            Strings{"gw.toml:5:8: [[upstream]] 'a' health_check: path must start with '/'"})
      << r.all();
}

// ----- is_gateway_document ----------------------------------------------------------------------

TEST(GatewayLoader, IsGatewayDocumentLooksAtTheParsedDocument) {
  auto is_gateway = [](std::string_view text) {
    return is_gateway_document(toml::parse(text, std::string_view("gw.toml")));
  };
  EXPECT_FALSE(is_gateway(""));
  EXPECT_FALSE(is_gateway("port = 8080\nroot = \"/srv\"\n"));
  EXPECT_FALSE(is_gateway("[server]\nport = 1\n"));
  // Words in strings, comments or nested tables are not sections.
  EXPECT_FALSE(is_gateway("root = \"[[route]]\"\n# [[upstream]]\n"));
  EXPECT_FALSE(is_gateway("[server]\nroute = 1\n"));
  EXPECT_TRUE(is_gateway("[[route]]\naction = { type = \"respond\" }\n"));
  EXPECT_TRUE(is_gateway("[[upstream]]\nname = \"a\"\n"));
  EXPECT_TRUE(is_gateway("[[tcp_proxy]]\nname = \"a\"\n"));
  EXPECT_TRUE(is_gateway("[[udp_proxy]]\nname = \"a\"\n"));
  EXPECT_TRUE(is_gateway("[[ws_proxy]]\nname = \"a\"\n"));
}

TEST(GatewayLoader, EmptyDocumentLoadsNothing) {
  Loaded r = load("port = 80\n");
  EXPECT_TRUE(r.errors.empty()) << r.all();
  EXPECT_TRUE(r.config.routes.empty());
  EXPECT_TRUE(r.config.upstreams.empty());
}

}  // namespace
}  // namespace rws::config
