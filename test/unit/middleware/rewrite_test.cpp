#include <gtest/gtest.h>

#include <exception>
#include <memory>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/http/body.hpp>
#include <rws/middleware/rewrite.hpp>

namespace rws::middleware {
namespace {

namespace rule = rewrite_rule;
using Strings = std::vector<std::string>;

// ----- running a chain ---------------------------------------------------------------------------

struct Outcome {
  http::RequestHead seen;  // the request head the handler received
  bool reached = false;
  int status = 0;
  std::string reason;
  http::Headers headers;
  std::optional<std::uint64_t> size;  // the response body's declared size
  std::string body;
};

// Runs `request` through rewrite(options) around `handler`, as the gateway does, and reads the
// response body.
Outcome run(
    RewriteOptions options, http::Request request,
    std::function<http::Response()> make_response = [] {
      return http::Response::text(200, "ok\n");
    }) {
  Outcome out;
  Chain chain;
  chain.middleware.push_back(rewrite(std::move(options)));
  chain.handler = [&](http::Request& r, Context&) -> asio::awaitable<http::Response> {
    out.seen = r.head;
    out.reached = true;
    co_return make_response();
  };
  asio::io_context io;
  http::RequestContext connection{"127.0.0.1", 40000, false, 1, 1, nullptr, nullptr, {}};
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        const TypeMap state;
        Context context(request, connection, state);
        Next next(chain, 0);
        http::Response response = co_await next(request, context);
        out.status = response.head.status;
        out.reason = response.head.reason;
        out.headers = response.head.headers;
        out.size = response.body.size();
        Result<std::string> body = co_await response.body.read_all(1 << 24);
        if (!body) throw std::runtime_error("response body: " + body.error().describe());
        out.body = std::move(*body);
      },
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

http::Request request_for(std::string path, std::string query = "") {
  http::Request r;
  r.head.method = "GET";
  r.head.path = std::move(path);
  r.head.query = std::move(query);
  r.head.target = r.head.query.empty() ? r.head.path : r.head.path + "?" + r.head.query;
  r.head.authority = "test";
  r.head.headers.add("Host", "test");
  return r;
}

Outcome run_request(std::vector<RequestRewriteRule> rules, http::Request request) {
  RewriteOptions o;
  o.request = std::move(rules);
  return run(std::move(o), std::move(request));
}

// The target the handler saw for `path?query` after `rules`.
std::string target_after(std::vector<RequestRewriteRule> rules, std::string path,
                         std::string query = "") {
  Outcome r = run_request(std::move(rules), request_for(std::move(path), std::move(query)));
  EXPECT_TRUE(r.reached) << r.status << " " << r.body;
  // path, query and target agree.
  EXPECT_EQ(r.seen.target, r.seen.query.empty() ? r.seen.path : r.seen.path + "?" + r.seen.query);
  return r.seen.target;
}

// ----- request headers ---------------------------------------------------------------------------

TEST(Rewrite, RequestHeaderRulesApplyInOrder) {
  http::Request request = request_for("/");
  request.head.headers.add("X-A", "1");
  request.head.headers.add("X-A", "2");
  request.head.headers.add("X-Secret", "s");
  Outcome r = run_request({rule::HeaderSet{"x-a", "set"}, rule::HeaderAdd{"X-A", "added"},
                           rule::HeaderRemove{"x-secret"}, rule::HeaderAdd{"X-New", "n"},
                           rule::HeaderRemove{"x-new"}, rule::HeaderSet{"X-Last", "l"}},
                          std::move(request));
  ASSERT_TRUE(r.reached);
  EXPECT_EQ(r.seen.headers.joined("x-a"), "set, added");
  EXPECT_FALSE(r.seen.headers.contains("x-secret"));
  EXPECT_FALSE(r.seen.headers.contains("x-new"));
  EXPECT_EQ(r.seen.headers.get("x-last"), "l");
  // Header rules alone leave the target as it came.
  EXPECT_EQ(r.seen.target, "/");
}

TEST(Rewrite, HeaderRulesLeaveTheTargetUntouched) {
  Outcome r = run_request({rule::HeaderSet{"X-A", "1"}}, request_for("/a/./b%2Fc", "q=1"));
  EXPECT_EQ(r.seen.path, "/a/./b%2Fc");  // no URI rule: not even normalized
  EXPECT_EQ(r.seen.target, "/a/./b%2Fc?q=1");
}

// ----- URI rules ---------------------------------------------------------------------------------

TEST(Rewrite, UriSetKeepsTheQueryUnlessItGivesOne) {
  EXPECT_EQ(target_after({rule::UriSet{"/new/place"}}, "/old", "a=1"), "/new/place?a=1");
  EXPECT_EQ(target_after({rule::UriSet{"/new?b=2"}}, "/old", "a=1"), "/new?b=2");
  EXPECT_EQ(target_after({rule::UriSet{"/new?"}}, "/old", "a=1"), "/new");
  EXPECT_EQ(target_after({rule::UriSet{"/new?b=2"}}, "/old"), "/new?b=2");
}

TEST(Rewrite, UriStripPrefixRemovesAWholeSegmentPrefix) {
  std::vector<RequestRewriteRule> strip{rule::UriStripPrefix{"/api"}};
  EXPECT_EQ(target_after(strip, "/api/users/7", "x=1"), "/users/7?x=1");
  EXPECT_EQ(target_after(strip, "/api"), "/");
  EXPECT_EQ(target_after(strip, "/api/"), "/");
  EXPECT_EQ(target_after(strip, "/apix/users"), "/apix/users");
  EXPECT_EQ(target_after(strip, "/v1/api/users"), "/v1/api/users");
  EXPECT_EQ(target_after({rule::UriStripPrefix{"/a/b"}}, "/a/b/c"), "/c");
}

TEST(Rewrite, UriAddPrefixPrepends) {
  EXPECT_EQ(target_after({rule::UriAddPrefix{"/v2"}}, "/users", "q"), "/v2/users?q");
  EXPECT_EQ(target_after({rule::UriAddPrefix{"/v2"}}, "/"), "/v2/");
  // In order: strip, then add.
  EXPECT_EQ(target_after({rule::UriStripPrefix{"/api"}, rule::UriAddPrefix{"/internal/v2"}},
                         "/api/users/7"),
            "/internal/v2/users/7");
}

TEST(Rewrite, UriRulesSeeThePathTheRouterMatched) {
  // Dot segments resolved, escapes decoded and re-encoded: "/./api" strips like "/api".
  EXPECT_EQ(target_after({rule::UriStripPrefix{"/api"}}, "/./api/../api/%7Euser/a%20b"),
            "/~user/a%20b");
  // A prefix written with escapes is compared in the same form.
  EXPECT_EQ(target_after({rule::UriStripPrefix{"/a%20b"}}, "/a b/c"), "/c");
}

TEST(Rewrite, UriRegexNumberedCaptures) {
  EXPECT_EQ(target_after({rule::UriRegex{"^/users/(\\d+)/posts/(\\d+)$", "/p/$2/by/$1"}},
                         "/users/7/posts/42", "full=1"),
            "/p/42/by/7?full=1");
  // ${N} separates a group number from following digits; $0 is the whole match.
  EXPECT_EQ(target_after({rule::UriRegex{"^/v(\\d)/(.*)$", "/v${1}0/$2"}}, "/v2/x"), "/v20/x");
  EXPECT_EQ(target_after({rule::UriRegex{"^/x.*$", "/wrapped$0"}}, "/x/y"), "/wrapped/x/y");
}

TEST(Rewrite, UriRegexNamedGroupsAndLiteralDollar) {
  EXPECT_EQ(target_after(
                {rule::UriRegex{"^/(?P<user>[a-z]+)/(?P<repo>[a-z]+)$", "/repos/${repo}/${user}"}},
                "/alice/tools"),
            "/repos/tools/alice");
  EXPECT_EQ(target_after({rule::UriRegex{"^/price/(\\d+)$", "/p/$$$1"}}, "/price/10"), "/p/$10");
}

TEST(Rewrite, UriRegexReplacesEveryMatchAndNothingWhenNoMatch) {
  EXPECT_EQ(target_after({rule::UriRegex{"_", "-"}}, "/a_b/c_d_e"), "/a-b/c-d-e");
  EXPECT_EQ(target_after({rule::UriRegex{"^/nomatch/(.*)$", "/x/$1"}}, "/other/y", "q=1"),
            "/other/y?q=1");
  // An optional group that did not take part is empty.
  EXPECT_EQ(target_after({rule::UriRegex{"^/a(/b)?/c$", "/z$1/end"}}, "/a/c"), "/z/end");
}

TEST(Rewrite, UriRegexQuestionMarkStartsANewQuery) {
  EXPECT_EQ(target_after({rule::UriRegex{"^/user/(\\d+)$", "/profile?id=$1"}}, "/user/5", "old=1"),
            "/profile?id=5");
}

TEST(Rewrite, UriRegexResultIsNormalized) {
  EXPECT_EQ(target_after({rule::UriRegex{"^/a/(.*)$", "/b/./$1//"}}, "/a/c"), "/b/c/");
}

TEST(Rewrite, UriRegexResultThatIsNotAPathIs500) {
  Outcome r = run_request({rule::UriRegex{"^/(.*)$", "$1"}}, request_for("/x"));
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.status, 500);
}

TEST(Rewrite, UriRegexResultThatEscapesTheRootIs400) {
  // The capture ".." comes from the request ("/x.." is a valid segment).
  Outcome r = run_request({rule::UriRegex{"^/x(.*)$", "/$1"}}, request_for("/x.."));
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.status, 400);
  // Half an escape captured and completed with a literal that is not hex.
  r = run_request({rule::UriRegex{"^/(%2)0$", "/$1x"}}, request_for("/%20"));
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.status, 400);
}

