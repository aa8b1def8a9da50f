#include "gateway/route_match.hpp"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include <initializer_list>
#include <string>
#include <utility>

#include "config/gateway_loader.hpp"
#include "config/toml_reader.hpp"

namespace rws::gateway {
namespace {

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

http::RequestHead request(std::string_view method = "GET", Fields fields = {}) {
  http::RequestHead head;
  head.method = std::string(method);
  for (const auto& [name, value] : fields)
    head.headers.add(name, value);
  return head;
}

// Whether a route with `match` takes a GET with no fields to `authority` + `path`.
bool takes(const config::RouteMatch& match, std::string_view authority, std::string_view path) {
  return RouteMatch(match).matches(request(), host_without_port(authority), path);
}

config::RouteMatch host(std::string h) {
  config::RouteMatch m;
  m.host = std::move(h);
  return m;
}

config::RouteMatch path(std::string p) {
  config::RouteMatch m;
  m.path = std::move(p);
  return m;
}

// ----- host_without_port ------------------------------------------------------------------------

TEST(HostWithoutPort, DropsThePortAndLowersTheCase) {
  EXPECT_EQ(host_without_port("example.com"), "example.com");
  EXPECT_EQ(host_without_port("example.com:8080"), "example.com");
  EXPECT_EQ(host_without_port("API.Example.COM:443"), "api.example.com");
  EXPECT_EQ(host_without_port("127.0.0.1:80"), "127.0.0.1");
  EXPECT_EQ(host_without_port(""), "");
}

TEST(HostWithoutPort, Ipv6LiteralsKeepTheirBrackets) {
  EXPECT_EQ(host_without_port("[::1]:80"), "[::1]");
  EXPECT_EQ(host_without_port("[::1]"), "[::1]");
  EXPECT_EQ(host_without_port("[2001:DB8::1]:8443"), "[2001:db8::1]");
}

// ----- host -------------------------------------------------------------------------------------

TEST(RouteMatch, NoConditionsMatchesEverything) {
  config::RouteMatch any;
  EXPECT_TRUE(takes(any, "a.example.com", "/"));
  EXPECT_TRUE(RouteMatch(any).matches(request("DELETE"), "", "/x/y"));
  EXPECT_EQ(RouteMatch(any).path_prefix(), "");
}

TEST(RouteMatch, ExactHostIgnoresPortAndCase) {
  config::RouteMatch m = host("api.example.com");
  EXPECT_TRUE(takes(m, "api.example.com", "/"));
  EXPECT_TRUE(takes(m, "api.example.com:8080", "/"));
  EXPECT_TRUE(takes(m, "API.Example.Com", "/"));
  EXPECT_TRUE(takes(m, "Api.Example.Com:443", "/"));
  EXPECT_FALSE(takes(m, "example.com", "/"));
  EXPECT_FALSE(takes(m, "www.api.example.com", "/"));
  EXPECT_FALSE(takes(m, "api.example.com.evil.net", "/"));
  EXPECT_FALSE(takes(m, "api.example.co", "/"));
  EXPECT_FALSE(takes(m, "", "/"));
}

TEST(RouteMatch, WildcardHostMatchesSubdomainsOnly) {
  config::RouteMatch m = host("*.example.com");
  EXPECT_TRUE(takes(m, "a.example.com", "/"));
  EXPECT_TRUE(takes(m, "a.b.example.com", "/"));
  EXPECT_TRUE(takes(m, "A.EXAMPLE.COM:8443", "/"));
  EXPECT_FALSE(takes(m, "example.com", "/"));   // the wildcard needs a label
  EXPECT_FALSE(takes(m, ".example.com", "/"));  // an empty label is not one
  EXPECT_FALSE(takes(m, "badexample.com", "/"));
  EXPECT_FALSE(takes(m, "a.example.com.evil.net", "/"));
  EXPECT_FALSE(takes(m, "a.example.org", "/"));
}

TEST(RouteMatch, Ipv6HostLiteral) {
  config::RouteMatch m = host("[::1]");
  EXPECT_TRUE(takes(m, "[::1]:8080", "/"));
  EXPECT_TRUE(takes(m, "[::1]", "/"));
  EXPECT_FALSE(takes(m, "[::2]:8080", "/"));
}

// The host case of the configuration is folded by the loader; end to end, both sides may be in
// any case.
TEST(RouteMatch, HostFromTheConfigFileIsCaseInsensitive) {
  toml::table document =
      toml::parse(std::string_view("[[route]]\nmatch = { host = \"*.API.Example.com\" }\n"
                                   "action = { type = \"respond\" }\n"),
                  std::string_view("gw.toml"));
  std::vector<std::string> errors;
  std::vector<std::string> warnings;
  config::Diagnostics diagnostics("gw.toml", errors, warnings);
  config::GatewayConfig gateway = config::load_gateway(document, {}, diagnostics);
  ASSERT_TRUE(errors.empty());
  ASSERT_EQ(gateway.routes.size(), 1u);
  const config::RouteMatch& m = gateway.routes[0].match;
  EXPECT_TRUE(takes(m, "V1.api.EXAMPLE.com:80", "/"));
  EXPECT_FALSE(takes(m, "api.example.com", "/"));
}

// ----- path -------------------------------------------------------------------------------------

TEST(RouteMatch, ExactPath) {
  config::RouteMatch m = path("/health");
  EXPECT_TRUE(takes(m, "h", "/health"));
  EXPECT_FALSE(takes(m, "h", "/health/"));
  EXPECT_FALSE(takes(m, "h", "/healthz"));
  EXPECT_FALSE(takes(m, "h", "/Health"));  // paths are case-sensitive
  EXPECT_FALSE(takes(m, "h", "/"));
  EXPECT_EQ(RouteMatch(m).path_prefix(), "");
}

TEST(RouteMatch, PrefixPathIsMatchedBySegment) {
  config::RouteMatch m = path("/api/*");
  EXPECT_TRUE(takes(m, "h", "/api"));
  EXPECT_TRUE(takes(m, "h", "/api/"));
  EXPECT_TRUE(takes(m, "h", "/api/x"));
  EXPECT_TRUE(takes(m, "h", "/api/x/y/z"));
  EXPECT_FALSE(takes(m, "h", "/apix"));
  EXPECT_FALSE(takes(m, "h", "/apix/y"));
  EXPECT_FALSE(takes(m, "h", "/ap"));
  EXPECT_FALSE(takes(m, "h", "/"));
  EXPECT_FALSE(takes(m, "h", "/v1/api/x"));
  EXPECT_EQ(RouteMatch(m).path_prefix(), "/api");
}

TEST(RouteMatch, NestedPrefixPath) {
  config::RouteMatch m = path("/api/v1/*");
  EXPECT_TRUE(takes(m, "h", "/api/v1"));
  EXPECT_TRUE(takes(m, "h", "/api/v1/users"));
  EXPECT_FALSE(takes(m, "h", "/api/v10"));
  EXPECT_FALSE(takes(m, "h", "/api"));
  EXPECT_EQ(RouteMatch(m).path_prefix(), "/api/v1");
}

TEST(RouteMatch, RootPrefixMatchesEveryPath) {
  config::RouteMatch m = path("/*");
  EXPECT_TRUE(takes(m, "h", "/"));
  EXPECT_TRUE(takes(m, "h", "/anything/at/all"));
  EXPECT_EQ(RouteMatch(m).path_prefix(), "");
}

// ----- method -----------------------------------------------------------------------------------

TEST(RouteMatch, MethodsList) {
  config::RouteMatch m;
  m.methods = {"GET", "HEAD"};
  RouteMatch compiled(m);
  EXPECT_TRUE(compiled.matches(request("GET"), "h", "/"));
  EXPECT_TRUE(compiled.matches(request("HEAD"), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("POST"), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("get"), "h", "/"));  // methods are case-sensitive
}

TEST(RouteMatch, SingleMethod) {
  config::RouteMatch m;
  m.methods = {"POST"};
  RouteMatch compiled(m);
  EXPECT_TRUE(compiled.matches(request("POST"), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET"), "h", "/"));
}

// ----- content type -----------------------------------------------------------------------------

TEST(RouteMatch, ContentTypePrefix) {
  config::RouteMatch m;
  m.content_type = "application/grpc*";
  RouteMatch compiled(m);
  auto with_type = [](std::string_view type) { return request("POST", {{"Content-Type", type}}); };
  EXPECT_TRUE(compiled.matches(with_type("application/grpc"), "h", "/"));
  EXPECT_TRUE(compiled.matches(with_type("application/grpc+proto"), "h", "/"));
  EXPECT_TRUE(compiled.matches(with_type("Application/GRPC-Web"), "h", "/"));
  EXPECT_FALSE(compiled.matches(with_type("application/json"), "h", "/"));
  EXPECT_FALSE(compiled.matches(with_type("application/grp"), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("POST"), "h", "/"));  // no Content-Type at all
}

TEST(RouteMatch, ContentTypeExactIgnoresParametersAndCase) {
  config::RouteMatch m;
  m.content_type = "application/json";
  RouteMatch compiled(m);
  auto with_type = [](std::string_view type) { return request("POST", {{"Content-Type", type}}); };
  EXPECT_TRUE(compiled.matches(with_type("application/json"), "h", "/"));
  EXPECT_TRUE(compiled.matches(with_type("application/json; charset=utf-8"), "h", "/"));
  EXPECT_TRUE(compiled.matches(with_type("Application/JSON ;charset=utf-8"), "h", "/"));
  EXPECT_FALSE(compiled.matches(with_type("application/json-patch+json"), "h", "/"));
  EXPECT_FALSE(compiled.matches(with_type("text/json"), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("POST"), "h", "/"));
}

// ----- headers ----------------------------------------------------------------------------------

TEST(RouteMatch, HeaderPresent) {
  config::RouteMatch m;
  m.headers = {{"X-Debug", "*"}};
  RouteMatch compiled(m);
  EXPECT_TRUE(compiled.matches(request("GET", {{"X-Debug", "1"}}), "h", "/"));
  EXPECT_TRUE(compiled.matches(request("GET", {{"x-debug", ""}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET", {{"X-Debugger", "1"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request(), "h", "/"));
}

TEST(RouteMatch, HeaderValueIsExact) {
  config::RouteMatch m;
  m.headers = {{"X-Env", "canary"}};
  RouteMatch compiled(m);
  EXPECT_TRUE(compiled.matches(request("GET", {{"x-env", "canary"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET", {{"X-Env", "Canary"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET", {{"X-Env", "canary2"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET", {{"X-Env", "can"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request(), "h", "/"));
}

TEST(RouteMatch, EveryHeaderConditionMustHold) {
  config::RouteMatch m;
  m.headers = {{"X-A", "1"}, {"X-B", "*"}};
  RouteMatch compiled(m);
  EXPECT_TRUE(compiled.matches(request("GET", {{"X-A", "1"}, {"X-B", "z"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET", {{"X-A", "1"}}), "h", "/"));
  EXPECT_FALSE(compiled.matches(request("GET", {{"X-B", "z"}}), "h", "/"));
}

// ----- all together -----------------------------------------------------------------------------

TEST(RouteMatch, AllGivenFieldsMustHold) {
  config::RouteMatch m;
  m.host = "*.example.com";
  m.path = "/rpc/*";
  m.methods = {"POST"};
  m.content_type = "application/grpc*";
  m.headers = {{"TE", "trailers"}};
  RouteMatch compiled(m);
  http::RequestHead good =
      request("POST", {{"Content-Type", "application/grpc"}, {"TE", "trailers"}});
  EXPECT_TRUE(compiled.matches(good, "a.example.com", "/rpc/Service/Method"));
  EXPECT_FALSE(compiled.matches(good, "example.com", "/rpc/Service/Method"));  // host
  EXPECT_FALSE(compiled.matches(good, "a.example.com", "/rpcx"));              // path
  http::RequestHead get = good;
  get.method = "GET";
  EXPECT_FALSE(compiled.matches(get, "a.example.com", "/rpc/x"));  // method
  EXPECT_FALSE(
      compiled.matches(request("POST", {{"Content-Type", "text/plain"}, {"TE", "trailers"}}),
                       "a.example.com", "/rpc/x"));  // content type
  EXPECT_FALSE(compiled.matches(request("POST", {{"Content-Type", "application/grpc"}}),
                                "a.example.com", "/rpc/x"));  // header
}

}  // namespace
}  // namespace rws::gateway
