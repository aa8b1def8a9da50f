#include <gtest/gtest.h>

#include <chrono>
#include <exception>
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
#include <rws/http/headers.hpp>
#include <rws/middleware/forward_auth.hpp>

#include "proxy/upstream_connection.hpp"

namespace rws::middleware {
namespace {

using asio::ip::tcp;
using std::chrono::milliseconds;
constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

// An HTTP auth service on 127.0.0.1, in the test's io_context: it records each request head and
// answers `reply` (raw bytes); then, with `close_after_reply`, it closes the connection, else it
// waits for the next request on it. With an empty `reply` it keeps the connection open without
// answering. `accepted` counts connections.
class AuthService {
 public:
  explicit AuthService(asio::io_context& io)
      : acceptor_(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    asio::co_spawn(io, serve(), asio::detached);
  }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
  void stop() {
    acceptor_.close();
    for (auto& s : sockets_)
      s->close();
  }

  std::string reply;
  bool close_after_reply = true;
  std::vector<std::string> heads;
  int accepted = 0;

 private:
  asio::awaitable<void> serve() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(kTuple);
      if (ec) co_return;
      ++accepted;
      sockets_.push_back(std::make_shared<tcp::socket>(std::move(socket)));
      asio::co_spawn(acceptor_.get_executor(), answer(sockets_.back()), asio::detached);
    }
  }

  asio::awaitable<void> answer(std::shared_ptr<tcp::socket> socket) {
    std::string input;
    char buf[4096];
    for (;;) {
      std::size_t end = input.find("\r\n\r\n");
      while (end == std::string::npos) {
        auto [e, n] = co_await socket->async_read_some(asio::buffer(buf), kTuple);
        if (e) co_return;
        input.append(buf, n);
        end = input.find("\r\n\r\n");
      }
      heads.push_back(input.substr(0, end + 4));
      input.erase(0, end + 4);
      if (reply.empty()) continue;  // never answers
      auto [we, written] = co_await asio::async_write(*socket, asio::buffer(reply), kTuple);
      if (we || close_after_reply) {
        socket->close();
        co_return;
      }
    }
  }

  tcp::acceptor acceptor_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
};

// An App with forward_auth in front of GET /x, whose handler records the request's fields.
struct Fixture {
  Fixture() : service(io) {}
  // Pooled auth connections belong to `io`: they go before it does.
  ~Fixture() { proxy::ConnectionPool::local().clear(); }

  ForwardAuthOptions options(std::vector<tcp::endpoint> endpoints) {
    ForwardAuthOptions o;
    o.endpoints = std::move(endpoints);
    o.host = "auth.test";
    o.target = "/check?v=1";
    o.copy_headers = {"X-User", "X-Role"};
    o.timeout = milliseconds(2000);
    o.max_idle = max_idle;
    return o;
  }

  // Sends `request` through an App using `o`, on the service's io_context.
  TestResponse run(ForwardAuthOptions o, http::Request request) {
    App app;
    app.use(forward_auth(std::move(o)));
    app.get("/x", [this](http::Request& r, Context&) -> asio::awaitable<http::Response> {
      ++calls;
      seen = r.head.headers;
      co_return text("backend\n");
    });
    http::RequestContext connection{"192.0.2.7", 40000, false, 1, 1, nullptr, nullptr, {}};
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
          service.stop();
        },
        [&](std::exception_ptr e) {
          failure = e;
          service.stop();
        });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return out;
  }
  TestResponse run(http::Request request) {
    return run(options({service.endpoint()}), std::move(request));
  }

  // The statuses of `n` checks made one after the other through one middleware instance.
  std::vector<int> run_sequence(int n) {
    App app;
    app.use(forward_auth(options({service.endpoint()})));
    app.get("/x", [](http::Request&, Context&) -> asio::awaitable<http::Response> {
      co_return text("backend\n");
    });
    http::RequestContext connection{"192.0.2.7", 40000, false, 1, 1, nullptr, nullptr, {}};
    std::vector<int> statuses;
    std::exception_ptr failure;
    asio::co_spawn(
        io,
        [&]() -> asio::awaitable<void> {
          for (int i = 0; i < n; ++i) {
            http::Request request;
            request.head.method = "GET";
            request.head.target = request.head.path = "/x";
            http::Response response = co_await app.handle(std::move(request), connection);
            statuses.push_back(response.head.status);
          }
          service.stop();
        },
        [&](std::exception_ptr e) {
          failure = e;
          service.stop();
        });
    io.run();
    if (failure) std::rethrow_exception(failure);
    return statuses;
  }

  asio::io_context io;
  AuthService service;
  int calls = 0;
  http::Headers seen;
  unsigned max_idle = 16;
};

