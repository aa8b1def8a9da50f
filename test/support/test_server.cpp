// rws-test-server: the rws server library with handlers that exercise request bodies and
// streamed responses, for integration tests of behaviour the static file mode cannot reach
// (100-continue, chunked uploads, streamed and failing response bodies, slow handlers).
//
//   rws-test-server [--ip IP] [--port N] [--threads N] [--max-body-size N]
//                   [--header-timeout-ms N] [--body-timeout-ms N] [--idle-timeout-ms N]
//                   [--shutdown-timeout-ms N] [--tls-cert-file PEM --tls-key-file PEM]
//
// With a certificate it serves HTTPS (HTTP/1.1 and HTTP/2 by ALPN) and HTTP/3 on the same port.
//
// Routes:
//   /echo            reads the whole body; answers with it, plus X-Body-Length and any request
//                    trailers as X-Trailer-<name> response fields
//   /reject          answers 413 without reading the body
//   /stream?n=N      N chunks of "chunk i\n", streamed with no Content-Length
//   /stream-fail     two chunks, then the body fails (the client must see a truncated body)
//   /slow?ms=N       answers "done" after N ms
//   /throw           the handler throws (→ 500)
//   anything else    404

#include <charconv>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/server/server.hpp>

#include "core/log.hpp"

namespace {

using namespace rws;

std::uint64_t query_number(std::string_view query, std::string_view name, std::uint64_t fallback) {
  std::string key = std::string(name) + "=";
  std::size_t at = query.find(key);
  if (at == std::string_view::npos) return fallback;
  std::uint64_t value = fallback;
  std::string_view digits = query.substr(at + key.size());
  std::from_chars(digits.data(), digits.data() + digits.size(), value);
  return value;
}

class ChunkSource final : public http::BodySource {
 public:
  ChunkSource(std::uint64_t count, bool fail_after_two) : count_(count), fail_(fail_after_two) {}
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t) override {
    if (fail_ && sent_ == 2) co_return fail(Errc::kClosed, ErrorSide::kInternal, "test failure");
    if (sent_ == count_) co_return http::BodyFrame::end();
    current_ = "chunk " + std::to_string(sent_++) + "\n";
    co_return http::BodyFrame::bytes(current_);
  }

 private:
  std::uint64_t count_;
  bool fail_;
  std::uint64_t sent_ = 0;
  std::string current_;
};

class TestService final : public http::Service {
 public:
  asio::awaitable<http::Response> handle(http::Request request, http::RequestContext&) override {
    const std::string& path = request.head.path;
    if (path == "/echo") {
      auto source = std::move(request.body).into_source();
      std::string body;
      http::Headers trailers;
      for (;;) {
        Result<http::BodyFrame> frame = co_await source->next(16 * 1024);
        if (!frame) co_return http::Response::text(400, frame.error().describe() + "\n");
        if (frame->kind == http::BodyFrame::Kind::kEnd) break;
        if (frame->kind == http::BodyFrame::Kind::kTrailers) trailers = frame->trailers;
        body.append(frame->data);
      }
      http::Response r = http::Response::text(200, body, "application/octet-stream");
      r.head.headers.add("X-Body-Length", std::to_string(body.size()));
      for (const http::Field& f : trailers)
        r.head.headers.add("X-Trailer-" + f.name, f.value);
      co_return r;
    }
    if (path == "/reject") co_return http::Response::text(413, "too large\n");
    if (path == "/stream" || path == "/stream-fail") {
      http::Response r;
      r.head.headers.add("Content-Type", "text/plain");
      r.body = http::Body::from_stream(std::make_unique<ChunkSource>(
          query_number(request.head.query, "n", 3), path == "/stream-fail"));
      co_return r;
    }
    if (path == "/slow") {
      asio::steady_timer timer(co_await asio::this_coro::executor);
      timer.expires_after(std::chrono::milliseconds(query_number(request.head.query, "ms", 1000)));
      co_await timer.async_wait(asio::use_awaitable);
      co_return http::Response::text(200, "done\n");
    }
    if (path == "/throw") throw std::runtime_error("handler failure for testing");
    co_return http::Response::text(404, "Not Found\n");
  }
};

}  // namespace

int main(int argc, char** argv) {
  server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = 0;
  options.thread_count = 1;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string_view flag = argv[i];
    long long value = std::atoll(argv[i + 1]);
    if (flag == "--ip") {
      options.ip = argv[i + 1];
    } else if (flag == "--port") {
      options.port = static_cast<std::uint16_t>(value);
    } else if (flag == "--threads") {
      options.thread_count = static_cast<unsigned>(value);
    } else if (flag == "--max-body-size") {
      options.max_body_size = static_cast<std::uint64_t>(value);
    } else if (flag == "--header-timeout-ms") {
      options.header_timeout = std::chrono::milliseconds(value);
    } else if (flag == "--body-timeout-ms") {
      options.body_timeout = std::chrono::milliseconds(value);
    } else if (flag == "--idle-timeout-ms") {
      options.idle_timeout = std::chrono::milliseconds(value);
    } else if (flag == "--shutdown-timeout-ms") {
      options.shutdown_timeout = std::chrono::milliseconds(value);
    } else if (flag == "--tls-cert-file") {
      options.tls.cert_file = argv[i + 1];
    } else if (flag == "--tls-key-file") {
      options.tls.key_file = argv[i + 1];
    } else {
      std::fprintf(stderr, "rws-test-server: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  log::init("info");
  try {
    server::Server server(options, std::make_shared<TestService>());
    server.listen();
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rws-test-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
