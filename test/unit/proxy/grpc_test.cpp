#include "proxy/grpc.hpp"

#include <gtest/gtest.h>

#include "proxy/multiplexed_request.hpp"

namespace rws::proxy {
namespace {

using namespace std::chrono;

TEST(GrpcTimeout, EveryUnitParses) {
  EXPECT_EQ(grpc::parse_timeout("2H"), hours(2));
  EXPECT_EQ(grpc::parse_timeout("3M"), minutes(3));
  EXPECT_EQ(grpc::parse_timeout("10S"), seconds(10));
  EXPECT_EQ(grpc::parse_timeout("250m"), milliseconds(250));
  EXPECT_EQ(grpc::parse_timeout("99999999u"), microseconds(99999999));
  EXPECT_EQ(grpc::parse_timeout("1n"), nanoseconds(1));
}

TEST(GrpcTimeout, MalformedValuesAreIgnored) {
  for (std::string_view bad : {"", "S", "10", "10s", "123456789S", "-1S", "1.5S", " 1S", "1 S"}) {
    EXPECT_EQ(grpc::parse_timeout(bad), std::nullopt) << bad;
  }
}

TEST(GrpcErrors, TrailersOnlyAnswerCarriesStatusAndEncodedMessage) {
  http::Response r = grpc::error_response(grpc::Status::kUnavailable, "no backend: 100% down\n");
  EXPECT_EQ(r.head.status, 200);
  EXPECT_EQ(r.head.headers.get("content-type"), "application/grpc");
  EXPECT_EQ(r.head.headers.get("grpc-status"), "14");
  EXPECT_EQ(r.head.headers.get("grpc-message"), "no backend: 100%25 down%0A");
  EXPECT_TRUE(r.body.is_empty());
}

TEST(GrpcErrors, MessageEncodingKeepsPrintableAscii) {
  EXPECT_EQ(grpc::percent_encode_message("Hello, world! ~"), "Hello, world! ~");
  EXPECT_EQ(grpc::percent_encode_message("caf\xc3\xa9"), "caf%C3%A9");
}

TEST(H2Fields, HeadOfTheHttp11PolicyBecomesHttp2Fields) {
  std::string head =
      "POST /api/x?y=1 HTTP/1.1\r\n"
      "Host: backend:80\r\n"
      "Content-Type: application/grpc\r\n"
      "X-Forwarded-For: 10.0.0.1, 127.0.0.1\r\n"
      "Via: 2 rws\r\n"
      "Expect: 100-continue\r\n"
      "Content-Length: 5\r\n"
      "Transfer-Encoding: chunked\r\n"
      "Connection: upgrade\r\n"
      "\r\n";
  auto fields = multiplexed_fields_from_head(head, true);
  using Pair = std::pair<std::string_view, std::string_view>;
  EXPECT_EQ(fields, (std::vector<Pair>{{"content-type", "application/grpc"},
                                       {"x-forwarded-for", "10.0.0.1, 127.0.0.1"},
                                       {"via", "2 rws"},
                                       {"te", "trailers"}}));
}

TEST(H2Fields, NoTeWithoutTrailersAsked) {
  std::string head = "GET / HTTP/1.1\r\nHost: b\r\nAccept: */*\r\n\r\n";
  auto fields = multiplexed_fields_from_head(head, false);
  ASSERT_EQ(fields.size(), 1u);
  EXPECT_EQ(fields[0].first, "accept");
}

}  // namespace
}  // namespace rws::proxy