http::Request get(std::string target) {
  http::Request request;
  request.head.method = "GET";
  request.head.target = target;
  const std::size_t q = target.find('?');
  request.head.path = target.substr(0, q);
  if (q != std::string::npos) request.head.query = target.substr(q + 1);
  request.head.authority = "www.example";
  request.head.scheme = "http";
  request.head.headers.add("Host", "www.example");
  return request;
}

TEST(ForwardAuth, SuccessContinuesWithCopiedFieldsAndSpoofsRemoved) {
  Fixture f;
  f.service.reply =
      "HTTP/1.1 200 OK\r\nX-User: alice\r\nX-Other: no\r\nContent-Length: 2\r\n\r\nok";
  http::Request request = get("/x?a=1");
  request.head.headers.add("Authorization", "Bearer t");
  request.head.headers.add("X-User", "mallory");  // spoofed: replaced by the service's
  request.head.headers.add("X-Role", "admin");    // spoofed: removed (the service sent none)
  request.head.headers.add("X-Forwarded-Uri", "/forged");
  request.head.headers.add("Content-Length", "0");
  request.head.headers.add("Connection", "keep-alive, X-Hop");
  request.head.headers.add("X-Hop", "1");
  TestResponse r = f.run(std::move(request));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "backend\n");
  EXPECT_EQ(f.calls, 1);
  EXPECT_EQ(f.seen.joined("X-User"), "alice");
  EXPECT_FALSE(f.seen.contains("X-Role"));
  EXPECT_FALSE(f.seen.contains("X-Other"));

  ASSERT_EQ(f.service.heads.size(), 1u);
  const std::string& head = f.service.heads[0];
  EXPECT_EQ(head.rfind("GET /check?v=1 HTTP/1.1\r\nHost: auth.test\r\n", 0), 0u) << head;
  for (const char* expected :
       {"\r\nAuthorization: Bearer t\r\n", "\r\nX-Forwarded-Method: GET\r\n",
        "\r\nX-Forwarded-Proto: http\r\n", "\r\nX-Forwarded-Host: www.example\r\n",
        "\r\nX-Forwarded-Uri: /x?a=1\r\n", "\r\nX-Forwarded-For: 192.0.2.7\r\n"}) {
    EXPECT_NE(head.find(expected), std::string::npos) << expected << " in\n" << head;
  }
  for (const char* absent :
       {"/forged", "Content-Length", "X-Hop", "mallory", "www.example\r\nHost", "Connection"}) {
    EXPECT_EQ(head.find(absent), std::string::npos) << absent << " in\n" << head;
  }
}

TEST(ForwardAuth, RefusalIsReturnedAsIsWithItsBody) {
  for (int status : {401, 403}) {
    Fixture f;
    f.service.reply = "HTTP/1.1 " + std::to_string(status) +
                      " No\r\nWWW-Authenticate: Bearer\r\nContent-Type: text/plain\r\n"
                      "Transfer-Encoding: chunked\r\nX-Why: expired\r\n\r\n"
                      "5\r\ndenie\r\n1\r\nd\r\n0\r\n\r\n";
    TestResponse r = f.run(get("/x"));
    EXPECT_EQ(r.status, status);
    EXPECT_EQ(r.body, "denied");
    EXPECT_EQ(r.headers.get("WWW-Authenticate"), "Bearer");
    EXPECT_EQ(r.headers.get("X-Why"), "expired");
    EXPECT_FALSE(r.headers.contains("Transfer-Encoding"));
    EXPECT_EQ(f.calls, 0);
  }
}

TEST(ForwardAuth, RedirectIsReturnedWithItsLocation) {
  Fixture f;
  f.service.reply =
      "HTTP/1.1 302 Found\r\nLocation: https://login.example/?next=%2Fx\r\nConnection: "
      "close\r\n\r\n";
  TestResponse r = f.run(get("/x"));
  EXPECT_EQ(r.status, 302);
  EXPECT_EQ(r.headers.get("Location"), "https://login.example/?next=%2Fx");
  EXPECT_FALSE(r.headers.contains("Connection"));
  EXPECT_EQ(r.body, "");
  EXPECT_EQ(f.calls, 0);
}

