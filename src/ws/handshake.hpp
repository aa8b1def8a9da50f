#pragma once
// The server side of the WebSocket opening handshake (RFC 6455 §4.2): checking a client's
// upgrade request and computing Sec-WebSocket-Accept.

#include <cstdint>
#include <string>
#include <string_view>

#include <rws/http/message_head.hpp>

namespace rws::ws {

// base64(SHA-1(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")), the Sec-WebSocket-Accept value.
std::string accept_key(std::string_view sec_websocket_key);

enum class HandshakeProblem : std::uint8_t {
  kNone,
  kNotGet,             // method is not GET → 405
  kOldHttpVersion,     // below HTTP/1.1 → 400
  kNoUpgradeToken,     // Upgrade does not list "websocket" → 400
  kNoConnectionToken,  // Connection does not list "upgrade" → 400
  kBadVersion,         // Sec-WebSocket-Version is not 13 → 426 with "Sec-WebSocket-Version: 13"
  kBadKey,             // Sec-WebSocket-Key missing, repeated or not base64 of 16 bytes → 400
};

struct HandshakeCheck {
  HandshakeProblem problem = HandshakeProblem::kNone;
  int status = 101;         // what to answer with
  std::string_view reason;  // short and static, for logs and bodies
};

// The first problem of an HTTP/1.1 upgrade request, in the order listed above.
HandshakeCheck check_upgrade_request(const http::RequestHead& head);

}  // namespace rws::ws
