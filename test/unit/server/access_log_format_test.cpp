#include "server/access_log_format.hpp"

#include <gtest/gtest.h>

namespace rws::server {
namespace {

http::ExchangeRecord sample() {
  http::ExchangeRecord r;
  r.peer_address = "127.0.0.1";
  r.method = "GET";
  r.target = "/a?b=c";
  r.version = 11;
  r.referer = "";
  r.user_agent = "curl/7.88.1";
  r.status = 200;
  r.body_bytes = 13;
  r.start = std::chrono::system_clock::time_point(std::chrono::milliseconds(784111777123));
  r.duration = std::chrono::microseconds(1500);
  r.connection_id = 7;
  return r;
}

TEST(AccessLogFormat, Combined) {
  std::string out;
  append_combined(sample(), out);
  EXPECT_EQ(out,
            "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /a?b=c HTTP/1.1\" 200 13 \"-\" "
            "\"curl/7.88.1\"\n");
}

TEST(AccessLogFormat, CombinedEscapesClientBytes) {
  http::ExchangeRecord r = sample();
  r.user_agent = "evil\"\n127.0.0.1 - - fake\\ \xff";
  r.referer = "x";
  r.method = "-";
  std::string out;
  append_combined(r, out);
  EXPECT_EQ(out,
            "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"-\" 200 13 \"x\" "
            "\"evil\\\"\\x0a127.0.0.1 - - fake\\\\ \\xff\"\n");
}

TEST(AccessLogFormat, Json) {
  http::ExchangeRecord r = sample();
  r.user_agent = "a\"b\\\x01\xc3";
  std::string out;
  append_json(r, out);
  EXPECT_EQ(out,
            "{\"time\":\"1994-11-06T08:49:37.123Z\",\"remote_addr\":\"127.0.0.1\",\"method\":"
            "\"GET\",\"target\":\"/a?b=c\",\"protocol\":\"HTTP/1.1\",\"status\":200,"
            "\"bytes_sent\":13,\"duration_ms\":1.500,\"referer\":\"\",\"user_agent\":"
            "\"a\\\"b\\\\\\u0001\\u00c3\",\"connection_id\":7}\n");
}

}  // namespace
}  // namespace rws::server

namespace rws::server {
namespace {

http::ExchangeRecord proxied() {
  http::ExchangeRecord r = sample();
  r.target = "/api?user=1&access_token=abc";
  r.request_id = "req-42";
  r.route = "api";
  r.upstream_address = "127.0.0.1:9001";
  r.upstream_time = std::chrono::microseconds(2345);
  r.upstream_status = 200;
  r.duration = std::chrono::microseconds(3999);
  return r;
}

TEST(AccessLogFormat, CombinedWithGatewayFields) {
  std::string out;
  append_combined(proxied(), out);
  EXPECT_EQ(out,
            "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /api?user=1&access_token=REDACTED "
            "HTTP/1.1\" 200 13 \"-\" \"curl/7.88.1\" request_id=req-42 upstream=127.0.0.1:9001 "
            "upstream_time=0.002 request_time=0.003\n");
}

TEST(AccessLogFormat, CombinedWithOnlyARequestId) {
  http::ExchangeRecord r = sample();
  r.request_id = "a\"b";
  std::string out;
  append_combined(r, out);
  EXPECT_EQ(out,
            "127.0.0.1 - - [06/Nov/1994:08:49:37 +0000] \"GET /a?b=c HTTP/1.1\" 200 13 \"-\" "
            "\"curl/7.88.1\" request_id=a\\\"b request_time=0.001\n");
}

// The combined line is written into room computed up front: the longest line (every client
// byte escaped to four, the largest numbers and durations) must fit it exactly, after text that
// is already in the buffer.
TEST(AccessLogFormat, CombinedLongestLineAfterEarlierText) {
  const std::string ctl(50, '\x01');
  const std::string ctl_escaped = [&] {
    std::string e;
    for (std::size_t i = 0; i < ctl.size(); ++i)
      e += "\\x01";
    return e;
  }();
  const std::string target = "/" + ctl;  // the record holds views
  http::ExchangeRecord r = sample();
  r.peer_address = ctl;
  r.method = ctl;
  r.target = target;
  r.referer = ctl;
  r.user_agent = ctl;
  r.request_id = ctl;
  r.upstream_address = ctl;
  r.status = -1;
  r.body_bytes = UINT64_MAX;
  r.upstream_time = std::chrono::microseconds(INT64_MAX);
  r.duration = std::chrono::steady_clock::duration::max();
  std::string out = "earlier line\n";
  append_combined(r, out);
  const std::string max = "18446744073709551615";
  const std::string seconds = std::to_string(INT64_MAX / 1000000) + ".775";
  const auto duration_us = std::chrono::duration_cast<std::chrono::microseconds>(
                               std::chrono::steady_clock::duration::max())
                               .count();
  const std::string duration_seconds =
      std::to_string(duration_us / 1000000) + "." + std::to_string(duration_us % 1000000 / 1000);
  EXPECT_EQ(out, "earlier line\n" + ctl_escaped + " - - [06/Nov/1994:08:49:37 +0000] \"" +
                     ctl_escaped + " /" + ctl_escaped + " HTTP/1.1\" " + max + " " + max + " \"" +
                     ctl_escaped + "\" \"" + ctl_escaped + "\" request_id=" + ctl_escaped +
                     " upstream=" + ctl_escaped + " upstream_time=" + seconds +
                     " request_time=" + duration_seconds + "\n");
}

TEST(AccessLogFormat, JsonWithGatewayFields) {
  std::string out;
  append_json(proxied(), out);
  EXPECT_EQ(out,
            "{\"time\":\"1994-11-06T08:49:37.123Z\",\"remote_addr\":\"127.0.0.1\",\"method\":"
            "\"GET\",\"target\":\"/api?user=1&access_token=REDACTED\",\"protocol\":\"HTTP/1.1\","
            "\"status\":200,\"bytes_sent\":13,\"duration_ms\":3.999,\"referer\":\"\","
            "\"user_agent\":\"curl/7.88.1\",\"connection_id\":7,\"request_id\":\"req-42\","
            "\"route\":\"api\",\"upstream_addr\":\"127.0.0.1:9001\",\"upstream_time_ms\":2.345,"
            "\"upstream_status\":200}\n");
}

}  // namespace
}  // namespace rws::server
