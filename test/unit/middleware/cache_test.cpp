#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/http/body.hpp>
#include <rws/middleware/cache.hpp>
#include <rws/middleware/compress.hpp>

namespace rws::middleware {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// Produces `pieces` one frame each.
class Pieces final : public http::BodySource {
 public:
  explicit Pieces(std::vector<std::string> pieces) : pieces_(std::move(pieces)) {}
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t) override {
    if (i_ == pieces_.size()) co_return http::BodyFrame::end();
    co_return http::BodyFrame::bytes(pieces_[i_++]);
  }

 private:
  std::vector<std::string> pieces_;
  std::size_t i_ = 0;
};

// An App with the cache in front of handlers that count their runs and answer with the
// Cache-Control (and other fields) the test chooses.
struct Fixture {
  explicit Fixture(CacheOptions options = {}) {
    options.clock = [this] { return now; };
    app.use(cache(std::move(options)));
    app.get("/r", [this](http::Request& req, Context&) {
      ++calls;
      seen_if_none_match = std::string(req.head.headers.get("If-None-Match"));
      seen_if_modified_since = std::string(req.head.headers.get("If-Modified-Since"));
      if (not_modified && !seen_if_none_match.empty()) {
        http::Response r = http::Response::empty(304);
        for (const auto& [name, value] : fields)
          r.head.headers.set(name, value);
        return r;
      }
      http::Response r = text("body " + std::to_string(calls));
      for (const auto& [name, value] : fields)
        r.head.headers.set(name, value);
      return r;
    });
    app.get("/stream", [this](Context&) {
      ++calls;
      http::Response r;
      r.head.headers.set("Cache-Control", "max-age=60");
      r.body = http::Body::from_stream(std::make_unique<Pieces>(pieces));
      return r;
    });
  }
  TestResponse get(std::string target = "/r") { return client.get(std::move(target)).send(); }

  Clock::time_point now = Clock::time_point(100s);
  std::vector<std::pair<std::string, std::string>> fields = {{"Cache-Control", "max-age=60"}};
  std::vector<std::string> pieces;
  bool not_modified = false;
  int calls = 0;
  std::string seen_if_none_match;
  std::string seen_if_modified_since;
  App app;
  TestClient client{app};
};

TEST(Cache, MissThenHitWithAge) {
  Fixture f;
  TestResponse first = f.get();
  EXPECT_EQ(first.body, "body 1");
  EXPECT_EQ(first.header("X-Cache"), "MISS");
  f.now += 7s;
  TestResponse second = f.get();
  EXPECT_EQ(second.status, 200);
  EXPECT_EQ(second.body, "body 1");
  EXPECT_EQ(second.header("X-Cache"), "HIT");
  EXPECT_EQ(second.header("Age"), "7");
  EXPECT_EQ(second.header("Cache-Control"), "max-age=60");
  EXPECT_EQ(f.calls, 1);
  f.now += 60s;  // stale, no validator: fetched again
  EXPECT_EQ(f.get().body, "body 2");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, UpstreamAgeCountsTowardsAgeAndFreshness) {
  Fixture f;
  f.fields.emplace_back("Age", "50");
  f.get();
  f.now += 5s;
  EXPECT_EQ(f.get().header("Age"), "55");
  f.now += 5s;  // 60 s old: stale
  EXPECT_EQ(f.get().header("X-Cache"), "MISS");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, NoStoreAndPrivateAreNotStored) {
  for (const char* cc : {"no-store", "private, max-age=60", "max-age=60, No-Store"}) {
    Fixture f;
    f.fields = {{"Cache-Control", cc}};
    f.get();
    EXPECT_EQ(f.get().header("X-Cache"), "MISS") << cc;
    EXPECT_EQ(f.calls, 2) << cc;
  }
}

