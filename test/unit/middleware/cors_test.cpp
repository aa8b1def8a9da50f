#include <gtest/gtest.h>

#include <string>
#include <utility>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/http/headers.hpp>
#include <rws/middleware/cors.hpp>

namespace rws::middleware {
namespace {

constexpr std::string_view kApp = "https://app.example";

// An App with `options` as global CORS middleware, GET/PUT/OPTIONS routes on /r that count how
// often a handler ran, and a handler response carrying a header of its own.
struct Fixture {
  explicit Fixture(CorsOptions options) {
    app.use(cors(std::move(options)));
    app.get("/r", [this](Context&) {
      ++calls;
      http::Response r = text("resource\n");
      r.head.headers.set("X-Total", "3");
      return r;
    });
    app.put("/r", [this](Context&) {
      ++calls;
      return text("put\n");
    });
    app.options("/opt", [this](Context&) {
      ++calls;
      return text("options handler\n", 200);
    });
    app.get("/vary", [this](Context&) {
      ++calls;
      http::Response r = text("v\n");
      r.head.headers.set("Vary", "Accept-Encoding");
      return r;
    });
    app.get("/vary-star", [this](Context&) {
      ++calls;
      http::Response r = text("v\n");
      r.head.headers.set("Vary", "*");
      return r;
    });
  }

  TestResponse preflight(std::string_view origin, std::string_view method,
                         std::string_view headers = {}, std::string path = "/r") {
    TestClient client(app);
    TestRequest request = client.options(std::move(path));
    request.header("Origin", origin).header("Access-Control-Request-Method", method);
    if (!headers.empty()) request.header("Access-Control-Request-Headers", headers);
    return request.send();
  }

  TestResponse get(std::string_view origin, std::string path = "/r") {
    TestClient client(app);
    return client.get(std::move(path)).header("Origin", origin).send();
  }

  App app;
  int calls = 0;
};

CorsOptions exact_options() {
  CorsOptions o;
  o.allow_origins = {std::string(kApp), "https://other.example:8443"};
  o.allow_methods = {"GET", "PUT", "DELETE"};
  o.allow_headers = {"X-Token", "Content-Type"};
  o.expose_headers = {"X-Total", "X-Page"};
  o.max_age = std::chrono::seconds(600);
  return o;
}

bool has_cors_headers(const TestResponse& r) {
  for (const http::Field& f : r.headers) {
    if (f.name.size() >= 15 && http::iequals(f.name.substr(0, 15), "access-control-")) return true;
  }
  return false;
}

// ----- preflight --------------------------------------------------------------------------------

TEST(Cors, AllowedPreflightIsAnsweredWith204AndThePolicy) {
  Fixture f(exact_options());
  TestResponse r = f.preflight(kApp, "PUT", "x-token, Content-Type");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(f.calls, 0);  // answered by the middleware, not the route
  EXPECT_EQ(r.header("access-control-allow-origin"), kApp);
  EXPECT_EQ(r.headers.count("access-control-allow-origin"), 1u);
  EXPECT_EQ(r.header("access-control-allow-methods"), "GET, PUT, DELETE");
  EXPECT_EQ(r.header("access-control-allow-headers"), "x-token, Content-Type");
  EXPECT_EQ(r.header("access-control-max-age"), "600");
  const std::string vary = r.headers.joined("vary");
  EXPECT_TRUE(http::list_contains(vary, "Origin")) << vary;
  EXPECT_TRUE(http::list_contains(vary, "Access-Control-Request-Method")) << vary;
  EXPECT_TRUE(http::list_contains(vary, "Access-Control-Request-Headers")) << vary;
  EXPECT_FALSE(r.headers.contains("access-control-allow-credentials"));
  EXPECT_TRUE(r.body.empty());

  // The second allowed origin (with its port) is echoed as sent.
  r = f.preflight("https://other.example:8443", "DELETE");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), "https://other.example:8443");
  EXPECT_FALSE(r.headers.contains("access-control-allow-headers"));  // none were asked for
  EXPECT_EQ(f.calls, 0);
}

TEST(Cors, PreflightIsAnsweredForPathsWithoutAnOptionsRoute) {
  // Global middleware runs before routing, so a 404 path or a GET-only path still gets 204.
  Fixture f(exact_options());
  EXPECT_EQ(f.preflight(kApp, "GET", {}, "/nowhere").status, 204);
  EXPECT_EQ(f.preflight(kApp, "GET", {}, "/vary").status, 204);
  EXPECT_EQ(f.calls, 0);
}

