#include "h1/response_parser.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rws::h1 {
namespace {

using namespace std::string_literals;
using Status = ResponseParser::Status;

// Parses a complete head sent in answer to `method`; the error text is in the failure message.
Status parse_all(ResponseParser& p, std::string_view input, std::string_view method = "GET") {
  return p.parse(input, method);
}

TEST(ResponseParser, ParsesSimpleResponse) {
  ResponseParser p;
  std::string msg = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello";
  ASSERT_EQ(parse_all(p, msg), Status::kComplete) << p.error();
  EXPECT_EQ(p.head_size(), msg.size() - 5);
  EXPECT_EQ(p.head().status, 200);
  EXPECT_EQ(p.head().reason, "OK");
  ASSERT_EQ(p.head().headers.size(), 2u);
  EXPECT_EQ(p.head().headers.get("x-a"), "b");
  EXPECT_EQ(p.info().version, 11);
  EXPECT_TRUE(p.info().keep_alive);
  EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
  EXPECT_EQ(p.info().content_length, 5u);
  EXPECT_FALSE(p.info().until_close);
}

TEST(ResponseParser, ReasonPhraseVariants) {
  {
    ResponseParser p;
    ASSERT_EQ(parse_all(p, "HTTP/1.1 404 Not Found Here\r\nContent-Length: 0\r\n\r\n"),
              Status::kComplete);
    EXPECT_EQ(p.head().status, 404);
    EXPECT_EQ(p.head().reason, "Not Found Here");
  }
  {
    // status-line = HTTP-version SP status-code SP [ reason-phrase ]: empty reason.
    ResponseParser p;
    ASSERT_EQ(parse_all(p, "HTTP/1.1 204 \r\n\r\n"), Status::kComplete) << p.error();
    EXPECT_EQ(p.head().status, 204);
    EXPECT_EQ(p.head().reason, "");
  }
  {
    // The SP before an empty reason is often left out by servers; accepted.
    ResponseParser p;
    ASSERT_EQ(parse_all(p, "HTTP/1.1 204\r\n\r\n"), Status::kComplete) << p.error();
    EXPECT_EQ(p.head().status, 204);
    EXPECT_EQ(p.head().reason, "");
  }
  {
    // obs-text and HTAB are allowed in a reason phrase.
    ResponseParser p;
    ASSERT_EQ(parse_all(p, "HTTP/1.1 200 Tr\xe8s\tbien\r\nContent-Length: 0\r\n\r\n"),
              Status::kComplete)
        << p.error();
    EXPECT_EQ(p.head().reason, "Tr\xe8s\tbien");
  }
}

TEST(ResponseParser, MalformedStatusLines) {
  for (std::string_view line : {
           "HTTP/1.1 200OK",       // no SP after the code
           "HTTP/1.1  200 OK",     // two SPs
           "HTTP/1.1 20 OK",       // two digits
           "HTTP/1.1 2000 OK",     // four digits
           "HTTP/1.1 2x0 OK",      // not a digit
           "HTTP/1.1 099 Low",     // below 100
           "HTTP/2.0 200 OK",      // not HTTP/1.x
           "HTTP/1.x 200 OK",      // minor version not a digit
           "HTTP/11 200 OK",       // no dot
           "http/1.1 200 OK",      // the name is case-sensitive
           "ICY 200 OK",           // not HTTP at all
           "HTTP/1.1 200 O\x01K",  // control character in the reason
           "HTTP/1.1",             // too short
           "",                     // empty
       }) {
    ResponseParser p;
    EXPECT_EQ(parse_all(p, std::string(line) + "\r\nContent-Length: 0\r\n\r\n"), Status::kError)
        << line;
    EXPECT_FALSE(p.error().empty()) << line;
  }
}

TEST(ResponseParser, Http10ClosesUnlessKeepAlive) {
  {
    ResponseParser p;
    ASSERT_EQ(parse_all(p, "HTTP/1.0 200 OK\r\nContent-Length: 1\r\n\r\n"), Status::kComplete);
    EXPECT_EQ(p.info().version, 10);
    EXPECT_FALSE(p.info().keep_alive);
  }
  {
    ResponseParser p;
    ASSERT_EQ(
        parse_all(p, "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 1\r\n\r\n"),
        Status::kComplete);
    EXPECT_EQ(p.info().version, 10);
    EXPECT_TRUE(p.info().keep_alive);
  }
}

TEST(ResponseParser, ConnectionCloseEndsKeepAlive) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nConnection: foo, close\r\nContent-Length: 1\r\n\r\n"),
            Status::kComplete);
  EXPECT_FALSE(p.info().keep_alive);
}

