#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <exception>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include <asio/bind_cancellation_slot.hpp>
#include <asio/cancellation_signal.hpp>
#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

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

// ----- concurrent misses ------------------------------------------------------------------------

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

// Holds coroutines until opened. Used from one thread at a time (the io_context it runs on).
struct Gate {
  bool open = false;
  std::vector<asio::steady_timer*> held;

  asio::awaitable<void> pass() {
    if (open) co_return;
    asio::steady_timer timer(co_await asio::this_coro::executor,
                             asio::steady_timer::time_point::max());
    held.push_back(&timer);
    co_await timer.async_wait(kUseTuple);
  }
  void release() {
    open = true;
    for (asio::steady_timer* timer : held)
      timer->cancel();
    held.clear();
  }
};

// "ab" once `first` opens, then "cd" once `second` opens.
class GatedPieces final : public http::BodySource {
 public:
  GatedPieces(Gate& first, Gate& second) : first_(first), second_(second) {}
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t) override {
    if (i_ == 2) co_return http::BodyFrame::end();
    co_await (i_ == 0 ? first_ : second_).pass();
    co_return http::BodyFrame::bytes(i_++ == 0 ? "ab" : "cd");
  }

 private:
  Gate& first_;
  Gate& second_;
  int i_ = 0;
};

// What one request got.
struct Got {
  int status = 0;
  std::string x_cache;
  std::string body;
  bool done = false;
  std::exception_ptr error;
};

// An App with a shared ResponseCache in front of handlers that count their runs and answer
// only when the test opens their gate: /slow (the head waits; "slow N" with `fields`, `status`)
// and /stream (the head at once; the body's first piece waits for `first_piece_gate`, open
// unless a test closes it, the second for `body_gate`).
struct Herd {
  explicit Herd(CacheOptions options = {})
      : cache(std::make_shared<ResponseCache>(std::move(options))) {
    app.use(cache->middleware());
    app.get("/slow", [this](http::Request&, Context&) -> asio::awaitable<http::Response> {
      const int n = ++calls;
      if (n == 1 || !only_first_waits) co_await gate.pass();
      http::Response r = text("slow " + std::to_string(n), status);
      for (const auto& [name, value] : fields)
        r.head.headers.set(name, value);
      co_return r;
    });
    app.get("/stream", [this](Context&) {
      ++calls;
      http::Response r;
      r.head.headers.set("Cache-Control", "max-age=60");
      r.body = http::Body::from_stream(std::make_unique<GatedPieces>(first_piece_gate, body_gate));
      return r;
    });
  }

  // GET `target` on `io`; `abandon` drops the body after its first piece, once `abandon_gate`
  // opens.
  void spawn(asio::io_context& io, Got& got, std::string target = "/slow",
             std::vector<std::pair<std::string, std::string>> headers = {}, bool abandon = false) {
    asio::co_spawn(io, fetch(got, std::move(target), std::move(headers), abandon),
                   [&got](std::exception_ptr e) { got.error = e; });
  }

  asio::awaitable<void> fetch(Got& got, std::string target,
                              std::vector<std::pair<std::string, std::string>> headers,
                              bool abandon) {
    http::Request request;
    request.head.method = "GET";
    request.head.target = target;
    request.head.path = target;
    request.head.authority = "test";
    request.head.scheme = "http";
    request.head.version = 11;
    for (const auto& [name, value] : headers)
      request.head.headers.add(name, value);
    http::RequestContext connection{"127.0.0.1", 40000, false, 1, 1, nullptr, nullptr, {}};
    asio::awaitable<http::Response> handling = app.handle(std::move(request), connection);
    http::Response response = co_await std::move(handling);
    got.status = response.head.status;
    got.x_cache = std::string(response.head.headers.get("X-Cache"));
    std::unique_ptr<http::BodySource> source = std::move(response.body).into_source();
    for (;;) {
      Result<http::BodyFrame> frame = co_await source->next(64 * 1024);
      if (!frame || frame->kind != http::BodyFrame::Kind::kData) break;
      got.body.append(frame->data);
      if (abandon) {
        co_await abandon_gate.pass();
        co_return;
      }
    }
    got.done = true;
  }

  std::shared_ptr<ResponseCache> cache;
  App app;
  std::atomic<int> calls{0};
  bool only_first_waits = false;
  Gate gate;
  Gate first_piece_gate{true, {}};
  Gate body_gate;
  Gate abandon_gate;
  int status = 200;
  std::vector<std::pair<std::string, std::string>> fields = {{"Cache-Control", "max-age=60"}};
};

