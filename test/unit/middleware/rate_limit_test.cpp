#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <string>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/middleware/rate_limit.hpp>

namespace rws::middleware {
namespace {

using namespace std::chrono_literals;

struct Fixture {
  explicit Fixture(RateLimiterOptions options, RateLimitKey key = {}) {
    limiter = std::make_shared<RateLimiter>(options, [this] {
      return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(now.load()));
    });
    app.use(rate_limit(limiter, std::move(key)));
    app.get("/", [this](Context&) {
      ++calls;
      return text("hello\n");
    });
    app.get("/own-headers", [](Context&) {
      http::Response r = text("mine\n");
      r.head.headers.set("RateLimit-Limit", "999");
      return r;
    });
  }
  TestResponse get(std::string peer = "192.0.2.1", std::string_view header = {},
                   std::string value = {}) {
    TestClient client(app);
    TestRequest r = client.get("/").peer(std::move(peer));
    if (!header.empty()) r.header(header, value);
    return r.send();
  }

  std::atomic<std::int64_t> now{5'000'000'000};
  std::shared_ptr<RateLimiter> limiter;
  App app;
  int calls = 0;
};

RateLimiterOptions per_minute(std::uint64_t n) {
  RateLimiterOptions o;
  o.max_requests = n;
  o.window = 60000ms;
  return o;
}

RateLimitKey header_key(std::string name) {
  return RateLimitKey{RateLimitKey::Kind::kHeader, std::move(name)};
}

TEST(RateLimit, AnswersEveryResponseWithTheQuotaAndRefusesPastItWith429) {
  Fixture f(per_minute(2));  // a token every 30 s
  TestResponse first = f.get();
  EXPECT_EQ(first.status, 200);
  EXPECT_EQ(first.body, "hello\n");
  EXPECT_EQ(first.header("RateLimit-Limit"), "2");
  EXPECT_EQ(first.header("RateLimit-Remaining"), "1");
  EXPECT_EQ(first.header("RateLimit-Reset"), "30");
  EXPECT_FALSE(first.headers.contains("Retry-After"));

  TestResponse second = f.get();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.header("RateLimit-Remaining"), "0");
  EXPECT_EQ(second.header("RateLimit-Reset"), "60");

  TestResponse refused = f.get();
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Retry-After"), "30");
  EXPECT_EQ(refused.header("RateLimit-Limit"), "2");
  EXPECT_EQ(refused.header("RateLimit-Remaining"), "0");
  EXPECT_EQ(refused.header("RateLimit-Reset"), "60");
  EXPECT_EQ(refused.body, "Too Many Requests: the rate limit is exceeded; retry in 30 s\n");
  EXPECT_EQ(f.calls, 2) << "a refused request must not reach the handler";
}

TEST(RateLimit, SecondsAreRoundedUp) {
  Fixture f(per_minute(2));
  f.get();
  f.get();
  f.now += 100'000'000;  // 0.1 s later: 29.9 s to wait
  TestResponse refused = f.get();
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Retry-After"), "30");
  EXPECT_EQ(refused.header("RateLimit-Reset"), "60");
  f.now += 29'800'000'000;  // 0.1 s to wait
  refused = f.get();
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.header("Retry-After"), "1");
  f.now += 100'000'000;
  EXPECT_EQ(f.get().status, 200);
}

TEST(RateLimit, ClientsAreCountedByAddress) {
  Fixture f(per_minute(1));
  EXPECT_EQ(f.get("192.0.2.1").status, 200);
  EXPECT_EQ(f.get("192.0.2.1").status, 429);
  EXPECT_EQ(f.get("192.0.2.2").status, 200);
  EXPECT_EQ(f.get("2001:db8::1").status, 200);
  EXPECT_EQ(f.get("2001:db8::1").status, 429);
}

TEST(RateLimit, HeaderKeyCountsByTheHeaderValueWhateverTheAddress) {
  Fixture f(per_minute(1), header_key("X-Api-Key"));
  EXPECT_EQ(f.get("192.0.2.1", "X-Api-Key", "alice").status, 200);
  EXPECT_EQ(f.get("192.0.2.2", "x-api-key", "alice").status, 429);
  EXPECT_EQ(f.get("192.0.2.1", "X-Api-Key", "bob").status, 200);
}