TEST(Rewrite, AnInvalidRequestPathIs400BeforeAnyUriRule) {
  Outcome r = run_request({rule::UriAddPrefix{"/v2"}}, request_for("/../etc"));
  EXPECT_FALSE(r.reached);
  EXPECT_EQ(r.status, 400);
}

TEST(Rewrite, AppLevelRewriteRoutesByTheNewPath) {
  App app;
  RewriteOptions o;
  o.request = {rule::UriRegex{"^/old/(.*)$", "/new/$1"}};
  app.use(rewrite(std::move(o)));
  app.get("/new/:name", [](Context& c) { return text("new " + std::string(c.param("name"))); });
  TestClient client(app);
  TestResponse r = client.get("/old/thing").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "new thing");
}

// ----- invalid rules -----------------------------------------------------------------------------

TEST(Rewrite, InvalidRulesThrow) {
  auto request = [](RequestRewriteRule r) {
    RewriteOptions o;
    o.request.push_back(std::move(r));
    return o;
  };
  auto response = [](ResponseRewriteRule r) {
    RewriteOptions o;
    o.response.push_back(std::move(r));
    return o;
  };
  for (RewriteOptions o : {
           request(rule::HeaderSet{"Host", "x"}),
           request(rule::HeaderSet{"Content-Length", "1"}),
           request(rule::HeaderAdd{"Transfer-Encoding", "chunked"}),
           request(rule::HeaderRemove{"connection"}),
           request(rule::HeaderSet{"bad name", "x"}),
           request(rule::HeaderSet{"X-A", "a\r\nb"}),
           request(rule::UriSet{"relative"}),
           request(rule::UriSet{"/a#frag"}),
           request(rule::UriSet{"/a b"}),
           request(rule::UriSet{"/../x"}),
           request(rule::UriStripPrefix{"/api/"}),
           request(rule::UriAddPrefix{"api"}),
           request(rule::UriAddPrefix{"/"}),
           request(rule::UriRegex{"(", "/"}),
           request(rule::UriRegex{"", "/"}),
           request(rule::UriRegex{"^/(a)$", "/$2"}),
           request(rule::UriRegex{"^/(a)$", "/${name}"}),
           request(rule::UriRegex{"^/(a)$", "/$x"}),
           request(rule::UriRegex{"^/(a)$", "/a b"}),
           response(rule::HeaderSet{"Content-Length", "5"}),
           response(rule::HeaderRemove{"Date"}),
           response(rule::StatusSet{99, ""}),
           response(rule::StatusSet{100, ""}),
           response(rule::StatusSet{600, ""}),
           response(rule::StatusSet{200, "a\nb"}),
           response(rule::BodyReplace{"", "x"}),
       }) {
    EXPECT_THROW(rewrite(std::move(o)), std::invalid_argument);
  }
}