int count(const std::vector<Got>& got, std::string_view x_cache) {
  int n = 0;
  for (const Got& g : got)
    n += g.x_cache == x_cache ? 1 : 0;
  return n;
}

TEST(CacheCollapsing, ConcurrentMissesMakeOneUpstreamRequest) {
  Herd herd;
  asio::io_context io;
  std::vector<Got> got(8);
  for (Got& g : got)
    herd.spawn(io, g);
  io.poll();  // everything that can run has: the first is upstream, the others wait for it
  EXPECT_EQ(herd.calls.load(), 1);
  EXPECT_EQ(herd.cache->waiting(), 7u);
  herd.gate.release();
  io.run();
  EXPECT_EQ(herd.calls.load(), 1);
  EXPECT_EQ(herd.cache->waiting(), 0u);
  for (const Got& g : got) {
    EXPECT_TRUE(g.done && !g.error);
    EXPECT_EQ(g.status, 200);
    EXPECT_EQ(g.body, "slow 1");
  }
  EXPECT_EQ(got[0].x_cache, "MISS");
  EXPECT_EQ(count(got, "HIT"), 7);
}

TEST(CacheCollapsing, TheLeaderStreamsWhileItFillsAndWaitersGetTheWholeBody) {
  Herd herd;
  asio::io_context io;
  std::vector<Got> got(4);
  for (Got& g : got)
    herd.spawn(io, g, "/stream");
  io.poll();
  EXPECT_EQ(got[0].body, "ab");  // the leader's client has its first piece already
  EXPECT_EQ(herd.cache->waiting(), 3u);
  herd.body_gate.release();
  io.run();
  EXPECT_EQ(herd.calls.load(), 1);
  for (const Got& g : got)
    EXPECT_EQ(g.body, "abcd");
  EXPECT_EQ(count(got, "HIT"), 3);
}

TEST(CacheCollapsing, UncacheableLeaderReleasesTheWaitersUpstream) {
  const std::vector<std::vector<std::pair<std::string, std::string>>> uncacheable = {
      {{"Cache-Control", "no-store"}},
      {{"Cache-Control", "private, max-age=60"}},
      {{"Cache-Control", "max-age=60"}, {"Set-Cookie", "a=b"}},
  };
  for (const auto& fields : uncacheable) {
    Herd herd;
    herd.fields = fields;
    asio::io_context io;
    std::vector<Got> got(5);
    for (Got& g : got)
      herd.spawn(io, g);
    io.poll();
    EXPECT_EQ(herd.cache->waiting(), 4u);
    herd.gate.release();
    io.run();
    EXPECT_EQ(herd.calls.load(), 5) << fields[0].second;
    EXPECT_EQ(count(got, "MISS"), 5);
    EXPECT_EQ(herd.cache->waiting(), 0u);
  }
  Herd error;  // an error status is not stored either
  error.status = 500;
  asio::io_context io;
  std::vector<Got> got(3);
  for (Got& g : got)
    error.spawn(io, g);
  io.poll();
  error.gate.release();
  io.run();
  EXPECT_EQ(error.calls.load(), 3);
  for (const Got& g : got)
    EXPECT_EQ(g.status, 500);
}

TEST(CacheCollapsing, ATooLargeBodyReleasesTheWaitersBeforeItEnds) {
  CacheOptions o;
  o.max_entry_bytes = 1;  // "ab" is over it
  Herd herd(o);
  herd.first_piece_gate.open = false;
  asio::io_context io;
  std::vector<Got> got(3);
  for (Got& g : got)
    herd.spawn(io, g, "/stream");
  io.poll();
  EXPECT_EQ(herd.cache->waiting(), 2u);
  herd.first_piece_gate.release();
  io.poll();
  // The leader's body is not over ("cd" waits for the gate), yet the waiters went upstream.
  EXPECT_EQ(got[0].body, "ab");
  EXPECT_EQ(herd.cache->waiting(), 0u);
  EXPECT_EQ(herd.calls.load(), 3);
  herd.body_gate.release();
  io.run();
  for (const Got& g : got)
    EXPECT_EQ(g.body, "abcd");
}

