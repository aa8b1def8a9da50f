#include "config/l4_loader.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

#include "config/toml_reader.hpp"
#include "loader_test_support.hpp"

namespace rws::config {
namespace {

// Documents are raw strings starting with a newline for readability; load() drops it so that
// line 1 is the first line shown.
struct Loaded : Reported {
  L4Config config;
};

Loaded load(std::string_view text) {
  toml::table document = parse_document(text, "l4.toml");
  Loaded out;
  Diagnostics diagnostics("l4.toml", out.errors, out.warnings);
  out.config = load_l4(document, diagnostics);
  return out;
}

// Exactly one error, equal to `expected`.
void expect_error(std::string_view text, const std::string& expected) {
  Loaded r = load(text);
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0], expected) << r.all();
}

TEST(L4Loader, MinimalTcpProxyGetsTheDocumentedDefaults) {
  Loaded r = load(R"(
[[tcp_proxy]]
name = "db"
listen = "127.0.0.1:0"
backends = ["10.0.0.1:5432", "db.internal:5432"]
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_EQ(r.config.tcp.size(), 1u);
  const TcpProxyConfig& p = r.config.tcp[0];
  EXPECT_EQ(p.name, "db");
  EXPECT_EQ(p.listen.ip, "127.0.0.1");
  EXPECT_EQ(p.listen.port, 0);
  ASSERT_EQ(p.backends.size(), 2u);
  EXPECT_EQ(p.backends[1].host, "db.internal");
  EXPECT_EQ(p.backends[1].port, 5432);
  EXPECT_EQ(p.strategy, Strategy::kRoundRobin);
  EXPECT_EQ(p.connect_timeout, milliseconds(5000));
  EXPECT_EQ(p.idle_timeout, seconds(300));
  EXPECT_FALSE(p.health_check.has_value());
}

TEST(L4Loader, EveryTcpKeyIsRead) {
  Loaded r = load(R"(
[[tcp_proxy]]
name = "db"
listen = "[::1]:6000"
backends = "[::1]:5432"
strategy = "ip_hash"
connect_timeout_ms = 250
idle_timeout_secs = 9
[tcp_proxy.health_check]
interval_secs = 3
timeout_ms = 100
healthy_threshold = 1
unhealthy_threshold = 4
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  const TcpProxyConfig& p = r.config.tcp.at(0);
  EXPECT_EQ(p.listen.ip, "::1");
  EXPECT_EQ(p.listen.port, 6000);
  EXPECT_EQ(p.backends.at(0).host, "::1");
  EXPECT_EQ(p.strategy, Strategy::kIpHash);
  EXPECT_EQ(p.connect_timeout, milliseconds(250));
  EXPECT_EQ(p.idle_timeout, seconds(9));
  ASSERT_TRUE(p.health_check.has_value());
  EXPECT_EQ(p.health_check->interval, seconds(3));
  EXPECT_EQ(p.health_check->timeout, milliseconds(100));
  EXPECT_EQ(p.health_check->healthy_threshold, 1u);
  EXPECT_EQ(p.health_check->unhealthy_threshold, 4u);
}

TEST(L4Loader, UdpProxyDefaultsAndKeys) {
  Loaded r = load(R"(
[[udp_proxy]]
name = "dns"
listen = "0.0.0.0:5353"
backends = ["127.0.0.1:53"]

[[udp_proxy]]
name = "syslog"
listen = "127.0.0.1:514"
backends = ["127.0.0.1:1514"]
strategy = "least_conn"
reply_timeout_ms = 100
buffer_size = 1500
session_timeout_secs = 5
)");
  ASSERT_TRUE(r.errors.empty() && r.warnings.empty()) << r.all();
  ASSERT_EQ(r.config.udp.size(), 2u);
  const UdpProxyConfig& d = r.config.udp[0];
  EXPECT_EQ(d.reply_timeout, milliseconds(5000));
  EXPECT_EQ(d.buffer_size, 65536u);
  EXPECT_EQ(d.session_timeout, seconds(60));
  const UdpProxyConfig& s = r.config.udp[1];
  EXPECT_EQ(s.strategy, Strategy::kLeastConn);
  EXPECT_EQ(s.reply_timeout, milliseconds(100));
  EXPECT_EQ(s.buffer_size, 1500u);
  EXPECT_EQ(s.session_timeout, seconds(5));
}

TEST(L4Loader, HistoricalAliasesAreWarned) {
  Loaded r = load(R"(
[[tcp_proxy]]
name = "db"
bind = "127.0.0.1:7000"
backends = ["127.0.0.1:5432"]
load_balancing = "least_connections"

[[udp_proxy]]
name = "dns"
bind = "127.0.0.1:7000"
backends = ["127.0.0.1:53"]
read_timeout_ms = 700
)");
  ASSERT_TRUE(r.errors.empty()) << r.all();
  EXPECT_EQ(r.config.tcp.at(0).listen.port, 7000);
  EXPECT_EQ(r.config.tcp.at(0).strategy, Strategy::kLeastConn);
  EXPECT_EQ(r.config.udp.at(0).reply_timeout, milliseconds(700));
  const std::vector<std::string> expected = {
      "l4.toml:3:8: 'bind' is deprecated; use 'listen'",
      "l4.toml:5:18: 'load_balancing' is deprecated; use 'strategy'",
      "l4.toml:5:18: strategy 'least_connections' is deprecated; use 'least_conn'",
      "l4.toml:9:8: 'bind' is deprecated; use 'listen'",
      "l4.toml:11:19: 'read_timeout_ms' is deprecated; use 'reply_timeout_ms'",
  };
  EXPECT_EQ(r.warnings, expected) << r.all();
}

TEST(L4Loader, UnknownKeyWithDidYouMean) {
  expect_error(R"(
[[tcp_proxy]]
name = "db"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
conect_timeout_ms = 5
)",
               "l4.toml:5:1: [[tcp_proxy]] 'db': unknown key 'conect_timeout_ms' (did you mean "
               "'connect_timeout_ms'?)");
}

TEST(L4Loader, UnknownHealthCheckKey) {
  expect_error(R"(
[[tcp_proxy]]
name = "db"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
health_check = { interval_secs = 1, path = "/health" }
)",
               "l4.toml:5:37: [[tcp_proxy]] 'db' health_check: unknown key 'path'");
}