// ----- response rules ----------------------------------------------------------------------------

Outcome run_response(std::vector<ResponseRewriteRule> rules,
                     std::function<http::Response()> make_response) {
  RewriteOptions o;
  o.response = std::move(rules);
  return run(std::move(o), request_for("/"), std::move(make_response));
}

TEST(Rewrite, ResponseHeaderAndStatusRules) {
  Outcome r =
      run_response({rule::HeaderRemove{"server"}, rule::HeaderSet{"Cache-Control", "no-store"},
                    rule::HeaderAdd{"X-A", "2"}, rule::StatusSet{203, "Rewritten"}},
                   [] {
                     http::Response resp = http::Response::text(200, "body");
                     resp.head.headers.add("Server", "backend");
                     resp.head.headers.add("Cache-Control", "max-age=60");
                     resp.head.headers.add("X-A", "1");
                     return resp;
                   });
  EXPECT_EQ(r.status, 203);
  EXPECT_EQ(r.reason, "Rewritten");
  EXPECT_FALSE(r.headers.contains("server"));
  EXPECT_EQ(r.headers.joined("cache-control"), "no-store");
  EXPECT_EQ(r.headers.joined("x-a"), "1, 2");
  EXPECT_EQ(r.body, "body");
}

TEST(Rewrite, StatusSetWithoutReasonUsesTheStandardPhrase) {
  Outcome r = run_response({rule::StatusSet{404, ""}}, [] {
    http::Response resp = http::Response::text(200, "x");
    resp.head.reason = "Fine";
    return resp;
  });
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.reason, "");
}