TEST(CacheCollapsing, AnAbandonedLeaderBodyReleasesTheWaiters) {
  Herd herd;
  asio::io_context io;
  std::vector<Got> got(3);
  herd.spawn(io, got[0], "/stream", {}, /*abandon=*/true);
  herd.spawn(io, got[1], "/stream");
  herd.spawn(io, got[2], "/stream");
  io.poll();
  EXPECT_EQ(got[0].body, "ab");
  EXPECT_EQ(herd.cache->waiting(), 2u);
  herd.abandon_gate.release();
  io.poll();
  EXPECT_FALSE(got[0].done);
  EXPECT_EQ(herd.cache->waiting(), 0u);
  EXPECT_EQ(herd.calls.load(), 3);
  herd.body_gate.release();
  io.run();
  EXPECT_EQ(got[1].body, "abcd");
  EXPECT_EQ(got[2].body, "abcd");
}

TEST(CacheCollapsing, AWaiterPastLockTimeoutGoesUpstreamAndStoresNothing) {
  CacheOptions o;
  o.lock_timeout = std::chrono::milliseconds(300);
  Herd herd(o);
  herd.only_first_waits = true;
  asio::io_context io;
  Got leader, waiter, later;
  herd.spawn(io, leader);
  herd.spawn(io, waiter);
  io.poll();
  EXPECT_EQ(herd.cache->waiting(), 1u);
  while (!waiter.done && !waiter.error)
    io.run_one();  // the waiter's timer is the only thing that can end this
  EXPECT_EQ(waiter.body, "slow 2");
  EXPECT_EQ(waiter.x_cache, "MISS");
  // Its response was not stored: the next request waits for the leader's fill.
  herd.spawn(io, later);
  io.poll();
  EXPECT_EQ(herd.cache->waiting(), 1u);
  herd.gate.release();
  io.run();
  EXPECT_EQ(leader.body, "slow 1");
  EXPECT_EQ(later.body, "slow 1");
  EXPECT_EQ(later.x_cache, "HIT");
  EXPECT_EQ(herd.calls.load(), 2);
}

TEST(CacheCollapsing, ZeroLockTimeoutDoesNotCollapse) {
  CacheOptions o;
  o.lock_timeout = std::chrono::milliseconds(0);
  Herd herd(o);
  asio::io_context io;
  std::vector<Got> got(3);
  for (Got& g : got)
    herd.spawn(io, g);
  io.poll();
  EXPECT_EQ(herd.calls.load(), 3);
  EXPECT_EQ(herd.cache->waiting(), 0u);
  herd.gate.release();
  io.run();
  EXPECT_EQ(count(got, "MISS"), 3);
}

TEST(CacheCollapsing, ACancelledWaiterLeavesTheQueue) {
  Herd herd;
  asio::io_context io;
  Got leader, cancelled, waiter;
  asio::cancellation_signal signal;
  herd.spawn(io, leader);
  asio::co_spawn(io, herd.fetch(cancelled, "/slow", {}, false),
                 asio::bind_cancellation_slot(signal.slot(),
                                              [&](std::exception_ptr e) { cancelled.error = e; }));
  herd.spawn(io, waiter);
  io.poll();
  EXPECT_EQ(herd.cache->waiting(), 2u);
  signal.emit(asio::cancellation_type::terminal);
  io.poll();
  EXPECT_EQ(herd.cache->waiting(), 1u);
  ASSERT_TRUE(cancelled.error);
  try {
    std::rethrow_exception(cancelled.error);
  } catch (const std::system_error& e) {
    EXPECT_EQ(e.code(), asio::error::operation_aborted);
  }
  herd.gate.release();
  io.run();
  EXPECT_EQ(waiter.body, "slow 1");
  EXPECT_EQ(waiter.x_cache, "HIT");
  EXPECT_EQ(herd.calls.load(), 1);
}

TEST(CacheCollapsing, AWaiterDestroyedWithItsExecutorIsForgotten) {
  Herd herd;
  asio::io_context io;
  Got leader, gone;
  herd.spawn(io, leader);
  io.poll();
  {
    asio::io_context other;  // another worker, torn down while its request waits
    herd.spawn(other, gone);
    other.poll();
    EXPECT_EQ(herd.cache->waiting(), 1u);
  }
  EXPECT_EQ(herd.cache->waiting(), 0u);
  herd.gate.release();  // the fill ends: nothing may be posted to the destroyed context
  io.run();
  EXPECT_EQ(leader.body, "slow 1");
  EXPECT_FALSE(gone.done);
}