TEST(ResponseParser, HigherMinorVersionIsTreatedAsHttp11) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.2 200 OK\r\nContent-Length: 0\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(p.info().version, 11);
  EXPECT_TRUE(p.info().keep_alive);
}

TEST(ResponseParser, RejectsObsoleteLineFolding) {
  ResponseParser p;
  EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 0\r\n\r\n"),
            Status::kError);
  EXPECT_EQ(p.error(), "obsolete line folding");
  ResponseParser tab;
  EXPECT_EQ(parse_all(tab, "HTTP/1.1 200 OK\r\nX-A: one\r\n\ttwo\r\n\r\n"), Status::kError);
  EXPECT_EQ(tab.error(), "obsolete line folding");
}

TEST(ResponseParser, RejectsInvalidHeaderFields) {
  struct Case {
    std::string field;
    std::string_view error;
  };
  for (const Case& c : {
           Case{"X-A : b", "whitespace before colon in header field"},
           Case{"No colon here", "header field without colon"},
           Case{"Bad Name: b", "invalid header field name"},
           Case{": empty name", "invalid header field name"},
           Case{"X-A: b\x01", "invalid character in header field value"},
           Case{"X-A: b\x7f", "invalid character in header field value"},
           Case{"X-A: b\rc", "invalid character in header field value"},
       }) {
    ResponseParser p;
    EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\n" + c.field + "\r\nContent-Length: 0\r\n\r\n"),
              Status::kError)
        << c.field;
    EXPECT_EQ(p.error(), c.error) << c.field;
  }
}

TEST(ResponseParser, RejectsBareLf) {
  for (std::string_view msg :
       {"HTTP/1.1 200 OK\nContent-Length: 0\r\n\r\n", "HTTP/1.1 200 OK\r\nContent-Length: 0\n\r\n",
        "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\n"}) {
    ResponseParser p;
    EXPECT_EQ(parse_all(p, msg), Status::kError) << msg;
    EXPECT_EQ(p.error(), "bare LF in response head") << msg;
  }
}

TEST(ResponseParser, InterimResponsesHaveNoBodyAndTheFinalOneFollows) {
  std::string wire =
      "HTTP/1.1 100 Continue\r\n\r\n"
      "HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\n"
      "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  std::string_view rest = wire;
  ResponseParser p;
  ASSERT_EQ(p.parse(rest, "POST"), Status::kComplete);
  EXPECT_EQ(p.head().status, 100);
  EXPECT_EQ(p.info().framing, BodyFraming::kNone);
  EXPECT_FALSE(p.info().until_close);
  EXPECT_EQ(p.head_size(), 25u);
  rest.remove_prefix(p.head_size());

  p.reset();
  ASSERT_EQ(p.parse(rest, "POST"), Status::kComplete);
  EXPECT_EQ(p.head().status, 103);
  EXPECT_EQ(p.head().headers.get("link"), "</a.css>; rel=preload");
  EXPECT_EQ(p.info().framing, BodyFraming::kNone);
  EXPECT_FALSE(p.info().until_close);
  rest.remove_prefix(p.head_size());

  p.reset();
  ASSERT_EQ(p.parse(rest, "POST"), Status::kComplete);
  EXPECT_EQ(p.head().status, 200);
  EXPECT_EQ(p.head().headers.size(), 1u);  // nothing left over from the interim responses
  EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
  EXPECT_EQ(rest.substr(p.head_size()), "ok");
}

