#include "app/static/static_files.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

namespace rws::app {
namespace {

namespace fs = std::filesystem;

// Runs a coroutine to completion on a private io_context.
template <class F>
auto run(F f) {
  asio::io_context io;
  using R = typename decltype(f())::value_type;
  R result{};
  asio::co_spawn(
      io, [&]() -> asio::awaitable<void> { result = co_await f(); }, asio::detached);
  io.run();
  return result;
}

class StaticFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("rws-static-test-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    outside_ = root_.string() + "-outside";
    fs::create_directories(root_ / "sub");
    fs::create_directories(root_ / "docs");
    fs::create_directories(root_ / ".git");
    fs::create_directories(outside_);
    write("hello.txt", "hello world\n");
    write("sub/index.html", "<h1>sub</h1>");
    write("about.html", "about");
    write("app.js", "plain");
    write("app.js.gz", "gzipped");
    write("app.js.br", "brotli");
    write(".git/config", "secret");
    write("digits.txt", "0123456789");
    std::ofstream(outside_ / "secret.txt") << "outside";
    fs::create_symlink(outside_ / "secret.txt", root_ / "escape.txt");
    fs::create_symlink("hello.txt", root_ / "alias.txt");
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove_all(outside_);
  }
  void write(const std::string& name, const std::string& text) {
    std::ofstream(root_ / name) << text;
  }

  StaticFiles make(StaticOptions options = {}) {
    options.root = root_.string();
    return StaticFiles(std::move(options));
  }

  http::Response get(StaticFiles& files, std::string path, http::Headers headers = {},
                     std::string method = "GET") {
    http::Request request;
    request.head.method = std::move(method);
    std::size_t q = path.find('?');
    request.head.path = path.substr(0, q);
    if (q != std::string::npos) request.head.query = path.substr(q + 1);
    request.head.target = path;
    request.head.headers = std::move(headers);
    return run([&]() -> asio::awaitable<http::Response> {
      http::RequestContext context;
      co_return co_await files.handle(std::move(request), context);
    });
  }

  static std::string body(http::Response& r) {
    return run([&]() -> asio::awaitable<std::string> {
      Result<std::string> all = co_await r.body.read_all(1 << 20);
      co_return all ? *all : std::string("<error>");
    });
  }