TEST(Cache, ResponsesSettingACookieAreNotStored) {
  Fixture f;
  f.fields = {{"Cache-Control", "public, max-age=60"}, {"Set-Cookie", "session=alice"}};
  f.get();
  TestResponse second = f.get();
  EXPECT_EQ(second.header("X-Cache"), "MISS");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, RequestNoStoreBypasses) {
  Fixture f;
  f.get();
  TestResponse r = f.client.get("/r").header("Cache-Control", "no-store").send();
  EXPECT_EQ(r.body, "body 2");
  EXPECT_EQ(r.header("X-Cache"), "");
  EXPECT_EQ(f.get().body, "body 1");  // the entry is still there
}

TEST(Cache, SMaxageOverMaxAgeOverTtl) {
  CacheOptions o;
  o.default_ttl = 100s;
  {
    Fixture f(o);
    f.fields = {{"Cache-Control", "max-age=10, s-maxage=30"}};
    f.get();
    f.now += 29s;
    EXPECT_EQ(f.get().header("X-Cache"), "HIT");
    f.now += 1s;
    EXPECT_EQ(f.get().header("X-Cache"), "MISS");
  }
  {
    Fixture f(o);
    f.fields = {{"Cache-Control", "max-age=10"}};
    f.get();
    f.now += 9s;
    EXPECT_EQ(f.get().header("X-Cache"), "HIT");
    f.now += 1s;
    EXPECT_EQ(f.get().header("X-Cache"), "MISS");
  }
  {
    Fixture f(o);
    f.fields = {};
    f.get();
    f.now += 99s;
    EXPECT_EQ(f.get().header("X-Cache"), "HIT");
    f.now += 1s;
    EXPECT_EQ(f.get().header("X-Cache"), "MISS");
  }
  {
    Fixture f;  // no lifetime at all: not stored
    f.fields = {};
    f.get();
    EXPECT_EQ(f.get().header("X-Cache"), "MISS");
    EXPECT_EQ(f.calls, 2);
  }
}

TEST(Cache, KeyIncludesQueryAndVaryByFields) {
  CacheOptions o;
  o.vary_by = {"X-Tenant"};
  Fixture f(o);
  EXPECT_EQ(f.get("/r?a=1").body, "body 1");
  EXPECT_EQ(f.get("/r?a=2").body, "body 2");
  EXPECT_EQ(f.get("/r?a=1").body, "body 1");
  EXPECT_EQ(f.client.get("/r?a=1").header("X-Tenant", "t").send().body, "body 3");
  EXPECT_EQ(f.client.get("/r?a=1").header("X-Tenant", "t").send().body, "body 3");
  EXPECT_EQ(f.calls, 3);
}

TEST(Cache, ResponseVaryFieldsSelectTheVariant) {
  Fixture f;
  f.fields.emplace_back("Vary", "Accept-Language");
  auto lang = [&](const char* l) {
    return f.client.get("/r").header("Accept-Language", l).send().body;
  };
  EXPECT_EQ(lang("en"), "body 1");
  EXPECT_EQ(lang("fr"), "body 2");
  EXPECT_EQ(lang("en"), "body 1");
  EXPECT_EQ(lang("fr"), "body 2");
  EXPECT_EQ(f.get().body, "body 3");  // no Accept-Language is a value of its own
  EXPECT_EQ(f.calls, 3);
}

TEST(Cache, VaryStarIsNotStored) {
  Fixture f;
  f.fields.emplace_back("Vary", "*");
  f.get();
  f.get();
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, HeadIsAnsweredFromAStoredGet) {
  Fixture f;
  f.client.head("/r").send();  // a HEAD does not fill the cache
  EXPECT_EQ(f.calls, 1);
  f.get();
  TestResponse head = f.client.head("/r").send();
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.header("X-Cache"), "HIT");
  EXPECT_EQ(head.body, "");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, AuthorizedRequestsNeedPublicOrSMaxage) {
  Fixture f;
  f.get();  // stored
  TestResponse r = f.client.get("/r").header("Authorization", "Bearer x").send();
  EXPECT_EQ(r.body, "body 2");        // never served from the cache
  EXPECT_EQ(f.get().body, "body 1");  // and its max-age response did not replace the entry

  Fixture p;
  p.fields = {{"Cache-Control", "public, max-age=60"}};
  p.client.get("/r").header("Authorization", "Bearer x").send();
  EXPECT_EQ(p.get().header("X-Cache"), "HIT");
  EXPECT_EQ(p.calls, 1);
}