TEST(RateLimit, WithoutTheHeaderTheClientAddressIsTheKey) {
  Fixture f(per_minute(1), header_key("X-Api-Key"));
  EXPECT_EQ(f.get("192.0.2.1").status, 200);
  EXPECT_EQ(f.get("192.0.2.1").status, 429) << "leaving the header out must not escape the limit";
  EXPECT_EQ(f.get("192.0.2.1", "X-Api-Key", "").status, 429) << "an empty value is no key";
  EXPECT_EQ(f.get("192.0.2.2").status, 200);
  // A header value that spells an address is a different key from that address.
  EXPECT_EQ(f.get("192.0.2.9", "X-Api-Key", "192.0.2.1").status, 200);
  EXPECT_EQ(f.get("192.0.2.9", "X-Api-Key", "192.0.2.1").status, 429);
}

TEST(RateLimit, LongHeaderValuesAreKeyedByDigest) {
  Fixture f(per_minute(1), header_key("Authorization"));
  const std::string common = "Bearer " + std::string(100, 'x');
  EXPECT_EQ(f.get("192.0.2.1", "Authorization", common + "1").status, 200);
  EXPECT_EQ(f.get("192.0.2.1", "Authorization", common + "2").status, 200);
  EXPECT_EQ(f.get("192.0.2.1", "Authorization", common + "1").status, 429);

  http::Request request;
  request.head.headers.add("Authorization", common + "1");
  http::RequestContext connection;
  connection.peer_address = "192.0.2.1";
  TypeMap state;
  Context context(request, connection, state);
  const std::string key = rate_limit_key(header_key("Authorization"), context);
  EXPECT_EQ(key.size(), 17u) << "a tag and 128 bits, whatever the value's length";
}

TEST(RateLimit, KeysCarryTheirKind) {
  http::Request request;
  request.head.headers.add("X-Key", "k1");
  http::RequestContext connection;
  connection.peer_address = "192.0.2.1";
  TypeMap state;
  Context context(request, connection, state);
  EXPECT_EQ(rate_limit_key(RateLimitKey{}, context), "a192.0.2.1");
  EXPECT_EQ(rate_limit_key(header_key("X-Key"), context), "hk1");
  EXPECT_EQ(rate_limit_key(header_key("X-Other"), context), "a192.0.2.1");

  // Behind trusted proxies the resolved client is the key.
  connection.client_address = "203.0.113.9";
  EXPECT_EQ(rate_limit_key(RateLimitKey{}, context), "a203.0.113.9");
}

TEST(RateLimit, QuotaFieldsReplaceThoseOfTheHandler) {
  Fixture f(per_minute(5));
  TestClient client(f.app);
  TestResponse r = client.get("/own-headers").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers.count("RateLimit-Limit"), 1u);
  EXPECT_EQ(r.header("RateLimit-Limit"), "5");
}

TEST(RateLimit, AlsoCountsUnroutedRequests) {
  Fixture f(per_minute(1));
  TestClient client(f.app);
  EXPECT_EQ(client.get("/missing").send().status, 404);
  TestResponse r = client.get("/").send();
  EXPECT_EQ(r.status, 429);
}

TEST(RateLimitKey, Parse) {
  std::optional<RateLimitKey> ip = RateLimitKey::parse("ip");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip->kind, RateLimitKey::Kind::kClientAddress);
  std::optional<RateLimitKey> header = RateLimitKey::parse("header:X-Api-Key");
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->kind, RateLimitKey::Kind::kHeader);
  EXPECT_EQ(header->header, "X-Api-Key");
  for (std::string_view bad : {"", "IP", "ip ", "header:", "header", "header:X Key",
                               "header:X-Key:", "cookie:session", "header: X"}) {
    EXPECT_FALSE(RateLimitKey::parse(bad).has_value()) << "'" << bad << "'";
  }
}

}  // namespace
}  // namespace rws::middleware
