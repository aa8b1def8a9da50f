#include "ws/upgrade.hpp"

#include <gtest/gtest.h>

namespace rws::ws {
namespace {

http::RequestHead upgrade_request() {
  http::RequestHead head;
  head.method = "GET";
  head.target = head.path = "/chat";
  head.version = 11;
  head.headers.add("Host", "server.example.com");
  head.headers.add("Upgrade", "websocket");
  head.headers.add("Connection", "Upgrade");
  head.headers.add("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==");
  head.headers.add("Sec-WebSocket-Version", "13");
  return head;
}

WebSocketHandler noop() {
  return [](WebSocket&) -> asio::awaitable<void> { co_return; };
}

TEST(AcceptUpgrade, AnswersTheRfcExampleWith101AndAnUpgradeHandler) {
  http::Response r = accept_upgrade(upgrade_request(), noop(), {});
  EXPECT_EQ(r.head.status, 101);
  EXPECT_EQ(r.head.headers.get("upgrade"), "websocket");
  EXPECT_EQ(r.head.headers.get("sec-websocket-accept"), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  EXPECT_FALSE(r.head.headers.contains("sec-websocket-protocol"));
  EXPECT_FALSE(r.head.headers.contains("sec-websocket-extensions"));
  EXPECT_TRUE(static_cast<bool>(r.upgrade));
}

TEST(AcceptUpgrade, ChoosesSubprotocolAndDeflateFromRepeatedFields) {
  http::RequestHead head = upgrade_request();
  head.headers.add("Sec-WebSocket-Protocol", "chat.v1");
  head.headers.add("Sec-WebSocket-Protocol", "chat.v2");
  head.headers.add("Sec-WebSocket-Extensions", "x-unknown");
  head.headers.add("Sec-WebSocket-Extensions", "permessage-deflate; server_no_context_takeover");
  WebSocketOptions options;
  options.subprotocols = {"chat.v2", "chat.v1"};
  http::Response r = accept_upgrade(head, noop(), options);
  EXPECT_EQ(r.head.headers.get("sec-websocket-protocol"), "chat.v2");
  EXPECT_EQ(r.head.headers.get("sec-websocket-extensions"),
            "permessage-deflate; server_no_context_takeover");
  options.permessage_deflate = false;
  r = accept_upgrade(head, noop(), options);
  EXPECT_FALSE(r.head.headers.contains("sec-websocket-extensions"));
}

TEST(AcceptUpgrade, RefusesBadRequestsWithTheCodecsStatus) {
  http::RequestHead head = upgrade_request();
  head.headers.remove("sec-websocket-version");
  head.headers.add("Sec-WebSocket-Version", "8");
  http::Response r = accept_upgrade(head, noop(), {});
  EXPECT_EQ(r.head.status, 426);
  EXPECT_EQ(r.head.headers.get("sec-websocket-version"), "13");
  EXPECT_FALSE(static_cast<bool>(r.upgrade));

  head = upgrade_request();
  head.method = "HEAD";
  r = accept_upgrade(head, noop(), {});
  EXPECT_EQ(r.head.status, 405);
  EXPECT_EQ(r.head.headers.get("allow"), "GET");

  head = upgrade_request();
  head.headers.remove("sec-websocket-key");
  EXPECT_EQ(accept_upgrade(head, noop(), {}).head.status, 400);

  head = upgrade_request();
  head.version = 20;  // HTTP/2 has no Upgrade
  head.headers.remove("upgrade");
  head.headers.remove("connection");
  EXPECT_EQ(accept_upgrade(head, noop(), {}).head.status, 400);
}

}  // namespace
}  // namespace rws::ws