TEST(Cache, StaleEntryIsRevalidatedAnd304RefreshesIt) {
  Fixture f;
  f.fields = {{"Cache-Control", "max-age=10"},
              {"ETag", "\"v1\""},
              {"Last-Modified", "Tue, 01 Jan 2030 00:00:00 GMT"},
              {"X-Version", "1"}};
  f.get();
  EXPECT_EQ(f.seen_if_none_match, "");
  f.now += 20s;
  f.not_modified = true;
  f.fields = {{"Cache-Control", "max-age=30"}, {"ETag", "\"v1\""}, {"X-Version", "2"}};
  TestResponse r = f.get();
  EXPECT_EQ(f.calls, 2);
  EXPECT_EQ(f.seen_if_none_match, "\"v1\"");
  EXPECT_EQ(f.seen_if_modified_since, "Tue, 01 Jan 2030 00:00:00 GMT");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body 1");
  EXPECT_EQ(r.header("X-Cache"), "REVALIDATED");
  EXPECT_EQ(r.header("X-Version"), "2");
  EXPECT_EQ(r.header("Age"), "0");
  f.now += 29s;  // fresh for the 304's max-age
  EXPECT_EQ(f.get().header("X-Cache"), "HIT");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, RevalidationAnswered200ReplacesTheEntry) {
  Fixture f;
  f.fields = {{"Cache-Control", "max-age=10"}, {"ETag", "\"v1\""}};
  f.get();
  f.now += 20s;
  TestResponse r = f.get();
  EXPECT_EQ(r.body, "body 2");
  EXPECT_EQ(r.header("X-Cache"), "MISS");
  EXPECT_EQ(f.get().body, "body 2");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, NoCacheIsAlwaysRevalidated) {
  Fixture f;
  f.fields = {{"Cache-Control", "no-cache, max-age=60"}, {"ETag", "\"v1\""}};
  f.get();
  f.not_modified = true;
  TestResponse r = f.get();
  EXPECT_EQ(r.header("X-Cache"), "REVALIDATED");
  EXPECT_EQ(r.body, "body 1");
  EXPECT_EQ(f.seen_if_none_match, "\"v1\"");
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, ClientConditionalRequestsBypass) {
  Fixture f;
  f.fields.emplace_back("ETag", "\"v1\"");
  f.get();
  f.not_modified = true;
  TestResponse r = f.client.get("/r").header("If-None-Match", "\"v1\"").send();
  EXPECT_EQ(r.status, 304);
  EXPECT_EQ(f.calls, 2);
}

TEST(Cache, LeastRecentlyUsedEvictedByCount) {
  CacheOptions o;
  o.max_entries = 2;
  Fixture f(o);
  f.get("/r?1");
  f.get("/r?2");
  f.get("/r?1");  // hit: ?2 is now the least recently used
  f.get("/r?3");  // evicts ?2
  EXPECT_EQ(f.calls, 3);
  EXPECT_EQ(f.get("/r?1").header("X-Cache"), "HIT");
  EXPECT_EQ(f.get("/r?3").header("X-Cache"), "HIT");
  EXPECT_EQ(f.get("/r?2").header("X-Cache"), "MISS");
}

TEST(Cache, LeastRecentlyUsedEvictedByBytes) {
  CacheOptions o;
  o.max_entry_bytes = 6;
  o.max_bytes = 12;  // two "body N" bodies
  Fixture f(o);
  f.get("/r?1");
  f.get("/r?2");
  EXPECT_EQ(f.get("/r?1").header("X-Cache"), "HIT");
  f.get("/r?3");  // 18 bytes: evicts ?2
  EXPECT_EQ(f.get("/r?1").header("X-Cache"), "HIT");
  EXPECT_EQ(f.get("/r?3").header("X-Cache"), "HIT");
  EXPECT_EQ(f.get("/r?2").header("X-Cache"), "MISS");
}