TEST(Cors, SafelistedMethodsNeedNotBeListed) {
  CorsOptions o = exact_options();
  o.allow_methods = {"PUT"};
  Fixture f(std::move(o));
  for (std::string_view method : {"GET", "HEAD", "POST"}) {
    EXPECT_EQ(f.preflight(kApp, method).status, 204) << method;
  }
  EXPECT_EQ(f.preflight(kApp, "PUT").status, 204);
  EXPECT_EQ(f.preflight(kApp, "DELETE").status, 403);
}

TEST(Cors, PreflightFromADisallowedOriginIsRefusedNamingIt) {
  Fixture f(exact_options());
  TestResponse r = f.preflight("https://evil.example", "GET");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("origin 'https://evil.example' is not allowed"), std::string::npos)
      << r.body;
  EXPECT_FALSE(has_cors_headers(r));
  EXPECT_TRUE(http::list_contains(r.headers.joined("vary"), "Origin"));
  EXPECT_EQ(f.calls, 0);
}

TEST(Cors, PreflightForADisallowedMethodIsRefusedNamingIt) {
  Fixture f(exact_options());
  TestResponse r = f.preflight(kApp, "PATCH");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("method 'PATCH' is not allowed"), std::string::npos) << r.body;
  EXPECT_FALSE(has_cors_headers(r));
  EXPECT_EQ(f.calls, 0);
}

TEST(Cors, PreflightForADisallowedHeaderIsRefusedNamingIt) {
  Fixture f(exact_options());
  TestResponse r = f.preflight(kApp, "PUT", "x-token, X-Secret");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("header 'X-Secret' is not allowed"), std::string::npos) << r.body;
  EXPECT_FALSE(has_cors_headers(r));

  // With no allow_headers at all, any asked-for header is refused.
  CorsOptions o = exact_options();
  o.allow_headers.clear();
  Fixture bare(std::move(o));
  r = bare.preflight(kApp, "PUT", "x-token");
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("header 'x-token' is not allowed"), std::string::npos) << r.body;
  EXPECT_EQ(f.calls + bare.calls, 0);
}

TEST(Cors, HeaderNamesAreCaseInsensitiveAndListsMayRepeatTheField) {
  Fixture f(exact_options());
  TestClient client(f.app);
  TestResponse r = client.options("/r")
                       .header("Origin", kApp)
                       .header("Access-Control-Request-Method", "PUT")
                       .header("Access-Control-Request-Headers", "X-TOKEN")
                       .header("Access-Control-Request-Headers", "content-type")
                       .send();
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-headers"), "X-TOKEN, content-type");
}

TEST(Cors, WildcardAllowHeadersAcceptsAnyAndListsThem) {
  CorsOptions o = exact_options();
  o.allow_headers = {"*"};
  Fixture f(std::move(o));
  TestResponse r = f.preflight(kApp, "PUT", "Authorization, X-Anything");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-headers"), "Authorization, X-Anything");
}

// ----- allow_all and credentials ----------------------------------------------------------------

TEST(Cors, AllowAllAnswersStarAndNeverCredentials) {
  CorsOptions o;
  o.allow_all = true;
  o.allow_credentials = true;  // ignored with allow_all
  o.allow_headers = {"X-Token"};
  Fixture f(std::move(o));
  TestResponse r = f.preflight("https://anyone.example", "PUT", "X-Token");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_FALSE(r.headers.contains("access-control-allow-credentials"));
  EXPECT_EQ(r.header("access-control-max-age"), "86400");  // the default

  r = f.get("https://anyone.example");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("access-control-allow-origin"), "*");
  EXPECT_FALSE(r.headers.contains("access-control-allow-credentials"));
  EXPECT_EQ(r.body, "resource\n");
}

TEST(Cors, CredentialsAreSentWithTheExactOrigin) {
  CorsOptions o = exact_options();
  o.allow_credentials = true;
  Fixture f(std::move(o));
  TestResponse r = f.preflight(kApp, "PUT");
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("access-control-allow-origin"), kApp);
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");

  r = f.get(kApp);
  EXPECT_EQ(r.header("access-control-allow-origin"), kApp);
  EXPECT_EQ(r.header("access-control-allow-credentials"), "true");

  r = f.get("https://evil.example");
  EXPECT_FALSE(has_cors_headers(r));
}