TEST(ForwardAuth, UnreachableServiceIs502) {
  Fixture f;
  // A port that was just free: bound, its number taken, closed.
  tcp::endpoint closed;
  {
    tcp::acceptor a(f.io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    closed = a.local_endpoint();
  }
  TestResponse r = f.run(f.options({closed}), get("/x"));
  EXPECT_EQ(r.status, 502);
  EXPECT_EQ(r.body, "Bad Gateway: the auth service is unreachable\n");
  EXPECT_EQ(f.calls, 0);
}

TEST(ForwardAuth, SilentServiceIs504AfterTheTimeout) {
  Fixture f;  // empty reply: the service reads the request and never answers
  ForwardAuthOptions o = f.options({f.service.endpoint()});
  o.timeout = milliseconds(200);
  const auto start = std::chrono::steady_clock::now();
  TestResponse r = f.run(std::move(o), get("/x"));
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(r.status, 504);
  EXPECT_EQ(r.body, "Gateway Timeout: the auth service did not answer within 200 ms\n");
  EXPECT_GE(took, milliseconds(200));
  EXPECT_LT(took, milliseconds(1500));
  EXPECT_EQ(f.service.heads.size(), 1u);
  EXPECT_EQ(f.calls, 0);
}

TEST(ForwardAuth, MalformedOrOversizedResponseIs502) {
  for (std::string reply :
       {std::string("NOT HTTP\r\n\r\n"),
        std::string("HTTP/1.1 401 No\r\nContent-Length: 10\r\n\r\nshort"),
        "HTTP/1.1 401 No\r\nContent-Length: " + std::to_string(kMaxAuthBody + 1) + "\r\n\r\n"}) {
    Fixture f;
    f.service.reply = reply;
    TestResponse r = f.run(get("/x"));
    EXPECT_EQ(r.status, 502) << reply;
    EXPECT_EQ(f.calls, 0);
  }
}

TEST(ForwardAuth, SequentialChecksShareOneConnection) {
  Fixture f;
  f.service.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  f.service.close_after_reply = false;
  EXPECT_EQ(f.run_sequence(10), std::vector<int>(10, 200));
  EXPECT_EQ(f.service.heads.size(), 10u);
  EXPECT_EQ(f.service.accepted, 1);
}

TEST(ForwardAuth, ChunkedAndRefusalResponsesKeepTheConnection) {
  Fixture f;
  f.service.reply = "HTTP/1.1 401 No\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nno\r\n0\r\n\r\n";
  f.service.close_after_reply = false;
  EXPECT_EQ(f.run_sequence(3), std::vector<int>(3, 401));
  EXPECT_EQ(f.service.accepted, 1);
}

TEST(ForwardAuth, PooledConnectionClosedByTheServiceIsRetriedOnANewOne) {
  Fixture f;
  // Keep-alive by the response's terms, but the service closes after each answer: every check
  // after the first finds its pooled connection closed and goes out again on a new one.
  f.service.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  f.service.close_after_reply = true;
  EXPECT_EQ(f.run_sequence(3), std::vector<int>(3, 200));
  EXPECT_EQ(f.service.heads.size(), 3u);
  EXPECT_EQ(f.service.accepted, 3);
}

TEST(ForwardAuth, ConnectionCloseFromTheServiceIsHonoured) {
  Fixture f;
  // The service says close but keeps the connection open: reusing it would be wrong.
  f.service.reply = "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok";
  f.service.close_after_reply = false;
  EXPECT_EQ(f.run_sequence(3), std::vector<int>(3, 200));
  EXPECT_EQ(f.service.accepted, 3);
}

TEST(ForwardAuth, NoIdleConnectionsWithMaxIdleZero) {
  Fixture f;
  f.service.reply = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  f.service.close_after_reply = false;
  f.max_idle = 0;
  EXPECT_EQ(f.run_sequence(2), std::vector<int>(2, 200));
  EXPECT_EQ(f.service.accepted, 2);
}

}  // namespace
}  // namespace rws::middleware