TEST(Cache, StreamedBodyIsStoredAsItPasses) {
  Fixture f;
  f.pieces = {"ab", "cd", "ef"};
  EXPECT_EQ(f.get("/stream").body, "abcdef");
  TestResponse hit = f.get("/stream");
  EXPECT_EQ(hit.body, "abcdef");
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(f.calls, 1);
}

TEST(Cache, TooLargeBodyPassesThroughUnstored) {
  CacheOptions o;
  o.max_entry_bytes = 5;
  Fixture f(o);
  f.pieces = {"ab", "cd", "ef"};
  EXPECT_EQ(f.get("/stream").body, "abcdef");
  EXPECT_EQ(f.get("/stream").body, "abcdef");
  EXPECT_EQ(f.calls, 2);
  f.fields = {{"Cache-Control", "max-age=60"}};
  EXPECT_EQ(f.get("/r").body, "body 3");  // "body 3" is 6 bytes too
  EXPECT_EQ(f.get("/r").body, "body 4");
}

TEST(Cache, OnlyGetAndHeadAndOnly200) {
  Fixture f;
  f.app.post("/r", [&](Context&) {
    ++f.calls;
    return text("posted");
  });
  f.app.get("/missing", [&](Context&) {
    ++f.calls;
    http::Response r = text("no", 404);
    r.head.headers.set("Cache-Control", "max-age=60");
    return r;
  });
  f.client.post("/r").send();
  f.client.post("/r").send();
  f.get("/missing");
  f.get("/missing");
  EXPECT_EQ(f.calls, 4);
}

TEST(Cache, CompressedVariantsAreStoredApart) {
  App app;
  int calls = 0;
  CompressOptions c;
  c.min_size = 1;
  app.use(cache({}));
  app.use(compress(c));
  app.get("/", [&](Context&) {
    ++calls;
    http::Response r = text("hello hello hello");
    r.head.headers.set("Cache-Control", "max-age=60");
    return r;
  });
  TestClient client(app);
  auto gz = [&] { return client.get("/").header("Accept-Encoding", "gzip").send(); };
  EXPECT_EQ(client.get("/").send().header("X-Cache"), "MISS");
  EXPECT_EQ(gz().header("X-Cache"), "MISS");
  TestResponse hit = gz();
  EXPECT_EQ(hit.header("X-Cache"), "HIT");
  EXPECT_EQ(hit.header("Content-Encoding"), "gzip");
  TestResponse plain = client.get("/").send();
  EXPECT_EQ(plain.header("X-Cache"), "HIT");
  EXPECT_EQ(plain.body, "hello hello hello");
  EXPECT_EQ(calls, 2);
}

TEST(Cache, VaryUsesTheValuesTheClientSentEvenIfTheChainChangesThem) {
  App app;
  int calls = 0;
  app.use(cache({}));
  app.use([](http::Request& req, Context& ctx, Next next) -> asio::awaitable<http::Response> {
    req.head.headers.remove("Accept-Language");  // as a proxy or rewrite might
    co_return co_await next(req, ctx);
  });
  app.get("/", [&](Context&) {
    ++calls;
    http::Response r = text("n" + std::to_string(calls));
    r.head.headers.set("Cache-Control", "max-age=60");
    r.head.headers.set("Vary", "Accept-Language");
    return r;
  });
  TestClient client(app);
  auto lang = [&](const char* l) {
    return client.get("/").header("Accept-Language", l).send().body;
  };
  EXPECT_EQ(lang("en"), "n1");
  EXPECT_EQ(lang("fr"), "n2");
  EXPECT_EQ(lang("en"), "n1");
  EXPECT_EQ(lang("fr"), "n2");
  EXPECT_EQ(calls, 2);
}

TEST(Cache, InvalidOptionsAreRefused) {
  CacheOptions o;
  o.max_entries = 0;
  EXPECT_THROW(cache(o), std::invalid_argument);
  CacheOptions b;
  b.max_bytes = 10;
  EXPECT_THROW(cache(b), std::invalid_argument);
}

}  // namespace
}  // namespace rws::middleware