// ----- actual requests --------------------------------------------------------------------------

TEST(Cors, ActualRequestFromAnAllowedOriginGetsTheHeaders) {
  Fixture f(exact_options());
  TestResponse r = f.get(kApp);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "resource\n");
  EXPECT_EQ(r.header("x-total"), "3");
  EXPECT_EQ(r.header("access-control-allow-origin"), kApp);
  EXPECT_EQ(r.header("access-control-expose-headers"), "X-Total, X-Page");
  EXPECT_FALSE(r.headers.contains("access-control-allow-credentials"));
  EXPECT_FALSE(r.headers.contains("access-control-allow-methods"));  // preflight only
  EXPECT_EQ(r.header("vary"), "Origin");
  EXPECT_EQ(f.calls, 1);
}

TEST(Cors, ActualRequestFromAnotherOriginPassesWithoutCorsHeadersButVaries) {
  Fixture f(exact_options());
  TestResponse r = f.get("https://evil.example");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "resource\n");
  EXPECT_EQ(f.calls, 1);
  EXPECT_FALSE(has_cors_headers(r));
  EXPECT_EQ(r.header("vary"), "Origin");
}

TEST(Cors, OriginsAreComparedExactly) {
  Fixture f(exact_options());
  for (std::string_view origin :
       {"https://app.example.evil", "https://app.example:444", "http://app.example",
        "https://app.exampl", "https://sub.app.example", "https://app.example/",
        "https://APP.example", "null", ""}) {
    TestResponse pre = f.preflight(origin, "GET");
    EXPECT_EQ(pre.status, 403) << "'" << origin << "'";
    EXPECT_FALSE(has_cors_headers(pre)) << "'" << origin << "'";
    TestResponse actual = f.get(origin);
    EXPECT_EQ(actual.status, 200) << "'" << origin << "'";
    EXPECT_FALSE(has_cors_headers(actual)) << "'" << origin << "'";
  }
  EXPECT_EQ(f.preflight(kApp, "GET").status, 204);
}

TEST(Cors, RequestsWithoutOriginGetNoCorsHeaders) {
  Fixture f(exact_options());
  TestClient client(f.app);
  TestResponse r = client.get("/r").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "resource\n");
  EXPECT_EQ(r.header("x-total"), "3");
  EXPECT_FALSE(has_cors_headers(r));
  // The response would differ with an Origin, so caches are told.
  EXPECT_EQ(r.header("vary"), "Origin");

  // An OPTIONS with Access-Control-Request-Method but no Origin is not a preflight either.
  r = client.options("/opt").header("Access-Control-Request-Method", "PUT").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "options handler\n");
  EXPECT_FALSE(has_cors_headers(r));
  EXPECT_EQ(f.calls, 2);
}

TEST(Cors, OptionsWithoutRequestMethodIsNotAPreflight) {
  Fixture f(exact_options());
  TestClient client(f.app);
  TestResponse r = client.options("/opt").header("Origin", kApp).send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "options handler\n");
  EXPECT_EQ(f.calls, 1);
  // Treated as an actual request from an allowed origin.
  EXPECT_EQ(r.header("access-control-allow-origin"), kApp);
  EXPECT_FALSE(r.headers.contains("access-control-allow-methods"));
  EXPECT_FALSE(r.headers.contains("access-control-max-age"));

  // A disallowed origin's plain OPTIONS is not refused either: it reaches the handler.
  r = client.options("/opt").header("Origin", "https://evil.example").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.calls, 2);
}

TEST(Cors, VaryIsMergedWithTheHandlersOwn) {
  Fixture f(exact_options());
  TestResponse r = f.get(kApp, "/vary");
  EXPECT_EQ(r.headers.count("vary"), 1u);
  EXPECT_EQ(r.header("vary"), "Accept-Encoding, Origin");
  r = f.get(kApp, "/vary-star");
  EXPECT_EQ(r.header("vary"), "*");  // already varies on everything
  EXPECT_EQ(r.header("access-control-allow-origin"), kApp);
}

}  // namespace
}  // namespace rws::middleware
