#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/app/app.hpp>
#include <rws/app/error.hpp>
#include <rws/app/json.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/http/body.hpp>
#include <rws/middleware/limits.hpp>

namespace rws::middleware {
namespace {

using std::chrono::milliseconds;
using Clock = std::chrono::steady_clock;

// ----- max_body_size ----------------------------------------------------------------------------

// A request body of undeclared length (like a chunked upload): the given chunks, then the end.
class ChunkSource final : public http::BodySource {
 public:
  explicit ChunkSource(std::vector<std::string> chunks) : chunks_(std::move(chunks)) {}
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    if (next_ == chunks_.size()) co_return http::BodyFrame::end();
    std::string& chunk = chunks_[next_];
    std::string_view data = std::string_view(chunk).substr(offset_, max_bytes);
    offset_ += data.size();
    if (offset_ == chunk.size()) {
      ++next_;
      offset_ = 0;
    }
    co_return http::BodyFrame::bytes(data);
  }

 private:
  std::vector<std::string> chunks_;
  std::size_t next_ = 0;
  std::size_t offset_ = 0;
};

// Runs `request` through `app` as the server would and returns the response head and body.
TestResponse handle(App& app, http::Request request) {
  asio::io_context io;
  http::RequestContext connection{"127.0.0.1", 40000, false, 1, 1, nullptr, nullptr, {}};
  TestResponse out;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        http::Response response = co_await app.handle(std::move(request), connection);
        out.status = response.head.status;
        out.headers = response.head.headers;
        Result<std::string> body = co_await response.body.read_all(1 << 20);
        if (!body) throw std::runtime_error("response body: " + body.error().describe());
        out.body = std::move(*body);
      },
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

http::Request streamed_post(std::string path, std::vector<std::string> chunks,
                            std::string_view content_type = "text/plain") {
  http::Request request;
  request.head.method = "POST";
  request.head.target = path;
  request.head.path = std::move(path);
  request.head.authority = "test";
  request.head.scheme = "http";
  request.head.version = 11;
  request.head.headers.set("Transfer-Encoding", "chunked");
  request.head.headers.set("Content-Type", content_type);
  request.body = http::Body::from_stream(std::make_unique<ChunkSource>(std::move(chunks)));
  return request;
}

// An App limiting bodies to `limit` whose /upload handler reads the whole body and records
// what it got.
struct BodyFixture {
  explicit BodyFixture(std::uint64_t limit) {
    app.use(max_body_size(limit));
    app.post("/upload",
             [this](http::Request& request, Context&) -> asio::awaitable<http::Response> {
               ++calls;
               declared = request.body.size();
               Result<std::string> body = co_await request.body.read_all(1 << 20);
               if (!body) {
                 error = body.error();
                 co_return text("read failed\n", 400);
               }
               received = *body;
               co_return text("got " + std::to_string(body->size()) + "\n");
             });
    app.post("/json", [](http::Request& request, Context&) -> asio::awaitable<http::Response> {
      Json value = co_await read_json(request, 1 << 20);
      co_return text(value.dump());
    });
    app.get("/plain", [this](Context&) {
      ++calls;
      return text("plain\n");
    });
  }

  App app;
  int calls = 0;
  std::optional<std::uint64_t> declared;
  std::string received;
  std::optional<Error> error;
};

TEST(MaxBodySize, DeclaredLengthOverTheLimitIs413BeforeTheHandler) {
  BodyFixture f(10);
  TestClient client(f.app);
  TestResponse r = client.post("/upload").body(std::string(11, 'x')).send();
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.body,
            "Content Too Large: the body of 11 bytes is over this route's limit of 10 bytes\n");
  EXPECT_EQ(f.calls, 0);
}

