#include "ws/handshake.hpp"

#include <gtest/gtest.h>

namespace rws::ws {
namespace {

http::RequestHead valid_request() {
  http::RequestHead head;
  head.method = "GET";
  head.target = "/chat";
  head.version = 11;
  head.headers.add("Host", "server.example.com");
  head.headers.add("Upgrade", "websocket");
  head.headers.add("Connection", "keep-alive, Upgrade");
  head.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  head.headers.add("Sec-WebSocket-Version", "13");
  return head;
}

HandshakeProblem problem_with(const std::string& name, const std::string& value) {
  http::RequestHead head = valid_request();
  head.headers.remove(name);
  if (!value.empty()) head.headers.add(name, value);
  return check_upgrade_request(head).problem;
}

TEST(AcceptKey, MatchesTheRfcExample) {
  EXPECT_EQ(accept_key("dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST(CheckUpgradeRequest, AcceptsTheRfcRequest) {
  HandshakeCheck c = check_upgrade_request(valid_request());
  EXPECT_EQ(c.problem, HandshakeProblem::kNone);
  EXPECT_EQ(c.status, 101);
}

TEST(CheckUpgradeRequest, TokensAreCaseInsensitive) {
  EXPECT_EQ(problem_with("Upgrade", "WebSocket"), HandshakeProblem::kNone);
  EXPECT_EQ(problem_with("Connection", "UPGRADE"), HandshakeProblem::kNone);
}

TEST(CheckUpgradeRequest, RejectsOtherMethods) {
  http::RequestHead head = valid_request();
  head.method = "POST";
  HandshakeCheck c = check_upgrade_request(head);
  EXPECT_EQ(c.problem, HandshakeProblem::kNotGet);
  EXPECT_EQ(c.status, 405);
}

TEST(CheckUpgradeRequest, RejectsHttp10) {
  http::RequestHead head = valid_request();
  head.version = 10;
  EXPECT_EQ(check_upgrade_request(head).problem, HandshakeProblem::kOldHttpVersion);
}

TEST(CheckUpgradeRequest, RejectsAMissingOrWrongUpgrade) {
  EXPECT_EQ(problem_with("Upgrade", ""), HandshakeProblem::kNoUpgradeToken);
  EXPECT_EQ(problem_with("Upgrade", "h2c"), HandshakeProblem::kNoUpgradeToken);
}

TEST(CheckUpgradeRequest, RejectsAConnectionWithoutUpgrade) {
  EXPECT_EQ(problem_with("Connection", ""), HandshakeProblem::kNoConnectionToken);
  EXPECT_EQ(problem_with("Connection", "keep-alive"), HandshakeProblem::kNoConnectionToken);
  EXPECT_EQ(problem_with("Connection", "upgraded"), HandshakeProblem::kNoConnectionToken);
}

TEST(CheckUpgradeRequest, RejectsOtherVersionsWith426) {
  EXPECT_EQ(problem_with("Sec-WebSocket-Version", ""), HandshakeProblem::kBadVersion);
  EXPECT_EQ(problem_with("Sec-WebSocket-Version", "8"), HandshakeProblem::kBadVersion);
  http::RequestHead head = valid_request();
  head.headers.add("Sec-WebSocket-Version", "13");
  HandshakeCheck c = check_upgrade_request(head);
  EXPECT_EQ(c.problem, HandshakeProblem::kBadVersion);
  EXPECT_EQ(c.status, 426);
}

TEST(CheckUpgradeRequest, RejectsKeysThatAreNot16Base64Bytes) {
  EXPECT_EQ(problem_with("Sec-WebSocket-Key", ""), HandshakeProblem::kBadKey);
  EXPECT_EQ(problem_with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ"), HandshakeProblem::kBadKey);
  EXPECT_EQ(problem_with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=x"),
            HandshakeProblem::kBadKey);
  EXPECT_EQ(problem_with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25j*Q=="),
            HandshakeProblem::kBadKey);
  // 17 bytes encoded; and a non-canonical last character.
  EXPECT_EQ(problem_with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZTE="),
            HandshakeProblem::kBadKey);
  EXPECT_EQ(problem_with("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZR=="),
            HandshakeProblem::kBadKey);
  http::RequestHead head = valid_request();
  head.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_EQ(check_upgrade_request(head).problem, HandshakeProblem::kBadKey);
}

}  // namespace
}  // namespace rws::ws