  fs::path root_;
  fs::path outside_;
};

TEST_F(StaticFilesTest, ServesFilesWithValidators) {
  StaticFiles files = make();
  http::Response r = get(files, "/hello.txt");
  EXPECT_EQ(r.head.status, 200);
  EXPECT_EQ(r.head.headers.get("content-type"), "text/plain; charset=utf-8");
  EXPECT_EQ(r.head.headers.get("accept-ranges"), "bytes");
  EXPECT_FALSE(r.head.headers.get("last-modified").empty());
  std::string etag(r.head.headers.get("etag"));
  ASSERT_GE(etag.size(), 3u);
  EXPECT_EQ(etag.front(), '"');
  EXPECT_EQ(body(r), "hello world\n");

  http::Headers conditional;
  conditional.add("If-None-Match", etag);
  http::Response again = get(files, "/hello.txt", conditional);
  EXPECT_EQ(again.head.status, 304);
  EXPECT_TRUE(again.body.is_empty());
}

TEST_F(StaticFilesTest, DirectoriesIndexAndRedirect) {
  StaticFiles files = make();
  http::Response redirect = get(files, "/sub?x=1");
  EXPECT_EQ(redirect.head.status, 301);
  EXPECT_EQ(redirect.head.headers.get("location"), "/sub/?x=1");
  http::Response index = get(files, "/sub/");
  EXPECT_EQ(index.head.status, 200);
  EXPECT_EQ(index.head.headers.get("content-type"), "text/html; charset=utf-8");
  EXPECT_EQ(body(index), "<h1>sub</h1>");
  http::Response listing = get(files, "/docs/");
  EXPECT_EQ(listing.head.status, 200);
  EXPECT_NE(body(listing).find("Index of /docs/"), std::string::npos);

  StaticOptions no_listing;
  no_listing.directory_listing = false;
  StaticFiles closed = make(no_listing);
  EXPECT_EQ(get(closed, "/docs/").head.status, 403);
}

TEST_F(StaticFilesTest, ExtensionlessHtmlFallback) {
  StaticFiles files = make();
  http::Response r = get(files, "/about");
  EXPECT_EQ(r.head.status, 200);
  EXPECT_EQ(body(r), "about");
  EXPECT_EQ(get(files, "/about.txt").head.status, 404);
  EXPECT_EQ(get(files, "/hello.txt/").head.status, 404);
}

TEST_F(StaticFilesTest, RefusesWhatLeavesTheRoot) {
  StaticFiles files = make();
  EXPECT_EQ(get(files, "/../etc/passwd").head.status, 400);
  EXPECT_EQ(get(files, "/%2e%2e/%2e%2e/etc/passwd").head.status, 400);
  EXPECT_EQ(get(files, "/..%5c..%5cetc/passwd").head.status, 400);
  EXPECT_EQ(get(files, "/hello.txt%00.png").head.status, 400);
  http::Response escape = get(files, "/escape.txt");
  EXPECT_EQ(escape.head.status, 403);
  EXPECT_EQ(body(escape).find("outside"), std::string::npos);
  EXPECT_EQ(get(files, "/alias.txt").head.status, 200);
  EXPECT_EQ(get(files, "/.git/config").head.status, 404);
  EXPECT_EQ(get(files, "/sub/../hello.txt").head.status, 200);
}

TEST_F(StaticFilesTest, MethodsOtherThanGetAndHead) {
  StaticFiles files = make();
  http::Response post = get(files, "/hello.txt", {}, "POST");
  EXPECT_EQ(post.head.status, 405);
  EXPECT_EQ(post.head.headers.get("allow"), "GET, HEAD, OPTIONS");
  http::Response options = get(files, "/hello.txt", {}, "OPTIONS");
  EXPECT_EQ(options.head.status, 204);
  EXPECT_EQ(options.head.headers.get("allow"), "GET, HEAD, OPTIONS");
}

TEST_F(StaticFilesTest, RangesSingleMultiAndUnsatisfiable) {
  StaticFiles files = make();
  http::Headers single;
  single.add("Range", "bytes=2-4");
  http::Response r = get(files, "/digits.txt", single);
  EXPECT_EQ(r.head.status, 206);
  EXPECT_EQ(r.head.headers.get("content-range"), "bytes 2-4/10");
  EXPECT_EQ(body(r), "234");

  http::Headers multi;
  multi.add("Range", "bytes=0-0,-2");
  http::Response m = get(files, "/digits.txt", multi);
  EXPECT_EQ(m.head.status, 206);
  std::string type(m.head.headers.get("content-type"));
  ASSERT_EQ(type.rfind("multipart/byteranges; boundary=", 0), 0u);
  std::string boundary = type.substr(type.find('=') + 1);
  std::string expected = "--" + boundary +
                         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes "
                         "0-0/10\r\n\r\n0\r\n--" +
                         boundary +
                         "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Range: bytes "
                         "8-9/10\r\n\r\n89\r\n--" +
                         boundary + "--\r\n";
  EXPECT_EQ(m.body.size(), expected.size());
  EXPECT_EQ(body(m), expected);

  http::Headers beyond;
  beyond.add("Range", "bytes=10-");
  http::Response u = get(files, "/digits.txt", beyond);
  EXPECT_EQ(u.head.status, 416);
  EXPECT_EQ(u.head.headers.get("content-range"), "bytes */10");

  http::Headers stale;
  stale.add("Range", "bytes=2-4");
  stale.add("If-Range", "\"old\"");
  EXPECT_EQ(get(files, "/digits.txt", stale).head.status, 200);
}

TEST_F(StaticFilesTest, PrecompressedSiblings) {
  StaticFiles files = make();
  http::Headers gzip;
  gzip.add("Accept-Encoding", "gzip");
  http::Response g = get(files, "/app.js", gzip);
  EXPECT_EQ(g.head.headers.get("content-encoding"), "gzip");
  EXPECT_EQ(g.head.headers.get("vary"), "Accept-Encoding");
  EXPECT_EQ(g.head.headers.get("content-type"), "text/javascript; charset=utf-8");
  EXPECT_EQ(body(g), "gzipped");

  http::Headers both;
  both.add("Accept-Encoding", "gzip, br");
  http::Response b = get(files, "/app.js", both);
  EXPECT_EQ(body(b), "brotli");

  http::Headers weighted;
  weighted.add("Accept-Encoding", "br;q=0.5, gzip;q=0.9");
  EXPECT_EQ(get(files, "/app.js", weighted).head.headers.get("content-encoding"), "gzip");

  http::Response plain = get(files, "/app.js");
  EXPECT_FALSE(plain.head.headers.contains("content-encoding"));
  EXPECT_EQ(body(plain), "plain");
}

TEST_F(StaticFilesTest, SpaFallbackAndNotFoundPage) {
  StaticOptions spa;
  spa.spa_fallback = "/about.html";
  spa.spa_fallback_exclude_prefixes = {"/api"};
  StaticFiles files = make(spa);
  http::Response route = get(files, "/app/route");
  EXPECT_EQ(route.head.status, 200);
  EXPECT_EQ(body(route), "about");
  EXPECT_EQ(get(files, "/api/users").head.status, 404);
  EXPECT_EQ(get(files, "/missing.png").head.status, 404);

  write("404.html", "custom not found");
  StaticFiles plain = make();
  http::Response missing = get(plain, "/nothing-here.txt");
  EXPECT_EQ(missing.head.status, 404);
  EXPECT_EQ(body(missing), "custom not found");
}

}  // namespace
}  // namespace rws::app