TEST(MaxBodySize, DeclaredLengthUpToTheLimitPasses) {
  BodyFixture f(10);
  TestClient client(f.app);
  TestResponse r = client.post("/upload").body("0123456789").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "got 10\n");
  EXPECT_EQ(f.received, "0123456789");
  EXPECT_EQ(f.declared, std::optional<std::uint64_t>(10));  // the length is still known
  EXPECT_FALSE(f.error.has_value());

  r = client.post("/upload").body("abc").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.received, "abc");

  r = client.get("/plain").send();  // no body at all
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.calls, 3);
}

TEST(MaxBodySize, ZeroLimitRefusesAnyBytes) {
  BodyFixture f(0);
  TestClient client(f.app);
  EXPECT_EQ(client.post("/upload").body("x").send().status, 413);
  EXPECT_EQ(f.calls, 0);
  EXPECT_EQ(client.post("/upload").body("").send().status, 200);  // Content-Length: 0
  EXPECT_EQ(f.calls, 1);
}

TEST(MaxBodySize, UndeclaredLengthOverTheLimitFailsTheHandlersRead) {
  BodyFixture f(10);
  TestResponse r = handle(f.app, streamed_post("/upload", {"012345", "6789", "X"}));
  EXPECT_EQ(f.calls, 1);  // the length was unknown, so the handler ran
  EXPECT_FALSE(f.declared.has_value());
  ASSERT_TRUE(f.error.has_value()) << "the read of 11 bytes succeeded past a limit of 10";
  EXPECT_EQ(f.error->code, make_error_code(Errc::kTooLarge)) << f.error->describe();
  EXPECT_EQ(f.error->side, ErrorSide::kDownstream);
  EXPECT_NE(f.error->context.find("10 bytes"), std::string::npos) << f.error->context;
  EXPECT_EQ(r.status, 400);  // what this handler makes of a failed read
}

TEST(MaxBodySize, UndeclaredLengthUpToTheLimitIsReadWhole) {
  BodyFixture f(10);
  TestResponse r = handle(f.app, streamed_post("/upload", {"01234", "", "56789"}));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "got 10\n");
  EXPECT_EQ(f.received, "0123456789");
  EXPECT_FALSE(f.error.has_value());
}

TEST(MaxBodySize, UndeclaredLengthOverTheLimitIs413ForJsonReaders) {
  BodyFixture f(8);
  TestResponse r =
      handle(f.app, streamed_post("/json", {"{\"a\":", "\"long value\"}"}, "application/json"));
  EXPECT_EQ(r.status, 413) << r.body;
  r = handle(f.app, streamed_post("/json", {"{\"a\":", "1}"}, "application/json"));
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "{\"a\":1}");
}

// ----- timeout ----------------------------------------------------------------------------------

// Sets `*flag` when destroyed: proves a coroutine frame was unwound.
struct SetOnDestroy {
  bool* flag;
  ~SetOnDestroy() { *flag = true; }
};

TEST(Timeout, SlowHandlerGets504AndIsCancelled) {
  App app;
  app.use(timeout(milliseconds(30)));
  bool started = false;
  bool reached_end = false;
  std::error_code wait_error;
  app.get("/slow", [&](Context&) -> asio::awaitable<http::Response> {
    started = true;
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(30));
    auto [ec] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    wait_error = ec;
    if (ec) co_return text("cancelled\n", 500);
    reached_end = true;
    co_return text("slow\n");
  });
  TestClient client(app);
  const Clock::time_point start = Clock::now();
  TestResponse r = client.get("/slow").send();
  const Clock::duration elapsed = Clock::now() - start;
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.body, "Gateway Timeout: no response within 30 ms\n");
  EXPECT_TRUE(started);
  EXPECT_FALSE(reached_end);
  EXPECT_EQ(wait_error, asio::error::operation_aborted);  // the handler's wait was cancelled
  EXPECT_GE(elapsed, milliseconds(30));
  EXPECT_LT(elapsed, std::chrono::seconds(10));  // not the handler's 30 s
}

