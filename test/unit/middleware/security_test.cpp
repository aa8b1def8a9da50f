#include <gtest/gtest.h>

#include <string>
#include <utility>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/middleware/security.hpp>

namespace rws::middleware {
namespace {

void add_routes(App& app) {
  app.get("/", [](Context&) { return text("home\n"); });
  app.get("/framed", [](Context&) {
    http::Response r = text("embeddable\n");
    r.head.headers.set("X-Frame-Options", "SAMEORIGIN");
    return r;
  });
}

TEST(SecurityHeaders, DefaultsOnEveryResponseAndHstsOnlyOverTls) {
  App app;
  app.use(security_headers({}));
  add_routes(app);
  TestClient client(app);
  TestResponse plain = client.get("/").send();
  EXPECT_EQ(plain.header("x-content-type-options"), "nosniff");
  EXPECT_EQ(plain.header("x-frame-options"), "DENY");
  EXPECT_EQ(plain.header("referrer-policy"), "strict-origin-when-cross-origin");
  EXPECT_FALSE(plain.headers.contains("content-security-policy"));
  EXPECT_FALSE(plain.headers.contains("strict-transport-security"));

  TestResponse tls = client.get("/").secure().send();
  EXPECT_EQ(tls.header("strict-transport-security"), "max-age=31536000");

  TestResponse missing = client.get("/nothing-here").send();
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.header("x-content-type-options"), "nosniff");
}

TEST(SecurityHeaders, AHandlersOwnValueWinsAndEmptyMeansNotSent) {
  SecurityHeaderOptions o;
  o.referrer_policy = "";
  o.content_security_policy = "default-src 'self'";
  o.strict_transport_security = "";
  App app;
  app.use(security_headers(std::move(o)));
  add_routes(app);
  TestClient client(app);
  TestResponse r = client.get("/framed").secure().send();
  EXPECT_EQ(r.header("x-frame-options"), "SAMEORIGIN");
  EXPECT_EQ(r.headers.count("x-frame-options"), 1u);
  EXPECT_FALSE(r.headers.contains("referrer-policy"));
  EXPECT_FALSE(r.headers.contains("strict-transport-security"));
  EXPECT_EQ(r.header("content-security-policy"), "default-src 'self'");
}

TEST(Maintenance, AnswersEveryRequest503WithoutRunningTheHandler) {
  bool ran = false;
  App app;
  app.use(maintenance({std::chrono::seconds(120), "Back soon."}));
  app.post("/orders", [&](Context&) {
    ran = true;
    return text("created\n");
  });
  TestClient client(app);
  TestResponse r = client.post("/orders").body("x").send();
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, "Back soon.\n");
  EXPECT_EQ(r.header("retry-after"), "120");
  EXPECT_EQ(r.header("cache-control"), "no-store");
  EXPECT_FALSE(ran);

  App no_retry;
  no_retry.use(maintenance({}));
  TestClient other(no_retry);
  TestResponse d = other.get("/").send();
  EXPECT_EQ(d.status, 503);
  EXPECT_FALSE(d.headers.contains("retry-after"));
}

}  // namespace
}  // namespace rws::middleware
