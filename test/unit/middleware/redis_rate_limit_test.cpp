#include <gtest/gtest.h>

#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/middleware/redis_rate_limit.hpp>

#include "redis/resp.hpp"

namespace rws::middleware {
namespace {

using asio::ip::tcp;
using Command = std::vector<std::string>;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

// A scripted Redis on 127.0.0.1 in the test's io_context: it parses each command (RESP arrays of
// bulk strings), records it, and writes what `answer` returns for it ("" = never answer).
class FakeRedis {
 public:
  explicit FakeRedis(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
  void stop() {
    std::error_code ignored;
    acceptor_.close(ignored);
    for (auto& s : sockets_)
      s->close(ignored);
  }

  std::function<std::string(const Command&)> answer;
  std::vector<Command> commands;
  int connections = 0;

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      ++connections;
      sockets_.push_back(std::make_shared<tcp::socket>(std::move(socket)));
      asio::co_spawn(acceptor_.get_executor(), session(sockets_.back()), asio::detached);
    }
  }

  asio::awaitable<void> session(std::shared_ptr<tcp::socket> socket) {
    std::string input;
    char buf[4096];
    for (;;) {
      auto [ec, n] = co_await socket->async_read_some(asio::buffer(buf), kTuple);
      if (ec) co_return;
      input.append(buf, n);
      std::string out;
      for (;;) {
        redis::Reply r;
        std::size_t used = 0;
        if (redis::parse_reply(input, r, used) != redis::ParseStatus::kComplete) break;
        input.erase(0, used);
        Command c;
        for (const redis::Reply& e : r.elements)
          c.push_back(e.text);
        commands.push_back(c);
        out += answer(c);
      }
      if (out.empty()) continue;
      auto [we, written] = co_await asio::async_write(*socket, asio::buffer(out), kTuple);
      if (we) co_return;
    }
  }

  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
};

struct Fixture {
  Fixture() : redis(io) {}

  RedisRateLimitOptions options(std::string url_text) {
    RedisRateLimitOptions o;
    std::string error;
    o.url = redis::parse_redis_url(url_text, error).value();
    o.timeout = std::chrono::milliseconds(300);
    o.key_prefix = "rws:rl:test:";
    o.limits.max_requests = 5;
    o.limits.window = std::chrono::seconds(10);
    return o;
  }
  RedisRateLimitOptions options() {
    return options("redis://127.0.0.1:" + std::to_string(redis.port()));
  }

  // Sends `count` GET /x in turn through one App, on the fake's io_context.
  std::vector<TestResponse> run(RedisRateLimitOptions o, int count = 1) {
    App app;
    app.use(redis_rate_limit(std::move(o)));
    app.get("/x", [this](http::Request&, Context&) -> asio::awaitable<http::Response> {
      ++calls;
      co_return text("backend\n");
    });
    std::vector<TestResponse> out;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < count; ++i) {
            http::RequestContext connection{"192.0.2.7", 40000, false, 1, 1, nullptr, nullptr, {}};
            http::Request request;
            request.head.method = "GET";
            request.head.target = request.head.path = "/x";
            http::Response response = co_await app.handle(std::move(request), connection);
            TestResponse t;
            t.status = response.head.status;
            t.headers = response.head.headers;
            Result<std::string> body = co_await response.body.read_all(1 << 20);
            if (!body) throw std::runtime_error("response body: " + body.error().describe());
            t.body = std::move(*body);
            out.push_back(std::move(t));
          }
          redis.stop();
        },
        [&](std::exception_ptr e) {
          failure = e;
          redis.stop();
        });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return out;
  }

  asio::io_context io;
  FakeRedis redis;
  int calls = 0;
};

std::string decision(int allowed, int remaining, std::int64_t reset_us, std::int64_t retry_us) {
  return "*4\r\n:" + std::to_string(allowed) + "\r\n:" + std::to_string(remaining) +
         "\r\n:" + std::to_string(reset_us) + "\r\n:" + std::to_string(retry_us) + "\r\n";
}

