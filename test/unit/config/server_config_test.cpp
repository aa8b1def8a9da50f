#include "config/server_config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

#include "config/server_keys.hpp"
#include "config/suggest.hpp"

namespace rws::config {
namespace {

namespace fs = std::filesystem;

// Runs the loader in a fresh temporary directory (so no stray rws.config.toml is picked up),
// with the given arguments and environment.
class ConfigTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("rws-config-test-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
    previous_ = fs::current_path();
    fs::current_path(dir_);
  }
  void TearDown() override {
    fs::current_path(previous_);
    fs::remove_all(dir_);
  }

  void write_file(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  LoadResult load(std::vector<std::string> args) {
    return load_server_config(args, [this](const char* name) -> const char* {
      auto it = env_.find(name);
      return it == env_.end() ? nullptr : it->second.c_str();
    });
  }

  std::string all_errors(const LoadResult& r) {
    std::string out;
    for (const std::string& e : r.errors)
      out += e + "\n";
    return out;
  }

  std::map<std::string, std::string> env_;
  fs::path dir_;
  fs::path previous_;
};

TEST_F(ConfigTest, Defaults) {
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.config.server.ip, "0.0.0.0");
  EXPECT_EQ(r.config.server.port, 7878);
  EXPECT_EQ(r.config.server.max_body_size, 0u);
  EXPECT_EQ(r.config.server.header_timeout.count(), 10000);
  EXPECT_EQ(r.config.files.root, ".");
  EXPECT_TRUE(r.config.files.directory_listing);
  EXPECT_TRUE(r.config.config_file.empty());
}

TEST_F(ConfigTest, LongShortAndEqualsForms) {
  LoadResult r =
      load({"--port=8081", "-i", "127.0.0.1", "-t", "3", "--max-body-size", "99", "-r", "4096"});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.config.server.port, 8081);
  EXPECT_EQ(r.config.server.ip, "127.0.0.1");
  EXPECT_EQ(r.config.server.thread_count, 3u);
  EXPECT_EQ(r.config.server.max_body_size, 99u);
  EXPECT_EQ(r.config.server.request_allocation_size, 4096u);
}

TEST_F(ConfigTest, PrecedenceCliOverFileOverEnvironment) {
  env_["RWS_CONFIG_PORT"] = "1001";
  env_["RWS_CONFIG_IDLE_TIMEOUT_MS"] = "5";
  env_["RWS_CONFIG_BODY_TIMEOUT_MS"] = "6";
  write_file("rws.config.toml", "port = 1002\nidle_timeout_ms = 7\n");
  LoadResult r = load({"--port", "1003"});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.config.server.port, 1003);               // CLI
  EXPECT_EQ(r.config.server.idle_timeout.count(), 7);  // file over environment
  EXPECT_EQ(r.config.server.body_timeout.count(), 6);  // environment over default
  EXPECT_EQ(r.config.config_file, "rws.config.toml");
}

TEST_F(ConfigTest, ServerTableAndEnvironmentAliases) {
  write_file("other.toml",
             "[server]\nmax_header_size = 2048\ndirectory_listing = false\n"
             "spa_fallback_exclude_prefixes = [\"/api\", \"/x\"]\n");
  env_["RWS_CONFIG_FILE"] = "other.toml";
  env_["RWS_CONFIG_MAX_BODY_SIZE_IN_BYTES"] = "1234";
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.config.server.max_header_size, 2048u);
  EXPECT_FALSE(r.config.files.directory_listing);
  EXPECT_EQ(r.config.files.spa_fallback_exclude_prefixes, (std::vector<std::string>{"/api", "/x"}));
  EXPECT_EQ(r.config.server.max_body_size, 1234u);

  env_["RWS_CONFIG_MAX_BODY_SIZE"] = "55";  // the canonical name wins over the alias
  EXPECT_EQ(load({}).config.server.max_body_size, 55u);
}

TEST_F(ConfigTest, EnvironmentListsAndBooleans) {
  env_["RWS_CONFIG_SPA_FALLBACK_EXCLUDE_PREFIXES"] = "/api, /static ,";
  env_["RWS_CONFIG_DIRECTORY_LISTING"] = "off";
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.config.files.spa_fallback_exclude_prefixes,
            (std::vector<std::string>{"/api", "/static"}));
  EXPECT_FALSE(r.config.files.directory_listing);
}