TEST(CacheCollapsing, FillsAreKeyedByTheVarySelection) {
  Herd herd;
  herd.fields = {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Language"}};
  asio::io_context io;
  Got first;
  herd.spawn(io, first, "/slow", {{"Accept-Language", "en"}});
  herd.gate.release();
  io.run();
  io.restart();
  herd.gate.open = false;
  // Now that the cache knows the response varies on Accept-Language, "fr" and "de" misses are
  // separate fills; the second "fr" waits for the first.
  std::vector<Got> got(3);
  herd.spawn(io, got[0], "/slow", {{"Accept-Language", "fr"}});
  herd.spawn(io, got[1], "/slow", {{"Accept-Language", "de"}});
  herd.spawn(io, got[2], "/slow", {{"Accept-Language", "fr"}});
  io.poll();
  EXPECT_EQ(herd.calls.load(), 3);
  EXPECT_EQ(herd.cache->waiting(), 1u);
  herd.gate.release();
  io.run();
  EXPECT_EQ(got[0].body, "slow 2");
  EXPECT_EQ(got[1].body, "slow 3");
  EXPECT_EQ(got[2].body, "slow 2");
  EXPECT_EQ(got[2].x_cache, "HIT");
}

TEST(CacheCollapsing, AReleasedWaiterOfAnotherVariantGoesUpstream) {
  Herd herd;
  herd.fields = {{"Cache-Control", "max-age=60"}, {"Vary", "Accept-Language"}};
  asio::io_context io;
  Got en, fr;
  // Nothing is stored yet, so both wait on the same fill; the entry is en's.
  herd.spawn(io, en, "/slow", {{"Accept-Language", "en"}});
  herd.spawn(io, fr, "/slow", {{"Accept-Language", "fr"}});
  io.poll();
  EXPECT_EQ(herd.cache->waiting(), 1u);
  herd.gate.release();
  io.run();
  EXPECT_EQ(en.body, "slow 1");
  EXPECT_EQ(fr.body, "slow 2");
  EXPECT_EQ(fr.x_cache, "MISS");
}

TEST(CacheCollapsing, AStaleEntryIsRevalidatedOnceForAllWaiters) {
  CacheOptions o;
  Clock::time_point now = Clock::time_point(100s);
  o.clock = [&now] { return now; };
  Herd herd(o);
  herd.fields = {{"Cache-Control", "max-age=10"}, {"ETag", "\"v1\""}};
  asio::io_context io;
  Got first;
  herd.spawn(io, first);
  herd.gate.release();
  io.run();
  io.restart();
  now += 20s;
  herd.gate.open = false;
  herd.status = 304;
  std::vector<Got> got(4);
  for (Got& g : got)
    herd.spawn(io, g);
  io.poll();
  EXPECT_EQ(herd.calls.load(), 2);
  EXPECT_EQ(herd.cache->waiting(), 3u);
  herd.gate.release();
  io.run();
  EXPECT_EQ(got[0].x_cache, "REVALIDATED");
  EXPECT_EQ(count(got, "HIT"), 3);
  for (const Got& g : got)
    EXPECT_EQ(g.body, "slow 1");
  EXPECT_EQ(herd.calls.load(), 2);
}

TEST(CacheCollapsing, WaitersOnAnotherThreadAreWokenByTheLeadersThread) {
  for (int round = 0; round < 20; ++round) {
    Herd herd;
    asio::io_context leader_io, waiter_io;
    Got leader;
    std::vector<Got> got(6);
    herd.spawn(leader_io, leader);
    leader_io.poll();  // upstream, held by the gate
    for (Got& g : got)
      herd.spawn(waiter_io, g);
    waiter_io.poll();
    ASSERT_EQ(herd.cache->waiting(), 6u);
    // The waiters' thread sleeps in run() until the leader's thread ends the fill.
    std::thread waiters([&] { waiter_io.run(); });
    std::thread leading([&] {
      asio::post(leader_io, [&] { herd.gate.release(); });
      leader_io.run();
    });
    leading.join();
    waiters.join();
    EXPECT_EQ(herd.calls.load(), 1);
    EXPECT_EQ(leader.body, "slow 1");
    for (const Got& g : got) {
      EXPECT_EQ(g.body, "slow 1");
      EXPECT_EQ(g.x_cache, "HIT");
    }
  }
}

TEST(Cache, InvalidOptionsAreRefused) {
  CacheOptions o;
  o.max_entries = 0;
  EXPECT_THROW(cache(o), std::invalid_argument);
  CacheOptions b;
  b.max_bytes = 10;
  EXPECT_THROW(cache(b), std::invalid_argument);
  CacheOptions l;
  l.lock_timeout = std::chrono::milliseconds(-1);
  EXPECT_THROW(cache(l), std::invalid_argument);
}

}  // namespace
}  // namespace rws::middleware
