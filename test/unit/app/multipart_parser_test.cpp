#include "app/multipart_parser.hpp"

#include <gtest/gtest.h>

namespace rws {
namespace {

struct Parsed {
  std::vector<std::pair<std::string, std::string>> parts;  // disposition, content
  std::string error;
  bool limit = false;
};

// Feeds `body` in pieces of `piece` bytes the way MultipartReader does.
Parsed parse(const std::string& body, std::size_t piece, std::size_t max_header = 1024,
             std::size_t max_parts = 10) {
  MultipartParser p("B0undary", max_header, max_parts);
  Parsed out;
  std::string buffer;
  std::size_t fed = 0;
  for (;;) {
    std::size_t consumed = 0;
    std::string_view data;
    bool eof = fed >= body.size();
    auto ev = p.next(buffer, eof, consumed, data);
    std::string chunk(data);
    buffer.erase(0, consumed);
    switch (ev) {
      case MultipartParser::Event::kPartBegin:
        out.parts.emplace_back(std::string(p.headers().get("content-disposition")), "");
        break;
      case MultipartParser::Event::kData:
        out.parts.back().second += chunk;
        break;
      case MultipartParser::Event::kPartEnd:
        break;
      case MultipartParser::Event::kEnd:
        return out;
      case MultipartParser::Event::kError:
        out.error = std::string(p.error());
        out.limit = p.limit_exceeded();
        return out;
      case MultipartParser::Event::kNeedMore:
        if (eof) {
          out.error = "stalled";
          return out;
        }
        buffer.append(body.substr(fed, piece));
        fed += std::min(piece, body.size() - fed);
        break;
    }
  }
}

const std::string kBody =
    "ignored preamble\r\n--B0undary  \r\n"
    "Content-Disposition: form-data; name=\"a\"\r\n\r\n"
    "first value\r\n"
    "--B0undary\r\n"
    "Content-Disposition: form-data; name=\"f\"; filename=\"x.bin\"\r\n"
    "Content-Type: application/octet-stream\r\n\r\n"
    "bytes with \r\n--B0undar almost a delimiter\r\n"
    "--B0undary\r\n\r\n"
    "no headers\r\n"
    "--B0undary--\r\nepilogue";

TEST(MultipartParser, ParsesWhateverTheChunking) {
  for (std::size_t piece : {1u, 2u, 3u, 7u, 64u, 100000u}) {
    Parsed p = parse(kBody, piece);
    ASSERT_EQ(p.error, "") << piece;
    ASSERT_EQ(p.parts.size(), 3u) << piece;
    EXPECT_EQ(p.parts[0].second, "first value");
    EXPECT_EQ(p.parts[1].first, "form-data; name=\"f\"; filename=\"x.bin\"");
    EXPECT_EQ(p.parts[1].second, "bytes with \r\n--B0undar almost a delimiter");
    EXPECT_EQ(p.parts[2].first, "");
    EXPECT_EQ(p.parts[2].second, "no headers");
  }
}

TEST(MultipartParser, BodyMayStartWithTheDelimiter) {
  Parsed p = parse("--B0undary\r\n\r\nx\r\n--B0undary--", 3);
  ASSERT_EQ(p.parts.size(), 1u);
  EXPECT_EQ(p.parts[0].second, "x");
}

TEST(MultipartParser, Rejects) {
  EXPECT_EQ(parse("no delimiter at all", 5).error, "no multipart boundary in the body");
  EXPECT_EQ(parse("--B0undary\r\nA: b\r\n\r\ncut", 5).error, "body ended inside a part");
  EXPECT_EQ(parse("--B0undaryX\r\n\r\n", 50).error, "boundary not followed by CRLF");
  EXPECT_EQ(parse("--B0undary\r\nbad header\r\n\r\nx\r\n--B0undary--", 50).error,
            "header field without colon");
  Parsed big = parse("--B0undary\r\nA: " + std::string(2000, 'a') + "\r\n\r\nx", 64);
  EXPECT_TRUE(big.limit);
  std::string many;
  for (int i = 0; i < 12; ++i)
    many += "--B0undary\r\n\r\nx\r\n";
  Parsed too_many = parse(many + "--B0undary--", 100);
  EXPECT_EQ(too_many.error, "too many parts");
  EXPECT_TRUE(too_many.limit);
}

TEST(MultipartParser, HeaderParameters) {
  EXPECT_EQ(header_parameter("form-data; name=\"a b\"; filename=c.txt", "name"), "a b");
  EXPECT_EQ(header_parameter("form-data; name=\"a b\"; filename=c.txt", "filename"), "c.txt");
  EXPECT_EQ(header_parameter("form-data; NAME=\"q\\\"uote\"", "name"), "q\"uote");
  EXPECT_FALSE(header_parameter("form-data", "name"));
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=abc"), "abc");
  EXPECT_EQ(multipart_boundary("Multipart/Form-Data; charset=x; boundary=\"a b\""), "a b");
  EXPECT_EQ(multipart_boundary("multipart/mixed; boundary=abc"), "");
  EXPECT_EQ(multipart_boundary("multipart/form-data"), "");
  EXPECT_EQ(multipart_boundary("multipart/form-data; boundary=" + std::string(71, 'a')), "");
}

}  // namespace
}  // namespace rws