TEST(L4Loader, MissingRequiredKeys) {
  Loaded r = load(R"(
[[udp_proxy]]
strategy = "random"
)");
  const std::vector<std::string> expected = {
      "l4.toml:1:1: [[udp_proxy]] '': name is required",
      "l4.toml:1:1: [[udp_proxy]] '': listen is required",
      "l4.toml:1:1: [[udp_proxy]] '': backends is required",
  };
  EXPECT_EQ(r.errors, expected) << r.all();
}

TEST(L4Loader, DuplicateNamesOverBothKinds) {
  expect_error(R"(
[[tcp_proxy]]
name = "a"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]

[[udp_proxy]]
name = "a"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
)",
               "l4.toml:7:8: [[udp_proxy]] 'a': the name 'a' is already used by [[tcp_proxy]] "
               "'a'");
}

TEST(L4Loader, DuplicateListenAddressOfOneProtocol) {
  Loaded r = load(R"(
[[tcp_proxy]]
name = "a"
listen = "127.0.0.1:9000"
backends = ["127.0.0.1:1"]

[[udp_proxy]]
name = "b"
listen = "127.0.0.1:9000"
backends = ["127.0.0.1:1"]

[[tcp_proxy]]
name = "c"
listen = "127.0.0.1:9000"
backends = ["127.0.0.1:1"]
)");
  // TCP and UDP may share a port; two TCP listeners may not.
  ASSERT_EQ(r.errors.size(), 1u) << r.all();
  EXPECT_EQ(r.errors[0],
            "l4.toml:13:10: [[tcp_proxy]] 'c': listen address '127.0.0.1:9000' is already used "
            "by [[tcp_proxy]] 'a'");
}