TEST(Rewrite, BodyReplaceInMemoryGetsItsNewLength) {
  Outcome r = run_response({rule::BodyReplace{"internal.example", "api.example.com"}}, [] {
    http::Response resp = http::Response::text(200,
                                               "see http://internal.example/a and "
                                               "http://internal.example/b");
    resp.head.headers.add("Content-Length", "55");
    resp.head.headers.add("ETag", "\"v1\"");
    resp.head.headers.add("Accept-Ranges", "bytes");
    return resp;
  });
  EXPECT_EQ(r.body, "see http://api.example.com/a and http://api.example.com/b");
  ASSERT_TRUE(r.size.has_value());
  EXPECT_EQ(*r.size, r.body.size());
  EXPECT_FALSE(r.headers.contains("content-length"));
  EXPECT_EQ(r.headers.get("etag"), "W/\"v1\"");
  EXPECT_FALSE(r.headers.contains("accept-ranges"));
}

TEST(Rewrite, WeakEtagStaysAsItIs) {
  Outcome r = run_response({rule::BodyReplace{"a", "b"}}, [] {
    http::Response resp = http::Response::text(200, "aaa");
    resp.head.headers.add("ETag", "W/\"v1\"");
    return resp;
  });
  EXPECT_EQ(r.body, "bbb");
  EXPECT_EQ(r.headers.get("etag"), "W/\"v1\"");
}

// A stream of the given pieces (then the end, or the trailers and the end); counts the bytes
// handed out.
class PiecesSource final : public http::BodySource {
 public:
  PiecesSource(std::vector<std::string> pieces, std::size_t* pulled = nullptr,
               http::Headers trailers = {})
      : pieces_(std::move(pieces)), pulled_(pulled), trailers_(std::move(trailers)) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    if (next_ == pieces_.size()) {
      if (!trailers_.empty()) {
        http::BodyFrame frame;
        frame.kind = http::BodyFrame::Kind::kTrailers;
        frame.trailers = std::move(trailers_);
        trailers_.clear();
        co_return frame;
      }
      co_return http::BodyFrame::end();
    }
    std::string_view piece = std::string_view(pieces_[next_]).substr(offset_, max_bytes);
    offset_ += piece.size();
    if (offset_ == pieces_[next_].size()) {
      ++next_;
      offset_ = 0;
    }
    if (pulled_ != nullptr) *pulled_ += piece.size();
    co_return http::BodyFrame::bytes(piece);
  }

 private:
  std::vector<std::string> pieces_;
  std::size_t* pulled_;
  http::Headers trailers_;
  std::size_t next_ = 0;
  std::size_t offset_ = 0;
};