TEST(ResponseParser, NoBodyFor204And304AndHeadAndConnect) {
  struct Case {
    std::string head;
    std::string_view method;
  };
  for (const Case& c : {
           Case{"HTTP/1.1 204 No Content\r\nContent-Length: 10\r\n\r\n", "GET"},
           Case{"HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n", "GET"},
           Case{"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", "GET"},
           Case{"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n", "HEAD"},
           Case{"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HEAD"},
           Case{"HTTP/1.1 200 OK\r\n\r\n", "HEAD"},
           Case{"HTTP/1.1 200 Connection Established\r\n\r\n", "CONNECT"},
           Case{"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n", "GET"},
       }) {
    ResponseParser p;
    ASSERT_EQ(p.parse(c.head, c.method), Status::kComplete) << c.head;
    EXPECT_EQ(p.info().framing, BodyFraming::kNone) << c.method << " " << c.head;
    EXPECT_FALSE(p.info().until_close) << c.method << " " << c.head;
  }
  // Without a body there is nothing to read until close: the connection can be reused.
  ResponseParser p;
  ASSERT_EQ(p.parse("HTTP/1.1 304 Not Modified\r\n\r\n", "GET"), Status::kComplete);
  EXPECT_TRUE(p.info().keep_alive);
}

// A 2xx to anything but CONNECT, or a CONNECT answered with an error, has a body as usual.
TEST(ResponseParser, ConnectErrorHasABody) {
  ResponseParser p;
  ASSERT_EQ(p.parse("HTTP/1.1 407 Proxy Auth\r\nContent-Length: 4\r\n\r\n", "CONNECT"),
            Status::kComplete);
  EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
  EXPECT_EQ(p.info().content_length, 4u);
}

TEST(ResponseParser, ContentLengthFraming) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 1234567890123\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
  EXPECT_EQ(p.info().content_length, 1234567890123u);
  EXPECT_TRUE(p.info().keep_alive);

  ResponseParser zero;
  ASSERT_EQ(parse_all(zero, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Status::kComplete);
  EXPECT_EQ(zero.info().framing, BodyFraming::kNone);
  EXPECT_EQ(zero.info().content_length, 0u);
  EXPECT_FALSE(zero.info().until_close);
  EXPECT_TRUE(zero.info().keep_alive);
}

TEST(ResponseParser, IdenticalContentLengthsAreAccepted) {
  for (std::string_view fields : {"Content-Length: 7\r\nContent-Length: 7\r\n",
                                  "Content-Length: 7, 7\r\n", "Content-Length: 7,7, 7\r\n"}) {
    ResponseParser p;
    ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\n" + std::string(fields) + "\r\n"), Status::kComplete)
        << fields << p.error();
    EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
    EXPECT_EQ(p.info().content_length, 7u);
  }
}

TEST(ResponseParser, ConflictingOrInvalidContentLengthIsRejected) {
  for (std::string_view fields : {
           "Content-Length: 7\r\nContent-Length: 8\r\n",
           "Content-Length: 7, 8\r\n",
           "Content-Length: abc\r\n",
           "Content-Length: -1\r\n",
           "Content-Length: +7\r\n",
           "Content-Length: 0x10\r\n",
           "Content-Length: 7 8\r\n",
           "Content-Length:\r\n",
           "Content-Length: 99999999999999999999999\r\n",
       }) {
    ResponseParser p;
    EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\n" + std::string(fields) + "\r\n"), Status::kError)
        << fields;
    EXPECT_EQ(p.error(), "invalid Content-Length in response") << fields;
  }
}

TEST(ResponseParser, ChunkedFraming) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"),
            Status::kComplete);
  EXPECT_EQ(p.info().framing, BodyFraming::kChunked);
  EXPECT_FALSE(p.info().until_close);
  EXPECT_TRUE(p.info().keep_alive);

  ResponseParser coded;
  ASSERT_EQ(parse_all(coded,
                      "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: Chunked\r\n"
                      "\r\n"),
            Status::kComplete);
  EXPECT_EQ(coded.info().framing, BodyFraming::kChunked);
  EXPECT_TRUE(coded.info().keep_alive);
}

TEST(ResponseParser, TransferEncodingWinsOverContentLengthButTheConnectionIsNotReused) {
  ResponseParser p;
  ASSERT_EQ(
      parse_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\nTransfer-Encoding: chunked\r\n\r\n"),
      Status::kComplete);
  EXPECT_EQ(p.info().framing, BodyFraming::kChunked);
  EXPECT_FALSE(p.info().keep_alive);
}

