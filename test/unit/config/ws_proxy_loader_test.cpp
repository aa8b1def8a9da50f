#include "config/ws_proxy_loader.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/l4_loader.hpp"
#include "config/toml_reader.hpp"
#include "loader_test_support.hpp"

namespace rws::config {
namespace {

// Documents are raw strings starting with a newline for readability; load() drops it so that
// line 1 is the first line shown. [[tcp_proxy]] in the document is read first, as the file
// loader does; an [[upstream]] named "ws_proxy:taken" exists.
struct Loaded : Reported {
  std::vector<WsProxy> proxies;
};

Loaded load(std::string_view text) {
  toml::table document = parse_document(text, "ws.toml");
  Loaded out;
  Diagnostics diagnostics("ws.toml", out.errors, out.warnings);
  L4Config l4 = load_l4(document, diagnostics);
  Upstream taken;
  taken.name = "ws_proxy:taken";
  out.proxies = load_ws_proxies(document, l4, {taken}, diagnostics);
  return out;
}

void expect_error(std::string_view text, const std::string& expected) {
  Loaded r = load(text);
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0], expected) << r.all();
}

TEST(WsProxyLoader, MinimalWsProxyIsAnUpstreamWithDefaults) {
  Loaded r = load(R"(
[[ws_proxy]]
name = "chat"
listen = "[::1]:9100"
backends = ["ws://10.0.0.1:8080", "wss://chat.internal", "10.0.0.2:81"]
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_EQ(r.proxies.size(), 1u);
  const WsProxy& p = r.proxies[0];
  EXPECT_EQ(p.name, "chat");
  EXPECT_EQ(p.ip, "::1");
  EXPECT_EQ(p.port, 9100);
  EXPECT_EQ(p.upstream.name, "ws_proxy:chat");
  ASSERT_EQ(p.upstream.backends.size(), 3u);
  EXPECT_EQ(p.upstream.backends[0].port, 8080);
  EXPECT_FALSE(p.upstream.backends[0].tls);
  EXPECT_EQ(p.upstream.backends[1].port, 443);
  EXPECT_TRUE(p.upstream.backends[1].tls);
  EXPECT_EQ(p.upstream.backends[2].host, "10.0.0.2");
  EXPECT_EQ(p.upstream.strategy, Strategy::kRoundRobin);
  EXPECT_EQ(p.upstream.connect_timeout, milliseconds(5000));
  EXPECT_EQ(p.upstream.read_timeout, milliseconds(30000));
  EXPECT_FALSE(p.upstream.health_check);
}

TEST(WsProxyLoader, EveryKeyIsRead) {
  Loaded r = load(R"(
[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
connect_timeout_ms = 250
read_timeout_ms = 900

[ws_proxy.health_check]
path = "/ready"
interval_secs = 2
timeout_ms = 300
healthy_threshold = 4
unhealthy_threshold = 5
expect_status = "200-204"
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  ASSERT_EQ(r.proxies.size(), 1u);
  const Upstream& u = r.proxies[0].upstream;
  EXPECT_EQ(u.connect_timeout, milliseconds(250));
  EXPECT_EQ(u.read_timeout, milliseconds(900));
  ASSERT_TRUE(u.health_check);
  EXPECT_EQ(u.health_check->path, "/ready");
  EXPECT_EQ(u.health_check->interval, seconds(2));
  EXPECT_EQ(u.health_check->timeout, milliseconds(300));
  EXPECT_EQ(u.health_check->healthy_threshold, 4u);
  EXPECT_EQ(u.health_check->unhealthy_threshold, 5u);
  EXPECT_EQ(u.health_check->expect_min, 200);
  EXPECT_EQ(u.health_check->expect_max, 204);
}

TEST(WsProxyLoader, MissingRequiredKeys) {
  Loaded r = load(R"(
[[ws_proxy]]
connect_timeout_ms = 5
)");
  const std::vector<std::string> expected = {
      "ws.toml:1:1: [[ws_proxy]] '': name is required",
      "ws.toml:1:1: [[ws_proxy]] '': listen is required",
      "ws.toml:1:1: [[ws_proxy]] '': backends is required",
  };
  EXPECT_EQ(r.errors, expected) << r.all();
}

TEST(WsProxyLoader, UnknownKeyWithDidYouMean) {
  expect_error(R"(
[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
conect_timeout_ms = 5
)",
               "ws.toml:5:1: [[ws_proxy]] 'chat': unknown key 'conect_timeout_ms' (did you "
               "mean 'connect_timeout_ms'?)");
}

TEST(WsProxyLoader, BadHealthCheck) {
  expect_error(R"(
[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
health_check = { path = "ready" }
)",
               "ws.toml:5:25: [[ws_proxy]] 'chat' health_check: path must start with '/'");
}

TEST(WsProxyLoader, BackendsOtherThanWebSocketAreRefused) {
  expect_error(R"(
[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:0"
backends = ["http://127.0.0.1:1"]
)",
               "ws.toml:4:12: [[ws_proxy]] 'chat': a ws_proxy backend is ws://, wss:// or "
               "host:port, not 'http://127.0.0.1:1'");
  expect_error(R"(
[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:0"
backends = []
)",
               "ws.toml:4:12: [[ws_proxy]] 'chat': backends must be a non-empty list");
}

TEST(WsProxyLoader, BadListenAddress) {
  expect_error(R"(
[[ws_proxy]]
name = "chat"
listen = "localhost:80"
backends = ["127.0.0.1:1"]
)",
               "ws.toml:3:10: [[ws_proxy]] 'chat': listen: 'localhost' is not an IPv4 address "
               "(IPv6 goes in brackets; no host names)");
}

TEST(WsProxyLoader, DuplicateNamesAndAddresses) {
  Loaded r = load(R"(
[[tcp_proxy]]
name = "db"
listen = "127.0.0.1:9000"
backends = ["127.0.0.1:1"]

[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:9100"
backends = ["127.0.0.1:1"]

[[ws_proxy]]
name = "chat"
listen = "127.0.0.1:9100"
backends = ["127.0.0.1:1"]

[[ws_proxy]]
name = "db"
listen = "127.0.0.1:9000"
backends = ["127.0.0.1:1"]
)");
  const std::vector<std::string> expected = {
      "ws.toml:12:8: [[ws_proxy]] 'chat': ws_proxy 'chat' is defined twice",
      "ws.toml:13:10: [[ws_proxy]] 'chat': listen address '127.0.0.1:9100' is already used by "
      "ws_proxy 'chat'",
      "ws.toml:17:8: [[ws_proxy]] 'db': the name 'db' is used by a tcp_proxy",
      "ws.toml:18:10: [[ws_proxy]] 'db': listen address '127.0.0.1:9000' is already used by "
      "tcp_proxy 'db'",
  };
  EXPECT_EQ(r.errors, expected) << r.all();
}

TEST(WsProxyLoader, NameOfAnUpstreamIsRefused) {
  expect_error(R"(
[[ws_proxy]]
name = "taken"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
)",
               "ws.toml:2:8: [[ws_proxy]] 'taken': an [[upstream]] is named 'ws_proxy:taken', the "
               "name of this ws_proxy's backends");
}

TEST(WsProxyLoader, SectionMustBeAnArrayOfTables) {
  expect_error("ws_proxy = { name = \"a\" }\n",
               "ws.toml:1:12: 'ws_proxy' must be an array of tables ([[ws_proxy]])");
}

}  // namespace
}  // namespace rws::config