TEST(L4Loader, BadListenAddresses) {
  struct Case {
    const char* listen;
    const char* message;
  };
  const Case cases[] = {
      {"localhost:80", "'localhost' is not an IPv4 address (IPv6 goes in brackets; no host names)"},
      {"127.0.0.1", "expected \"ip:port\" or \"[v6-address]:port\", not '127.0.0.1'"},
      {"127.0.0.1:65536", "invalid port '65536'"},
      {"127.0.0.1:", "invalid port ''"},
      {"[::1]", "expected \"[v6-address]:port\", not '[::1]'"},
      {"[zz::1]:80", "'zz::1' is not an IPv6 address"},
      {"::1:80", "'::1' is not an IPv4 address (IPv6 goes in brackets; no host names)"},
  };
  for (const Case& c : cases) {
    std::string doc = std::string("[[tcp_proxy]]\nname = \"a\"\nlisten = \"") + c.listen +
                      "\"\nbackends = [\"127.0.0.1:1\"]\n";
    expect_error(doc, std::string("l4.toml:3:10: [[tcp_proxy]] 'a': listen: ") + c.message);
  }
}

TEST(L4Loader, BadBackends) {
  struct Case {
    const char* backends;
    const char* message;
  };
  const Case cases[] = {
      {R"(["http://a:80"])",
       "backend 'http://a:80': an L4 backend is \"host:port\", without a "
       "scheme"},
      {R"(["a"])", "backend 'a': backend 'a' needs a port (host:port)"},
      {R"(["a:0"])", "backend 'a:0': invalid port '0'"},
      {R"(["a b:1"])", "backend 'a b:1': invalid host 'a b'"},
      {R"([])", "backends must list at least one \"host:port\""},
      {R"([1])", "backends must list strings"},
  };
  for (const Case& c : cases) {
    std::string doc = std::string("[[udp_proxy]]\nname = \"a\"\nlisten = \"127.0.0.1:0\"\n") +
                      "backends = " + c.backends + "\n";
    Loaded r = load(doc);
    ASSERT_EQ(r.errors.size(), 1u) << r.all();
    EXPECT_NE(r.errors[0].find(std::string("[[udp_proxy]] 'a': ") + c.message), std::string::npos)
        << r.all();
    EXPECT_EQ(r.errors[0].rfind("l4.toml:4:", 0), 0u) << r.all();
  }
}

TEST(L4Loader, UnknownStrategy) {
  expect_error(R"(
[[tcp_proxy]]
name = "a"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
strategy = "round_robbin"
)",
               "l4.toml:5:12: [[tcp_proxy]] 'a': unknown strategy 'round_robbin' (did you mean "
               "'round_robin'?); L4 listeners offer round_robin, least_conn, random, ip_hash");
}

TEST(L4Loader, OutOfRangeValues) {
  Loaded r = load(R"(
[[udp_proxy]]
name = "a"
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
buffer_size = 100
session_timeout_secs = 0
reply_timeout_ms = "5s"
)");
  const std::vector<std::string> expected = {
      "l4.toml:7:20: [[udp_proxy]] 'a': reply_timeout_ms must be an integer between 1 and "
      "86400000",
      "l4.toml:5:15: [[udp_proxy]] 'a': buffer_size must be an integer between 512 and 65536",
      "l4.toml:6:24: [[udp_proxy]] 'a': session_timeout_secs must be an integer between 1 and "
      "604800",
  };
  EXPECT_EQ(r.errors, expected) << r.all();
}

TEST(L4Loader, SectionMustBeAnArrayOfTables) {
  expect_error(R"(
[tcp_proxy]
name = "a"
)",
               "l4.toml:1:1: 'tcp_proxy' must be an array of tables ([[tcp_proxy]])");
}

TEST(L4Loader, EmptyName) {
  expect_error(R"(
[[tcp_proxy]]
name = ""
listen = "127.0.0.1:0"
backends = ["127.0.0.1:1"]
)",
               "l4.toml:2:8: [[tcp_proxy]] '': name must not be empty");
}

}  // namespace
}  // namespace rws::config