TEST(ResponseParser, ChunkedNotLastMeansUntilClose) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n"),
            Status::kComplete);
  EXPECT_TRUE(p.info().until_close);
  EXPECT_NE(p.info().framing, BodyFraming::kChunked);
  EXPECT_FALSE(p.info().keep_alive);
}

TEST(ResponseParser, NoFramingMeansUntilClose) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n"), Status::kComplete);
  EXPECT_TRUE(p.info().until_close);
  EXPECT_FALSE(p.info().keep_alive);
}

// RFC 9112 §6.1: a recipient of an HTTP/1.0 message with Transfer-Encoding must treat the framing
// as faulty and close the connection after it, whatever Connection says.
TEST(ResponseParser, Http10WithTransferEncodingIsNeverReused) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p,
                      "HTTP/1.0 200 OK\r\nConnection: keep-alive\r\nTransfer-Encoding: chunked\r\n"
                      "\r\n"),
            Status::kComplete);
  EXPECT_FALSE(p.info().keep_alive);
}

TEST(ResponseParser, IsIncrementalByteByByte) {
  std::string msg = "HTTP/1.1 201 Created\r\nLocation: /things/1\r\nContent-Length: 3\r\nX-Long: " +
                    std::string(300, 'v') + "\r\n\r\nabc";
  std::size_t head_end = msg.find("\r\n\r\n") + 4;
  ResponseParser p;
  for (std::size_t n = 1; n < head_end; ++n) {
    ASSERT_EQ(p.parse(std::string_view(msg).substr(0, n), "POST"), Status::kIncomplete) << n;
  }
  ASSERT_EQ(p.parse(std::string_view(msg).substr(0, head_end), "POST"), Status::kComplete);
  EXPECT_EQ(p.head_size(), head_end);
  EXPECT_EQ(p.head().status, 201);
  EXPECT_EQ(p.head().reason, "Created");
  EXPECT_EQ(p.head().headers.get("location"), "/things/1");
  EXPECT_EQ(p.head().headers.get("x-long"), std::string(300, 'v'));
  EXPECT_EQ(p.info().framing, BodyFraming::kContentLength);
  EXPECT_EQ(p.info().content_length, 3u);
  // Once complete it stays complete, even with the body appended.
  EXPECT_EQ(p.parse(msg, "POST"), Status::kComplete);
  EXPECT_EQ(p.head_size(), head_end);
}

TEST(ResponseParser, ErrorIsSticky) {
  ResponseParser p;
  ASSERT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nBad Name: x\r\n"), Status::kError);
  EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n"), Status::kError);
  p.reset();
  EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"), Status::kComplete);
  EXPECT_TRUE(p.error().empty());
}

TEST(ResponseParser, HeadSizeLimit) {
  ParserLimits limits;
  limits.max_head_bytes = 64;
  {
    // A long field line.
    ResponseParser p(limits);
    EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nX-A: " + std::string(100, 'a') + "\r\n\r\n"),
              Status::kError);
    EXPECT_EQ(p.error(), "response head too large");
  }
  {
    // No line end at all yet: refused before it ever arrives.
    ResponseParser p(limits);
    EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nX-A: " + std::string(100, 'a')), Status::kError);
    EXPECT_EQ(p.error(), "response head too large");
  }
  {
    // A body after a small head does not count.
    ResponseParser p(limits);
    EXPECT_EQ(
        parse_all(p, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n" + std::string(100, 'b')),
        Status::kComplete)
        << p.error();
  }
}

TEST(ResponseParser, FieldCountLimit) {
  ParserLimits limits;
  limits.max_fields = 3;
  std::string three = "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nContent-Length: 0\r\n\r\n";
  ResponseParser ok(limits);
  EXPECT_EQ(parse_all(ok, three), Status::kComplete);
  ResponseParser p(limits);
  EXPECT_EQ(parse_all(p, "HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\nC: 3\r\nContent-Length: 0\r\n\r\n"),
            Status::kError);
  EXPECT_EQ(p.error(), "too many response header fields");
}

TEST(ResponseParser, RepeatedFieldsStaySeparate) {
  ResponseParser p;
  ASSERT_EQ(
      parse_all(p,
                "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nContent-Length: 0\r\n"
                "\r\n"),
      Status::kComplete);
  EXPECT_EQ(p.head().headers.count("set-cookie"), 2u);
}

}  // namespace
}  // namespace rws::h1