TEST(Timeout, CancelledHandlerFrameIsUnwound) {
  App app;
  app.use(timeout(milliseconds(20)));
  bool unwound = false;
  bool reached_end = false;
  app.get("/slow", [&](Context&) -> asio::awaitable<http::Response> {
    SetOnDestroy guard{&unwound};
    asio::steady_timer timer(co_await asio::this_coro::executor, std::chrono::seconds(30));
    co_await timer.async_wait(asio::use_awaitable);  // throws when cancelled
    reached_end = true;
    co_return text("slow\n");
  });
  TestClient client(app);
  const Clock::time_point start = Clock::now();
  TestResponse r = client.get("/slow").send();
  EXPECT_EQ(r.status, 504);
  EXPECT_TRUE(unwound);
  EXPECT_FALSE(reached_end);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(10));
}

TEST(Timeout, FastHandlerPassesUnchanged) {
  App app;
  app.use(timeout(std::chrono::seconds(5)));
  app.get("/fast", [](Context&) -> asio::awaitable<http::Response> {
    asio::steady_timer timer(co_await asio::this_coro::executor, milliseconds(1));
    co_await timer.async_wait(asio::use_awaitable);
    http::Response r = text("fast\n", 201);
    r.head.headers.set("X-Handler", "yes");
    co_return r;
  });
  app.get("/sync", [](Context&) { return text("sync\n"); });
  TestClient client(app);
  const Clock::time_point start = Clock::now();
  TestResponse r = client.get("/fast").send();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.body, "fast\n");
  EXPECT_EQ(r.header("x-handler"), "yes");
  r = client.get("/sync").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "sync\n");
  // The deadline timer was cancelled once the responses were ready, not waited for.
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST(Timeout, HandlerErrorsKeepTheirStatus) {
  App app;
  app.use(timeout(std::chrono::seconds(5)));
  app.get("/gone", [](Context&) -> http::Response { throw HttpError(410, "gone"); });
  TestClient client(app);
  const Clock::time_point start = Clock::now();
  EXPECT_EQ(client.get("/gone").send().status, 410);
  EXPECT_EQ(client.get("/missing").send().status, 404);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST(Timeout, InnerMiddlewareErrorsKeepTheirStatus) {
  // A middleware inside the timeout that answers by throwing (as App middleware may: the App
  // turns HttpError into its response) must not be turned into a 504 after the deadline.
  // Both in the same chain (middleware of different layers are separate chains: the App
  // catches what an inner layer throws before it reaches an outer one).
  Middleware login = [](http::Request&, Context&, Next) -> asio::awaitable<http::Response> {
    throw HttpError(401, "login first");
    co_return text("unreachable\n");
  };
  App app;
  app.get("/private", [](Context&) { return text("secret\n"); })
      .use(timeout(milliseconds(500)))
      .use(login);
  app.group("/admin").use(timeout(milliseconds(500))).use(login).get("/x", [](Context&) {
    return text("secret\n");
  });
  TestClient client(app);
  for (const char* path : {"/private", "/admin/x"}) {
    const Clock::time_point start = Clock::now();
    TestResponse r = client.get(path).send();
    EXPECT_EQ(r.status, 401) << path << ": " << r.body;
    EXPECT_LT(Clock::now() - start, milliseconds(400)) << path;
  }
}

TEST(Timeout, StreamingBodyIsNotCovered) {
  // Only the response head must be ready in time; the body may arrive later.
  App app;
  app.use(timeout(milliseconds(20)));
  app.get("/stream", [](Context&) {
    return stream([](StreamWriter& out) -> asio::awaitable<void> {
      asio::steady_timer timer(co_await asio::this_coro::executor, milliseconds(60));
      co_await timer.async_wait(asio::use_awaitable);
      co_await out.write("late\n");
    });
  });
  TestClient client(app);
  TestResponse r = client.get("/stream").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "late\n");
}

}  // namespace
}  // namespace rws::middleware