TEST(RedisRateLimit, SendsTheScriptBySha_FallsBackToEvalOnNoscript_AndAppliesTheDecision) {
  Fixture f;
  f.redis.answer = [](const Command& c) -> std::string {
    if (c[0] == "EVALSHA") return "-NOSCRIPT No matching script. Please use EVAL.\r\n";
    return decision(1, 4, 2'000'001, 0);
  };
  std::vector<TestResponse> r = f.run(f.options());
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[0].body, "backend\n");
  EXPECT_EQ(r[0].headers.get("RateLimit-Limit"), "5");
  EXPECT_EQ(r[0].headers.get("RateLimit-Remaining"), "4");
  EXPECT_EQ(r[0].headers.get("RateLimit-Reset"), "3");  // 2.000001 s, rounded up
  EXPECT_EQ(f.calls, 1);

  ASSERT_EQ(f.redis.commands.size(), 2u);
  const Command& by_sha = f.redis.commands[0];
  const Command& eval = f.redis.commands[1];
  ASSERT_EQ(by_sha.size(), 8u);
  EXPECT_EQ(by_sha[0], "EVALSHA");
  EXPECT_EQ(by_sha[1].size(), 40u);
  EXPECT_EQ(by_sha[2], "1");
  EXPECT_EQ(by_sha[3], "rws:rl:test:tb:a192.0.2.7");
  EXPECT_EQ((Command{by_sha.begin() + 4, by_sha.end()}), (Command{"tb", "5", "10000000", "0"}));
  ASSERT_EQ(eval.size(), 8u);
  EXPECT_EQ(eval[0], "EVAL");
  EXPECT_NE(eval[1].find("redis.call('TIME')"), std::string::npos);
  EXPECT_EQ((Command{eval.begin() + 2, eval.end()}), (Command{by_sha.begin() + 2, by_sha.end()}));
}

TEST(RedisRateLimit, RefusedDecisionIs429WithRetryAfter_AndOneConnectionServesAll) {
  Fixture f;
  int n = 0;
  f.redis.answer = [&n](const Command&) {
    return ++n <= 2 ? decision(1, 2 - n, 1'000'000, 0) : decision(0, 0, 4'000'000, 1'500'000);
  };
  RedisRateLimitOptions o = f.options();
  o.limits.algorithm = RateLimitAlgorithm::kSlidingWindow;
  std::vector<TestResponse> r = f.run(std::move(o), 3);
  ASSERT_EQ(r.size(), 3u);
  EXPECT_EQ(r[0].status, 200);
  EXPECT_EQ(r[1].status, 200);
  EXPECT_EQ(r[2].status, 429);
  EXPECT_EQ(r[2].headers.get("Retry-After"), "2");
  EXPECT_EQ(r[2].headers.get("RateLimit-Remaining"), "0");
  EXPECT_EQ(r[2].headers.get("RateLimit-Reset"), "4");
  EXPECT_EQ(f.calls, 2);
  EXPECT_EQ(f.redis.connections, 1);
  ASSERT_EQ(f.redis.commands.size(), 3u);
  EXPECT_EQ(f.redis.commands[2][3], "rws:rl:test:sw:a192.0.2.7");
  EXPECT_EQ(f.redis.commands[2][4], "sw");
}

TEST(RedisRateLimit, ConcurrentRequestsArePipelinedOnOneConnectionAndGetTheirOwnReplies) {
  Fixture f;
  // Clients whose address ends in an odd digit are refused: each reply is tied to its request.
  f.redis.answer = [](const Command& c) {
    const char last = c[3].back();
    return (last - '0') % 2 == 1 ? decision(0, 0, 9'000'000, 3'000'000)
                                 : decision(1, last - '0', 9'000'000, 0);
  };
  App app;
  app.use(redis_rate_limit(f.options()));
  app.get("/x", [&f](http::Request&, Context&) -> asio::awaitable<http::Response> {
    ++f.calls;
    co_return text("backend\n");
  });
  constexpr int kClients = 6;
  std::vector<int> statuses(kClients, 0);
  std::vector<std::string> remaining(kClients);
  int finished = 0;
  for (int i = 0; i < kClients; ++i) {
    asio::co_spawn(
        f.io,
        [&, i]() -> asio::awaitable<void> {
          const std::string address = "10.0.0." + std::to_string(i);
          http::RequestContext connection{address, 40000, false, 1, 1, nullptr, nullptr, {}};
          http::Request request;
          request.head.method = "GET";
          request.head.target = request.head.path = "/x";
          http::Response response = co_await app.handle(std::move(request), connection);
          statuses[i] = response.head.status;
          remaining[i] = std::string(response.head.headers.get("RateLimit-Remaining"));
          if (++finished == kClients) f.redis.stop();
        },
        asio::detached);
  }
  f.io.run();
  for (int i = 0; i < kClients; ++i) {
    EXPECT_EQ(statuses[i], i % 2 == 1 ? 429 : 200) << i;
    EXPECT_EQ(remaining[i], i % 2 == 1 ? "0" : std::to_string(i)) << i;
  }
  EXPECT_EQ(f.calls, kClients / 2);
  EXPECT_EQ(f.redis.connections, 1);
  EXPECT_EQ(f.redis.commands.size(), static_cast<std::size_t>(kClients));
}

