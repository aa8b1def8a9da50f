#include "h1/serializer.hpp"

#include <gtest/gtest.h>

namespace rws::h1 {
namespace {

TEST(Serializer, FramingFieldsAreTheSessions) {
  http::ResponseHead head;
  head.status = 200;
  head.headers.add("Content-Type", "text/plain");
  head.headers.add("Content-Length", "999");      // replaced
  head.headers.add("Transfer-Encoding", "gzip");  // replaced
  head.headers.add("Connection", "upgrade");      // replaced
  head.headers.add("X-Custom", "a");
  std::string out;
  ResponseFraming f;
  f.content_length = 5;
  f.connection = "close";
  f.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  f.server = "rws";
  EXPECT_EQ(append_response_head(out, head, f), 0u);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\n"
            "Content-Type: text/plain\r\n"
            "X-Custom: a\r\n"
            "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
            "Server: rws\r\n"
            "Content-Length: 5\r\n"
            "Connection: close\r\n"
            "\r\n");
}

// The head is written into room computed up front: the longest fixed parts (a status and a
// Content-Length of 20 digits, every framing field) must fit, after output already buffered.
TEST(Serializer, LongestFramingAfterEarlierOutput) {
  http::ResponseHead head;
  head.status = -1;  // written as an unsigned 64-bit number: 20 digits
  head.reason = std::string(300, 'r');
  head.headers.add("X-Long", std::string(1000, 'v'));
  std::string out = "earlier";
  ResponseFraming f;
  f.content_length = UINT64_MAX;
  f.chunked = true;
  f.connection = "keep-alive";
  f.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  f.server = "rws";
  EXPECT_EQ(append_response_head(out, head, f), 0u);
  EXPECT_EQ(out, "earlierHTTP/1.1 18446744073709551615 " + std::string(300, 'r') +
                     "\r\n"
                     "X-Long: " +
                     std::string(1000, 'v') +
                     "\r\n"
                     "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                     "Server: rws\r\n"
                     "Content-Length: 18446744073709551615\r\n"
                     "Transfer-Encoding: chunked\r\n"
                     "Connection: keep-alive\r\n"
                     "\r\n");
}

TEST(Serializer, HandlerDateAndServerWin) {
  http::ResponseHead head;
  head.status = 404;
  head.headers.add("Server", "custom");
  head.headers.add("date", "Mon, 07 Nov 1994 08:49:37 GMT");
  std::string out;
  ResponseFraming f;
  f.chunked = true;
  f.date = "Sun, 06 Nov 1994 08:49:37 GMT";
  f.server = "rws";
  append_response_head(out, head, f);
  EXPECT_EQ(out,
            "HTTP/1.1 404 Not Found\r\nServer: custom\r\ndate: Mon, 07 Nov 1994 08:49:37 GMT\r\n"
            "Transfer-Encoding: chunked\r\n\r\n");
}

TEST(Serializer, DropsFieldsThatWouldSplitTheResponse) {
  http::ResponseHead head;
  head.status = 302;
  head.headers.add("Location", "/a\r\nSet-Cookie: evil=1");
  head.headers.add("Bad Name", "x");
  head.headers.add("X-Nul", std::string("a\0b", 3));
  head.headers.add("X-Ok", "fine");
  head.reason = "Found\r\nX: y";  // unsafe reason → standard phrase
  std::string out;
  EXPECT_EQ(append_response_head(out, head, ResponseFraming{}), 3u);
  EXPECT_EQ(out, "HTTP/1.1 302 Found\r\nX-Ok: fine\r\n\r\n");
}

TEST(Serializer, CustomReasonAndUnknownStatus) {
  http::ResponseHead head;
  head.status = 299;
  std::string out;
  append_response_head(out, head, ResponseFraming{});
  EXPECT_EQ(out, "HTTP/1.1 299 Unknown\r\n\r\n");
  head.reason = "Fine Indeed";
  out.clear();
  append_response_head(out, head, ResponseFraming{});
  EXPECT_EQ(out, "HTTP/1.1 299 Fine Indeed\r\n\r\n");
}

TEST(Serializer, Chunks) {
  std::string out;
  append_chunk_header(out, 255);
  EXPECT_EQ(out, "ff\r\n");
  out.clear();
  http::Headers trailers;
  trailers.add("X-Sum", "1");
  trailers.add("Content-Length", "3");  // framing fields are never trailers
  append_last_chunk(out, trailers);
  EXPECT_EQ(out, "0\r\nX-Sum: 1\r\n\r\n");
}

}  // namespace
}  // namespace rws::h1
