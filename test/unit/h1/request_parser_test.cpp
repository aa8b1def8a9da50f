#include "h1/request_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rws::h1 {
namespace {

using namespace std::string_literals;
using Status = RequestParser::Status;

TEST(RequestParser, ParsesSimpleGet) {
  RequestParser p;
  std::string msg = "GET /a/b?x=1&y=2 HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
  ASSERT_EQ(p.parse(msg), Status::kComplete);
  EXPECT_EQ(p.head_size(), msg.size());
  EXPECT_EQ(p.head().method, "GET");
  EXPECT_EQ(p.head().target, "/a/b?x=1&y=2");
  EXPECT_EQ(p.head().path, "/a/b");
  EXPECT_EQ(p.head().query, "x=1&y=2");
  EXPECT_EQ(p.head().authority, "example.com");
  EXPECT_EQ(p.head().version, 11);
  ASSERT_EQ(p.head().headers.size(), 2u);
  EXPECT_EQ(p.head().headers.get("accept"), "*/*");
  EXPECT_EQ(p.info().framing, BodyFraming::kNone);
  EXPECT_TRUE(p.info().keep_alive);
}

TEST(RequestParser, IsIncrementalByteByByte) {
  std::string msg =
      "POST /upload HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nX-Long: " + std::string(300, 'v') +
      "\r\n\r\nhello";
  RequestParser p;
  std::size_t head_end = msg.find("\r\n\r\n") + 4;
  for (std::size_t n = 1; n < head_end; ++n) {
    ASSERT_EQ(p.parse(std::string_view(msg).substr(0, n)), Status::kIncomplete) << n;
  }
  ASSERT_EQ(p.parse(msg), Status::kComplete);
  EXPECT_EQ(p.head_size(), head_end);
  EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
  EXPECT_EQ(p.info().content_length, 5u);
}

TEST(RequestParser, TrimsOptionalWhitespaceAroundValues) {
  RequestParser p;
  ASSERT_EQ(p.parse("GET / HTTP/1.1\r\nHost:h\r\nX-A: \t spaced value \t\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(p.head().headers.get("x-a"), "spaced value");
  EXPECT_EQ(p.head().headers.get("host"), "h");
}

TEST(RequestParser, IgnoresLeadingEmptyLines) {
  RequestParser p;
  ASSERT_EQ(p.parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(p.head().method, "GET");
}

TEST(RequestParser, Http10KeepAliveOnlyWhenAsked) {
  RequestParser a;
  ASSERT_EQ(a.parse("GET / HTTP/1.0\r\n\r\n"), Status::kComplete);
  EXPECT_FALSE(a.info().keep_alive);
  EXPECT_EQ(a.head().version, 10);
  RequestParser b;
  ASSERT_EQ(b.parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n"), Status::kComplete);
  EXPECT_TRUE(b.info().keep_alive);
}

TEST(RequestParser, ConnectionCloseEndsKeepAlive) {
  RequestParser p;
  ASSERT_EQ(p.parse("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, close\r\n\r\n"),
            Status::kComplete);
  EXPECT_FALSE(p.info().keep_alive);
}

TEST(RequestParser, ChunkedFraming) {
  RequestParser p;
  ASSERT_EQ(p.parse("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(p.info().framing, BodyFraming::kChunked);
}

TEST(RequestParser, ExpectContinue) {
  RequestParser p;
  ASSERT_EQ(
      p.parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n"),
      Status::kComplete);
  EXPECT_TRUE(p.info().expect_continue);
  EXPECT_FALSE(p.info().unsupported_expectation);

  RequestParser q;
  ASSERT_EQ(q.parse("PUT / HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n"),
            Status::kComplete);
  EXPECT_TRUE(q.info().unsupported_expectation);

  RequestParser old;
  ASSERT_EQ(old.parse("PUT / HTTP/1.0\r\nExpect: 100-continue\r\n\r\n"), Status::kComplete);
  EXPECT_FALSE(old.info().expect_continue);
}

TEST(RequestParser, TargetForms) {
  RequestParser a;
  ASSERT_EQ(a.parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(a.head().path, "*");

  RequestParser b;
  ASSERT_EQ(b.parse("GET http://Example.com:8080/p?q HTTP/1.1\r\nHost: other\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(b.head().authority, "Example.com:8080");
  EXPECT_EQ(b.head().path, "/p");
  EXPECT_EQ(b.head().query, "q");

  RequestParser c;
  ASSERT_EQ(c.parse("GET http://h HTTP/1.1\r\nHost: h\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(c.head().path, "/");

  RequestParser d;
  ASSERT_EQ(d.parse("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(d.head().authority, "example.com:443");

  RequestParser e;
  ASSERT_EQ(e.parse("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(e.head().authority, "[::1]:8080");
}

TEST(RequestParser, HigherMinorVersionIsTreatedAsHttp11) {
  RequestParser p;
  ASSERT_EQ(p.parse("GET / HTTP/1.7\r\nHost: h\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(p.head().version, 11);
}

struct Rejection {
  const char* name;
  std::string message;
  int status;
};

class RequestParserRejects : public ::testing::TestWithParam<Rejection> {};

TEST_P(RequestParserRejects, WithStatus) {
  const Rejection& r = GetParam();
  RequestParser p(ParserLimits{.max_request_line = 256, .max_head_bytes = 1024, .max_fields = 8});
  ASSERT_EQ(p.parse(r.message), Status::kError) << r.name;
  EXPECT_EQ(p.error().status, r.status) << r.name << ": " << p.error().reason;
  EXPECT_FALSE(p.error().reason.empty());
  // A failed parser stays failed: nothing after a rejected head is ever parsed as a request.
  EXPECT_EQ(p.parse(r.message + "GET / HTTP/1.1\r\nHost: h\r\n\r\n"), Status::kError);
}

const std::string kH = "Host: h\r\n";

INSTANTIATE_TEST_SUITE_P(
    Malformed, RequestParserRejects,
    ::testing::Values(
        // Framing / smuggling (RFC 9112 §6)
        Rejection{
            "te_and_cl",
            "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
            400},
        Rejection{
            "cl_and_te",
            "POST / HTTP/1.1\r\n" + kH + "Content-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
            400},
        Rejection{"two_cl_same",
                  "POST / HTTP/1.1\r\n" + kH + "Content-Length: 3\r\nContent-Length: 3\r\n\r\n",
                  400},
        Rejection{"two_cl_diff",
                  "POST / HTTP/1.1\r\n" + kH + "Content-Length: 3\r\nContent-Length: 4\r\n\r\n",
                  400},
        Rejection{"cl_list", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 3, 3\r\n\r\n", 400},
        Rejection{"cl_negative", "POST / HTTP/1.1\r\n" + kH + "Content-Length: -1\r\n\r\n", 400},
        Rejection{"cl_plus", "POST / HTTP/1.1\r\n" + kH + "Content-Length: +1\r\n\r\n", 400},
        Rejection{"cl_hex", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 0x10\r\n\r\n", 400},
        Rejection{"cl_space_inside", "POST / HTTP/1.1\r\n" + kH + "Content-Length: 1 2\r\n\r\n",
                  400},
        Rejection{"cl_empty", "POST / HTTP/1.1\r\n" + kH + "Content-Length:\r\n\r\n", 400},
        Rejection{"cl_overflow",
                  "POST / HTTP/1.1\r\n" + kH + "Content-Length: 99999999999999999999999\r\n\r\n",
                  400},
        Rejection{"te_not_final_chunked",
                  "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked, gzip\r\n\r\n", 400},
        Rejection{"te_identity", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: identity\r\n\r\n",
                  400},
        Rejection{"te_chunked_twice",
                  "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: chunked, chunked\r\n\r\n", 400},
        Rejection{"te_two_fields_chunked_first",
                  "POST / HTTP/1.1\r\n" + kH +
                      "Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n\r\n",
                  400},
        Rejection{"te_garbage",
                  "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: \"chunked\"\r\n\r\n", 400},
        Rejection{"te_empty", "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: \r\n\r\n", 400},
        Rejection{"te_gzip_chunked",
                  "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding: gzip, chunked\r\n\r\n", 501},
        Rejection{"te_in_http10", "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400},
        Rejection{"te_space_before_colon",
                  "POST / HTTP/1.1\r\n" + kH + "Transfer-Encoding : chunked\r\n\r\n", 400},
        // Field syntax
        Rejection{"obs_fold", "GET / HTTP/1.1\r\n" + kH + "X-A: a\r\n  folded\r\n\r\n", 400},
        Rejection{"obs_fold_tab", "GET / HTTP/1.1\r\n" + kH + "X-A: a\r\n\tfolded\r\n\r\n", 400},
        Rejection{"space_before_colon", "GET / HTTP/1.1\r\n" + kH + "X-A : a\r\n\r\n", 400},
        Rejection{"no_colon", "GET / HTTP/1.1\r\n" + kH + "X-A a\r\n\r\n", 400},
        Rejection{"empty_name", "GET / HTTP/1.1\r\n" + kH + ": a\r\n\r\n", 400},
        Rejection{"bad_name_char", "GET / HTTP/1.1\r\n" + kH + "X(A): a\r\n\r\n", 400},
        Rejection{"bare_cr_in_value", "GET / HTTP/1.1\r\n" + kH + "X-A: a\rb\r\n\r\n", 400},
        Rejection{"bare_lf_in_head", "GET / HTTP/1.1\r\n" + kH + "X-A: a\nX-B: b\r\n\r\n", 400},
        Rejection{"lf_only_lines", "GET / HTTP/1.1\nHost: h\n\n", 400},
        Rejection{"nul_in_value", "GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n"s, 400},
        Rejection{"ctl_in_value",
                  "GET / HTTP/1.1\r\n" + kH +
                      "X-A: a\x01"
                      "b\r\n\r\n",
                  400},
        Rejection{"del_in_value",
                  "GET / HTTP/1.1\r\n" + kH +
                      "X-A: a\x7f"
                      "b\r\n\r\n",
                  400},
        // Host
        Rejection{"missing_host", "GET / HTTP/1.1\r\n\r\n", 400},
        Rejection{"two_hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400},
        Rejection{"bad_host", "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", 400},
        Rejection{"host_with_path", "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", 400},
        Rejection{"host_userinfo", "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", 400},
        // Request line
        Rejection{"lowercase_version", "GET / http/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"version_garbage", "GET / HTTP/1.x\r\n" + kH + "\r\n", 400},
        Rejection{"version_long", "GET / HTTP/1.10\r\n" + kH + "\r\n", 400},
        Rejection{"http2_version", "GET / HTTP/2.0\r\n" + kH + "\r\n", 505},
        Rejection{"http09", "GET /\r\n\r\n", 400},
        Rejection{"double_space", "GET  / HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"trailing_space", "GET / HTTP/1.1 \r\n" + kH + "\r\n", 400},
        Rejection{"tab_separator", "GET\t/ HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"bad_method", "G(T / HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"space_in_target", "GET /a b HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"fragment", "GET /a#b HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"bad_pct", "GET /a%zz HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"short_pct", "GET /a%2 HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"raw_backslash", "GET /a\\b HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"non_ascii_target", "GET /caf\xc3\xa9 HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"nul_in_target", "GET /a\0 HTTP/1.1\r\nHost: h\r\n\r\n"s, 400},
        Rejection{"asterisk_not_options", "GET * HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"relative_target", "GET a/b HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"ftp_scheme", "GET ftp://h/ HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"connect_without_port", "CONNECT h HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"connect_origin_form", "CONNECT / HTTP/1.1\r\n" + kH + "\r\n", 400},
        Rejection{"bare_cr_request_line", "GET /\r HTTP/1.1\r\n" + kH + "\r\n", 400},
        // Limits
        Rejection{"request_line_too_long", "GET /" + std::string(300, 'a') + " HTTP/1.1\r\n", 414},
        Rejection{"request_line_unterminated", "GET /" + std::string(300, 'a'), 414},
        Rejection{"head_too_large",
                  "GET / HTTP/1.1\r\n" + kH + "X-A: " + std::string(1100, 'a') + "\r\n\r\n", 431},
        Rejection{"head_unterminated", "GET / HTTP/1.1\r\n" + kH + "X-A: " + std::string(1100, 'a'),
                  431},
        Rejection{"too_many_fields",
                  "GET / HTTP/1.1\r\n" + kH +
                      "A: 1\r\nB: 1\r\nC: 1\r\nD: 1\r\nE: 1\r\nF: 1\r\nG: 1\r\nH: 1\r\n\r\n",
                  431}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

TEST(RequestParser, ResetAllowsTheNextMessage) {
  RequestParser p;
  std::string two = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n";
  ASSERT_EQ(p.parse(two), Status::kComplete);
  std::size_t n = p.head_size();
  EXPECT_EQ(p.head().path, "/1");
  p.reset();
  ASSERT_EQ(p.parse(std::string_view(two).substr(n)), Status::kComplete);
  EXPECT_EQ(p.head().path, "/2");
}

}  // namespace
}  // namespace rws::h1