TEST(Rewrite, BodyReplaceStreamsAndDropsTheLength) {
  Outcome r = run_response({rule::BodyReplace{"foo", "bar"}}, [] {
    http::Response resp;
    resp.head.headers.add("Content-Length", "12");
    resp.body = http::Body::from_stream(
        std::make_unique<PiecesSource>(Strings{"xxfo", "o-fo", "o--f", "o"}), 13);
    return resp;
  });
  EXPECT_EQ(r.body, "xxbar-bar--fo");
  EXPECT_FALSE(r.size.has_value());  // sent chunked
  EXPECT_FALSE(r.headers.contains("content-length"));
}

TEST(Rewrite, BodyReplaceLeavesEncodedPartialAndEmptyResponsesAlone) {
  auto with = [](int status, std::string_view field, std::string_view value) {
    return [=] {
      http::Response resp = http::Response::text(status, "foo foo");
      if (!field.empty()) resp.head.headers.add(field, value);
      return resp;
    };
  };
  std::vector<ResponseRewriteRule> rules{rule::BodyReplace{"foo", "bar"}};
  Outcome r = run_response(rules, with(200, "Content-Encoding", "gzip"));
  EXPECT_EQ(r.body, "foo foo");
  r = run_response(rules, with(206, "Content-Range", "bytes 0-6/100"));
  EXPECT_EQ(r.body, "foo foo");
  r = run_response(rules, with(200, "Content-Encoding", "identity"));
  EXPECT_EQ(r.body, "bar bar");
  r = run_response(rules, [] {
    http::Response resp = http::Response::empty(204);
    resp.head.headers.add("ETag", "\"e\"");
    return resp;
  });
  EXPECT_EQ(r.headers.get("etag"), "\"e\"");
}

TEST(Rewrite, SeveralBodyReplacementsApplyInOrder) {
  Outcome r = run_response({rule::BodyReplace{"a", "b"}, rule::BodyReplace{"bb", "c"}}, [] {
    http::Response resp;
    resp.body = http::Body::from_stream(std::make_unique<PiecesSource>(Strings{"a", "b", "ab"}));
    return resp;
  });
  EXPECT_EQ(r.body, "cc");  // "abab" → "bbbb" → "cc"
}

// ----- the streaming replacer --------------------------------------------------------------------

struct Drained {
  std::string data;
  std::vector<std::size_t> frame_sizes;
  http::Headers trailers;
  // After each data frame: bytes pulled from the source minus bytes of input accounted for by
  // the output (only meaningful when `to` == `from`, where output == input).
  std::size_t max_held = 0;
};

Drained drain(std::unique_ptr<http::BodySource> source, std::size_t max_bytes,
              const std::size_t* pulled = nullptr) {
  Drained out;
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (;;) {
          Result<http::BodyFrame> frame = co_await source->next(max_bytes);
          if (!frame) throw std::runtime_error(frame.error().describe());
          if (frame->kind == http::BodyFrame::Kind::kEnd) break;
          if (frame->kind == http::BodyFrame::Kind::kTrailers) {
            out.trailers = frame->trailers;
            continue;
          }
          EXPECT_LE(frame->data.size(), max_bytes);
          EXPECT_FALSE(frame->data.empty());
          out.data.append(frame->data);
          out.frame_sizes.push_back(frame->data.size());
          if (pulled != nullptr) out.max_held = std::max(out.max_held, *pulled - out.data.size());
        }
      },
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

std::string replace_reference(std::string text, const std::string& from, const std::string& to) {
  std::string out;
  std::size_t pos = 0;
  for (std::size_t hit = text.find(from); hit != std::string::npos; hit = text.find(from, pos)) {
    out += text.substr(pos, hit - pos) + to;
    pos = hit + from.size();
  }
  return out + text.substr(pos);
}

std::string replaced(Strings pieces, const std::string& from, const std::string& to,
                     std::size_t max_bytes = 1 << 16) {
  return drain(replace_in_body(std::make_unique<PiecesSource>(std::move(pieces)), from, to),
               max_bytes)
      .data;
}