TEST(RedisRateLimit, AuthAndSelectGoFirst_ARefusedAuthIs503) {
  Fixture f;
  f.redis.answer = [](const Command& c) -> std::string {
    if (c[0] == "AUTH") return "-WRONGPASS invalid username-password pair\r\n";
    return "+OK\r\n";
  };
  std::vector<TestResponse> r =
      f.run(f.options("redis://app:pw@127.0.0.1:" + std::to_string(f.redis.port()) + "/3"));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].status, 503);
  EXPECT_NE(r[0].body.find("refused AUTH: WRONGPASS"), std::string::npos) << r[0].body;
  EXPECT_EQ(r[0].body.find("pw"), std::string::npos) << r[0].body;
  EXPECT_EQ(f.calls, 0);
  ASSERT_GE(f.redis.commands.size(), 2u);
  EXPECT_EQ(f.redis.commands[0], (Command{"AUTH", "app", "pw"}));
  EXPECT_EQ(f.redis.commands[1], (Command{"SELECT", "3"}));
}

TEST(RedisRateLimit, ErrorReplyIs503NamingIt) {
  Fixture f;
  f.redis.answer = [](const Command&) -> std::string { return "-OOM command not allowed\r\n"; };
  std::vector<TestResponse> r = f.run(f.options());
  EXPECT_EQ(r[0].status, 503);
  EXPECT_NE(r[0].body.find("Redis answered with an error: OOM command not allowed"),
            std::string::npos)
      << r[0].body;
  EXPECT_EQ(f.calls, 0);
}

TEST(RedisRateLimit, UnexpectedReplyIs503) {
  Fixture f;
  f.redis.answer = [](const Command&) -> std::string { return ":1\r\n"; };
  std::vector<TestResponse> r = f.run(f.options());
  EXPECT_EQ(r[0].status, 503);
  EXPECT_NE(r[0].body.find("unexpected reply"), std::string::npos) << r[0].body;
  EXPECT_EQ(f.calls, 0);
}

TEST(RedisRateLimit, NoAnswerWithinTheTimeoutIs503_ThenItReconnects) {
  Fixture f;
  int n = 0;
  f.redis.answer = [&n](const Command&) -> std::string {
    return ++n == 1 ? "" : decision(1, 4, 1'000'000, 0);
  };
  std::vector<TestResponse> r = f.run(f.options(), 2);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].status, 503);
  EXPECT_NE(r[0].body.find("did not answer within 300 ms"), std::string::npos) << r[0].body;
  EXPECT_EQ(r[1].status, 200);
  EXPECT_EQ(f.redis.connections, 2);
  EXPECT_EQ(f.calls, 1);
}

TEST(RedisRateLimit, UnreachableRedisIs503) {
  Fixture f;
  // A port that was just free: nothing listens there.
  std::uint16_t closed = 0;
  {
    tcp::acceptor probe(f.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = probe.local_endpoint().port();
  }
  f.redis.answer = [](const Command&) { return std::string(); };
  std::vector<TestResponse> r = f.run(f.options("redis://127.0.0.1:" + std::to_string(closed)));
  EXPECT_EQ(r[0].status, 503);
  EXPECT_NE(r[0].body.find("cannot connect to Redis at 127.0.0.1:" + std::to_string(closed)),
            std::string::npos)
      << r[0].body;
  EXPECT_EQ(f.calls, 0);
}

TEST(RedisRateLimit, MalformedReplyIs503) {
  Fixture f;
  f.redis.answer = [](const Command&) -> std::string { return "!garbage\r\n"; };
  std::vector<TestResponse> r = f.run(f.options());
  EXPECT_EQ(r[0].status, 503);
  EXPECT_NE(r[0].body.find("sent a malformed reply"), std::string::npos) << r[0].body;
}

TEST(RedisRateLimit, RefusesLimitsItCannotKeep) {
  Fixture f;
  RedisRateLimitOptions o = f.options();
  o.limits.max_requests = 0;
  EXPECT_THROW(redis_rate_limit(o), std::invalid_argument);
  o = f.options();
  o.limits.algorithm = RateLimitAlgorithm::kSlidingWindow;
  o.limits.burst = 1;
  EXPECT_THROW(redis_rate_limit(o), std::invalid_argument);
  o = f.options();
  o.timeout = std::chrono::milliseconds(0);
  EXPECT_THROW(redis_rate_limit(o), std::invalid_argument);
}

}  // namespace
}  // namespace rws::middleware
