#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/middleware/request_id.hpp>

namespace rws::middleware {
namespace {

bool is_generated_id(std::string_view id) {
  return id.size() == 32 && id.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

// An App whose handler records what it saw of the id header.
struct Fixture {
  explicit Fixture(RequestIdOptions options = {}) : header(options.header) {
    app.use(request_id(std::move(options)));
    app.get("/", [this](http::Request& request, Context&) {
      seen.push_back(std::string(request.head.headers.get(header)));
      seen_count = request.head.headers.count(header);
      return text("ok\n");
    });
  }

  App app;
  std::string header;
  std::vector<std::string> seen;
  std::size_t seen_count = 0;
};

TEST(RequestId, ValidIncomingIdIsKeptSeenByTheHandlerAndEchoed) {
  Fixture f;
  TestClient client(f.app);
  const std::string id = "abc-123_XYZ.~!#$%&'*+/=?^`{|}:;<>@[]\\\"(),";
  TestResponse r = client.get("/").header("X-Request-Id", id).send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "ok\n");
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0], id);
  EXPECT_EQ(f.seen_count, 1u);
  EXPECT_EQ(r.header("x-request-id"), id);
  EXPECT_EQ(r.headers.count("x-request-id"), 1u);

  // The header name is matched case-insensitively; 128 characters is still valid.
  const std::string longest(128, 'z');
  r = client.get("/").header("x-request-ID", longest).send();
  EXPECT_EQ(f.seen.back(), longest);
  EXPECT_EQ(r.header("X-Request-Id"), longest);
}

TEST(RequestId, MissingIdIsGenerated) {
  Fixture f;
  TestClient client(f.app);
  TestResponse a = client.get("/").send();
  TestResponse b = client.get("/").send();
  ASSERT_EQ(f.seen.size(), 2u);
  EXPECT_TRUE(is_generated_id(f.seen[0])) << f.seen[0];
  EXPECT_EQ(a.header("x-request-id"), f.seen[0]);  // the handler saw the id that is echoed
  EXPECT_TRUE(is_generated_id(f.seen[1])) << f.seen[1];
  EXPECT_EQ(b.header("x-request-id"), f.seen[1]);
  EXPECT_NE(f.seen[0], f.seen[1]);
}

TEST(RequestId, InvalidIncomingIdsAreReplaced) {
  Fixture f;
  TestClient client(f.app);
  const std::vector<std::string> invalid = {
      std::string(129, 'a'),  // too long
      "",                     // empty
      "has space",
      "tab\there",
      std::string("nul\0x", 5),
      "bell\x07",
      "del\x7f",
      "caf\xc3\xa9",  // not ASCII
  };
  for (const std::string& id : invalid) {
    TestResponse r = client.get("/").header("X-Request-Id", id).send();
    ASSERT_FALSE(f.seen.empty());
    EXPECT_TRUE(is_generated_id(f.seen.back())) << "incoming '" << id << "' gave " << f.seen.back();
    EXPECT_EQ(f.seen_count, 1u);
    EXPECT_EQ(r.header("x-request-id"), f.seen.back());
  }
}

TEST(RequestId, DuplicatedHeaderIsReplacedByOneGeneratedId) {
  Fixture f;
  TestClient client(f.app);
  TestResponse r = client.get("/")
                       .header("X-Request-Id", "first-valid")
                       .header("X-Request-Id", "second-valid")
                       .send();
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_TRUE(is_generated_id(f.seen[0])) << f.seen[0];
  EXPECT_EQ(f.seen_count, 1u);  // the handler sees a single field
  EXPECT_EQ(r.header("x-request-id"), f.seen[0]);
  EXPECT_EQ(r.headers.count("x-request-id"), 1u);
}

TEST(RequestId, CustomHeaderName) {
  Fixture f(RequestIdOptions{"X-Correlation-Id"});
  TestClient client(f.app);
  TestResponse r = client.get("/")
                       .header("X-Correlation-Id", "corr-1")
                       .header("X-Request-Id", "ignored-1")
                       .send();
  ASSERT_EQ(f.seen.size(), 1u);
  EXPECT_EQ(f.seen[0], "corr-1");
  EXPECT_EQ(r.header("x-correlation-id"), "corr-1");
  EXPECT_FALSE(r.headers.contains("x-request-id"));  // only the configured header is echoed

  r = client.get("/").header("X-Request-Id", "ignored-2").send();
  EXPECT_TRUE(is_generated_id(f.seen.back())) << f.seen.back();
  EXPECT_EQ(r.header("x-correlation-id"), f.seen.back());
  EXPECT_FALSE(r.headers.contains("x-request-id"));
}

TEST(RequestId, TheIdReplacesOneTheHandlerSet) {
  App app;
  app.use(request_id());
  app.get("/", [](Context&) {
    http::Response r = text("ok\n");
    r.head.headers.add("X-Request-Id", "from-handler");
    return r;
  });
  TestClient client(app);
  TestResponse r = client.get("/").header("X-Request-Id", "incoming").send();
  EXPECT_EQ(r.headers.count("x-request-id"), 1u);
  EXPECT_EQ(r.header("x-request-id"), "incoming");
}

TEST(RequestId, ValidRequestIdTable) {
  struct Case {
    std::string id;
    bool valid;
  };
  const Case cases[] = {
      {"a", true},
      {"0123456789abcdef0123456789abcdef", true},
      {"550e8400-e29b-41d4-a716-446655440000", true},
      {"!~", true},  // the ends of visible ASCII
      {std::string(128, 'x'), true},
      {std::string(129, 'x'), false},
      {"", false},
      {" ", false},
      {"a b", false},
      {" a", false},
      {"a\t", false},
      {"a\r\nb", false},
      {std::string("a\0b", 3), false},
      {"\x1f", false},
      {"\x7f", false},
      {"\x80", false},
      {"\xff", false},
  };
  for (const Case& c : cases) {
    EXPECT_EQ(valid_request_id(c.id), c.valid) << "'" << c.id << "' (" << c.id.size() << ")";
  }
}

}  // namespace
}  // namespace rws::middleware