TEST_F(ConfigTest, TrustedProxiesAreCidrBlocks) {
  write_file("rws.config.toml", "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n");
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  ASSERT_EQ(r.config.server.trusted_proxies.size(), 2u);
  EXPECT_TRUE(r.config.server.trusted_proxies[0].contains("10.200.0.1"));
  EXPECT_TRUE(r.config.server.trusted_proxies[1].contains("::1"));

  env_["RWS_CONFIG_TRUSTED_PROXIES"] = "127.0.0.1, 10.0.0.0/33";
  r = load({});
  EXPECT_NE(
      all_errors(r).find("RWS_CONFIG_TRUSTED_PROXIES: invalid value '127.0.0.1, 10.0.0.0/33': "
                         "'10.0.0.0/33' is not an IP address or CIDR block"),
      std::string::npos)
      << all_errors(r);
}

TEST_F(ConfigTest, BadValuesNameTheirSource) {
  env_["RWS_CONFIG_THREAD_COUNT"] = "lots";
  LoadResult r = load({"--port", "abc", "--ip=1.2.3", "--idle-timeout-ms", "0",
                       "--directory-listing", "maybe", "--log-format", "xml"});
  std::string errors = all_errors(r);
  EXPECT_NE(errors.find("--port: invalid value 'abc' (expected an integer between 0 and 65535)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("--ip: invalid value '1.2.3'"), std::string::npos) << errors;
  EXPECT_NE(errors.find("--idle-timeout-ms: invalid value '0'"), std::string::npos) << errors;
  EXPECT_NE(errors.find("--directory-listing: invalid value 'maybe' (expected true or false)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("--log-format: invalid value 'xml': expected 'combined' or 'json'"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("RWS_CONFIG_THREAD_COUNT: invalid value 'lots'"), std::string::npos)
      << errors;
  EXPECT_EQ(r.errors.size(), 6u) << errors;
}

TEST_F(ConfigTest, OutOfRange) {
  LoadResult r = load({"--port", "65536"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0], "--port: invalid value '65536': expected an integer between 0 and 65535");
}

TEST_F(ConfigTest, UnknownFlagSuggestsTheClosest) {
  LoadResult r = load({"--prot", "80", "stray"});
  std::string errors = all_errors(r);
  EXPECT_NE(errors.find("unknown option '--prot' (did you mean '--port'?)"), std::string::npos)
      << errors;
  EXPECT_NE(errors.find("unexpected argument 'stray'"), std::string::npos) << errors;
}

TEST_F(ConfigTest, FileErrorsCarryPositions) {
  write_file("rws.config.toml",
             "prot = 80\n"
             "port = \"x\"\n"
             "[server]\n"
             "max_body_sise = 5\n"
             "thread_count = 0\n");
  LoadResult r = load({});
  std::string errors = all_errors(r);
  EXPECT_NE(errors.find("rws.config.toml:1:1: unknown key 'prot' (did you mean 'port'?)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("rws.config.toml:2:8: port: expected an integer between 0 and 65535"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("rws.config.toml:4:1: unknown key 'max_body_sise' (did you mean "
                        "'max_body_size'?)"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("rws.config.toml:5:16: thread_count: expected an integer between 1 and"),
            std::string::npos)
      << errors;
  EXPECT_EQ(r.errors.size(), 4u) << errors;
}

TEST_F(ConfigTest, SyntaxErrorHasPosition) {
  write_file("rws.config.toml", "port = 80\nip = \n");
  LoadResult r = load({});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].rfind("rws.config.toml:2:", 0), 0u) << r.errors[0];
}

TEST_F(ConfigTest, SameKeyTwiceIsAnError) {
  write_file("rws.config.toml", "port = 80\n[server]\nport = 81\n");
  LoadResult r = load({});
  ASSERT_EQ(r.errors.size(), 1u) << all_errors(r);
  EXPECT_NE(r.errors[0].find("port is already set at rws.config.toml:1:1"), std::string::npos)
      << r.errors[0];
}

TEST_F(ConfigTest, UnsupportedSectionsFailClosed) {
  write_file("rws.config.toml", "[acme]\nemail = \"a\"\n[admin]\nenabled = true\n");
  LoadResult r = load({});
  std::string errors = all_errors(r);
  EXPECT_NE(errors.find("rws.config.toml:1:2: [acme] is not supported by this version of "
                        "rws yet"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("[admin] is not supported"), std::string::npos) << errors;
}

// [[ws_proxy]] is read into the gateway configuration, its backends an upstream of its own.
TEST_F(ConfigTest, WsProxyIsReadIntoTheGateway) {
  write_file("rws.config.toml",
             "[[ws_proxy]]\nname = \"chat\"\nlisten = \"127.0.0.1:9100\"\n"
             "backends = [\"ws://10.0.0.1:8080\"]\n");
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  ASSERT_TRUE(r.config.gateway.has_value());
  ASSERT_EQ(r.config.gateway->ws_proxies.size(), 1u);
  EXPECT_EQ(r.config.gateway->ws_proxies[0].name, "chat");
  EXPECT_EQ(r.config.gateway->ws_proxies[0].upstream.name, "ws_proxy:chat");
  EXPECT_EQ(r.config.gateway->ws_proxies[0].port, 9100);
}

// An L4-only file is a gateway file: the HTTP listener serves the gateway with no routes.
TEST_F(ConfigTest, FileWithOnlyL4ListenersIsGatewayMode) {
  write_file("rws.config.toml",
             "[[tcp_proxy]]\nname = \"db\"\nlisten = \"127.0.0.1:0\"\nbackends = "
             "[\"127.0.0.1:5432\"]\n");
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  ASSERT_TRUE(r.config.gateway.has_value());
  EXPECT_TRUE(r.config.gateway->routes.empty());
  ASSERT_EQ(r.config.l4.tcp.size(), 1u);
  EXPECT_EQ(r.config.l4.tcp[0].name, "db");
}

TEST_F(ConfigTest, TlsKeysFromEveryPlace) {
  write_file("c.pem", "x");
  write_file("k.pem", "x");
  write_file("ca.pem", "x");
  env_["RWS_CONFIG_TLS_CLIENT_CA_FILE"] = "ca.pem";
  write_file("rws.config.toml", "tls_key_file = \"k.pem\"\nhsts = \"max-age=60\"\n");
  LoadResult r = load({"-s", "c.pem", "--http-redirect-port", "8080"});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  const server::TlsOptions& tls = r.config.server.tls;
  EXPECT_TRUE(tls.enabled());
  EXPECT_EQ(tls.cert_file, "c.pem");
  EXPECT_EQ(tls.key_file, "k.pem");
  EXPECT_EQ(tls.client_ca_file, "ca.pem");
  EXPECT_EQ(tls.hsts, "max-age=60");
  EXPECT_EQ(tls.http_redirect_port, 8080);
}

TEST_F(ConfigTest, TlsKeysThatNeedEachOther) {
  write_file("c.pem", "x");
  write_file("ca.pem", "x");
  LoadResult r = load({"--tls-cert-file", "c.pem"});
  EXPECT_EQ(all_errors(r), "tls_cert_file is set without tls_key_file\n");
  r = load({"--tls-client-ca-file", "ca.pem", "--http-redirect-port", "80"});
  EXPECT_EQ(all_errors(r),
            "tls_client_ca_file needs TLS: set tls_cert_file and tls_key_file\n"
            "http_redirect_port needs TLS: set tls_cert_file and tls_key_file\n");
  r = load({"-s", "c.pem", "-k", "c.pem", "--port", "8443", "--http-redirect-port", "8443"});
  EXPECT_EQ(all_errors(r), "http_redirect_port 8443 is the TLS port; choose another port\n");
}

TEST_F(ConfigTest, Http3RetryFromTheFileOrTheCommandLineAndOnlyWithTls) {
  write_file("c.pem", "x");
  LoadResult r = load({"-s", "c.pem", "-k", "c.pem"});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_FALSE(r.config.server.tls.http3_retry);
  write_file("rws.config.toml",
             "tls_cert_file = \"c.pem\"\ntls_key_file = \"c.pem\"\n[server]\nhttp3_retry = true\n");
  r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_TRUE(r.config.server.tls.http3_retry);
  r = load({"--http3-retry", "false"});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_FALSE(r.config.server.tls.http3_retry);
  write_file("rws.config.toml", "http3_retry = true\n");
  r = load({});
  EXPECT_EQ(all_errors(r), "http3_retry needs TLS: set tls_cert_file and tls_key_file\n");
  write_file("rws.config.toml", "http3_retry = \"yes\"\n");
  r = load({});
  EXPECT_NE(all_errors(r).find("http3_retry"), std::string::npos) << all_errors(r);
}

TEST_F(ConfigTest, TlsFilesMustBeReadableAndHstsAFieldValue) {
  LoadResult r = load({"--tls-cert-file", "missing.pem", "--hsts", "a\nb"});
  std::string errors = all_errors(r);
  EXPECT_NE(errors.find("--tls-cert-file: invalid value 'missing.pem': 'missing.pem' cannot be "
                        "read: No such file or directory"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("--hsts: invalid value 'a\nb': not a valid header field value"),
            std::string::npos)
      << errors;
}

TEST_F(ConfigTest, VirtualHosts) {
  write_file("c.pem", "x");
  write_file("rws.config.toml",
             "tls_cert_file = \"c.pem\"\ntls_key_file = \"c.pem\"\n"
             "[[virtual_host]]\ndomain = \"*.Example.com\"\ncert_file = \"c.pem\"\n"
             "key_file = \"c.pem\"\n"
             "[[virtual_host]]\ndomain = \"api.example.com\"\ncert_file = \"c.pem\"\n"
             "key_file = \"c.pem\"\n");
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  const auto& hosts = r.config.server.tls.virtual_hosts;
  ASSERT_EQ(hosts.size(), 2u);
  EXPECT_EQ(hosts[0].domain, "*.example.com");
  EXPECT_EQ(hosts[1].domain, "api.example.com");
  EXPECT_EQ(hosts[1].cert_file, "c.pem");
}

TEST_F(ConfigTest, VirtualHostErrorsCarryPositions) {
  write_file("c.pem", "x");
  write_file("rws.config.toml",
             "tls_cert_file = \"c.pem\"\ntls_key_file = \"c.pem\"\n"
             "[[virtual_host]]\ndomain = \"a.*.com\"\ncert_file = \"nope.pem\"\n"
             "key_file = \"c.pem\"\nport = 1\n"
             "[[virtual_host]]\ncert_file = \"c.pem\"\n"
             "[[virtual_host]]\ndomain = \"x.test\"\ncert_file = \"c.pem\"\nkey_file = "
             "\"c.pem\"\n"
             "[[virtual_host]]\ndomain = \"X.test\"\ncert_file = \"c.pem\"\nkey_file = "
             "\"c.pem\"\n");
  LoadResult r = load({});
  std::string errors = all_errors(r);
  EXPECT_NE(errors.find("rws.config.toml:4:10: [[virtual_host]]: 'a.*.com' is not a host name or "
                        "a '*.example.com' wildcard"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("rws.config.toml:5:13: [[virtual_host]]: 'nope.pem' cannot be read"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("rws.config.toml:7:1: [[virtual_host]]: unknown key 'port'"),
            std::string::npos)
      << errors;
  EXPECT_NE(errors.find("[[virtual_host]]: 'domain' is required"), std::string::npos) << errors;
  EXPECT_NE(errors.find("[[virtual_host]]: 'key_file' is required"), std::string::npos) << errors;
  EXPECT_NE(errors.find("rws.config.toml:15:10: [[virtual_host]]: 'X.test' has another "
                        "[[virtual_host]] already"),
            std::string::npos)
      << errors;
}

TEST_F(ConfigTest, VirtualHostsNeedTheDefaultCertificate) {
  write_file("c.pem", "x");
  write_file("rws.config.toml",
             "[[virtual_host]]\ndomain = \"a.test\"\ncert_file = \"c.pem\"\nkey_file = "
             "\"c.pem\"\n");
  LoadResult r = load({});
  EXPECT_EQ(all_errors(r),
            "[[virtual_host]] needs a default certificate: set tls_cert_file and tls_key_file\n");
}

TEST_F(ConfigTest, MetricsDefaultsOn) {
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_TRUE(r.config.metrics.enabled);
  EXPECT_EQ(r.config.metrics.path, "/metrics");
}

TEST_F(ConfigTest, MetricsKeys) {
  write_file("rws.config.toml", "[metrics]\nenabled = false\npath = \"/internal/metrics\"\n");
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_FALSE(r.config.metrics.enabled);
  EXPECT_EQ(r.config.metrics.path, "/internal/metrics");
}

TEST_F(ConfigTest, MetricsErrorsNamePositions) {
  write_file("rws.config.toml",
             "[metrics]\nenabeld = true\nenabled = \"yes\"\npath = \"metrics\"\n");
  LoadResult r = load({});
  EXPECT_EQ(r.errors,
            (std::vector<std::string>{
                "rws.config.toml:2:1: [metrics]: unknown key 'enabeld' (did you mean 'enabled'?)",
                "rws.config.toml:3:11: [metrics] enabled: expected true or false",
                "rws.config.toml:4:8: [metrics] path: expected a string starting with '/'",
            }));
}

TEST_F(ConfigTest, MetricsMustBeATable) {
  write_file("rws.config.toml", "metrics = 1\n");
  LoadResult r = load({});
  EXPECT_EQ(r.errors, std::vector<std::string>{"rws.config.toml:1:1: 'metrics' must be a table"});
}

TEST_F(ConfigTest, DeprecatedAliasWarns) {
  write_file("rws.config.toml", "request-allocation-size-in-bytes = 8192\n");
  LoadResult r = load({});
  ASSERT_TRUE(r.errors.empty()) << all_errors(r);
  EXPECT_EQ(r.config.server.request_allocation_size, 8192u);
  ASSERT_EQ(r.warnings.size(), 1u);
  EXPECT_NE(r.warnings[0].find("'request-allocation-size-in-bytes' is deprecated; use "
                               "'request_allocation_size_in_bytes'"),
            std::string::npos);
}

TEST_F(ConfigTest, MissingExplicitFileIsAnError) {
  LoadResult r = load({"--config", "nope.toml"});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].find("'nope.toml' cannot be read"), std::string::npos) << r.errors[0];
}

TEST_F(ConfigTest, HelpAndVersion) {
  LoadResult help = load({"--help"});
  EXPECT_TRUE(help.show_help);
  EXPECT_NE(help.help_text.find("--max-body-size"), std::string::npos);
  EXPECT_NE(help.help_text.find("-p,--port"), std::string::npos);
  EXPECT_TRUE(load({"--version"}).show_version);
}

TEST(Suggest, EditDistanceAndClosest) {
  EXPECT_EQ(edit_distance("port", "prot"), 1u);
  EXPECT_EQ(edit_distance("ab", "ba"), 1u);
  EXPECT_EQ(edit_distance("", "abc"), 3u);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3u);
  std::string_view keys[] = {"port", "root", "ip"};
  EXPECT_EQ(closest_match("prot", keys), "port");
  EXPECT_EQ(closest_match("rot", keys), "root");
  EXPECT_EQ(closest_match("completely_different", keys), "");
  EXPECT_EQ(did_you_mean("xy", keys), "");
}

}  // namespace
}  // namespace rws::config

namespace rws::config {
namespace {

// docs/configuration.md documents every key of the table (and nothing may be added silently).
TEST(ConfigDocs, EveryKeyIsDocumented) {
  std::ifstream doc("../../docs/configuration.md");
  ASSERT_TRUE(doc) << "docs/configuration.md not found from " << fs::current_path();
  std::string text((std::istreambuf_iterator<char>(doc)), std::istreambuf_iterator<char>());
  for (std::string_view key : server_key_names()) {
    EXPECT_NE(text.find("`" + std::string(key) + "`"), std::string::npos) << key;
  }
}

}  // namespace
}  // namespace rws::config