TEST(ReplaceInBody, EverySplitPointOfEveryOccurrence) {
  // Self-overlapping patterns make the held-back tail matter ("aab" in "aaab", "abab" in
  // "ababab").
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"foo", "<foo> foofoo fo f foo"},
      {"aab", "aaab aab aaaab aa"},
      {"abab", "abababab abab aba"},
      {"x", "axbxxc"},
      {"hello world", "hello hello world! hello worl"},
  };
  for (const auto& [from, text] : cases) {
    for (const std::string& to : Strings{"", "Z", "LONGER-THAN-FROM", from}) {
      const std::string expected = replace_reference(text, from, to);
      for (std::size_t i = 0; i <= text.size(); ++i) {
        for (std::size_t j = i; j <= text.size(); ++j) {
          Strings pieces{text.substr(0, i), text.substr(i, j - i), text.substr(j)};
          ASSERT_EQ(replaced(pieces, from, to), expected)
              << "from '" << from << "' to '" << to << "' split at " << i << ", " << j;
        }
      }
    }
  }
}

TEST(ReplaceInBody, OneByteAtATimeAndSmallPulls) {
  const std::string text = "a foo b fofoo c foofoofoo d f";
  Strings bytes;
  for (char c : text)
    bytes.emplace_back(1, c);
  EXPECT_EQ(replaced(bytes, "foo", "[x]"), replace_reference(text, "foo", "[x]"));
  // The consumer asks for at most 2 bytes at a time: longer replacements come out in pieces.
  EXPECT_EQ(replaced({text}, "foo", "[a long replacement]", 2),
            replace_reference(text, "foo", "[a long replacement]"));
}

TEST(ReplaceInBody, ManyRandomChunkingsOfALargeBody) {
  std::mt19937 rng(20261127);
  std::string text;
  const Strings words{"needle", "need", "le", "nee", "dle", "x", "needleneedle", "nneedle"};
  while (text.size() < 200000)
    text += words[rng() % words.size()];
  for (int round = 0; round < 20; ++round) {
    Strings pieces;
    for (std::size_t pos = 0; pos < text.size();) {
      const std::size_t n = std::min<std::size_t>(1 + rng() % 300, text.size() - pos);
      pieces.push_back(text.substr(pos, n));
      pos += n;
    }
    ASSERT_EQ(replaced(pieces, "needle", "pin"), replace_reference(text, "needle", "pin"));
  }
}

TEST(ReplaceInBody, HoldsBackLessThanThePattern) {
  // Identity replacement: the output is the input, so input pulled minus output so far is what
  // the replacer holds. Every piece ends with a prefix of the pattern.
  const std::string from = "abcdefgh";
  Strings pieces;
  std::string text;
  for (int i = 0; i < 500; ++i) {
    pieces.push_back("some text ab");
    pieces.push_back("cdefg and more abcdefgh abcdefg");
  }
  for (const std::string& p : pieces)
    text += p;
  std::size_t pulled = 0;
  Drained d = drain(replace_in_body(std::make_unique<PiecesSource>(pieces, &pulled), from, from),
                    1 << 16, &pulled);
  EXPECT_EQ(d.data, text);
  EXPECT_LE(d.max_held, from.size() - 1);
  EXPECT_GE(d.frame_sizes.size(), pieces.size() / 2);  // streamed, not gathered
}

TEST(ReplaceInBody, FlushesTheHeldTailBeforeTrailers) {
  http::Headers trailers;
  trailers.add("X-Checksum", "1");
  Drained d = drain(replace_in_body(std::make_unique<PiecesSource>(Strings{"data fo"}, nullptr,
                                                                   std::move(trailers)),
                                    "foo", "bar"),
                    1 << 16);
  EXPECT_EQ(d.data, "data fo");
  EXPECT_EQ(d.trailers.get("x-checksum"), "1");
}

TEST(ReplaceInBody, EmptyBodyAndEmptyFrom) {
  EXPECT_EQ(replaced({}, "foo", "bar"), "");
  EXPECT_EQ(replaced({"", "", "foo", ""}, "foo", "bar"), "bar");
  EXPECT_THROW(replace_in_body(std::make_unique<PiecesSource>(Strings{}), "", "x"),
               std::invalid_argument);
}

}  // namespace
}  // namespace rws::middleware
