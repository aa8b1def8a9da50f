#pragma once
// Answering a WebSocket upgrade request (RFC 6455 §4.2.2): the handshake check, the subprotocol
// and permessage-deflate negotiation, and the 101 response whose upgrade handler runs a Session.

#include <rws/app/websocket.hpp>
#include <rws/http/message_head.hpp>
#include <rws/http/response.hpp>

namespace rws::ws {

// 101 with Sec-WebSocket-Accept (and Sec-WebSocket-Protocol / -Extensions when agreed), or the
// error the handshake check names: 405 with Allow: GET, 426 with Sec-WebSocket-Version: 13, 400.
http::Response accept_upgrade(const http::RequestHead& head, WebSocketHandler handler,
                              const WebSocketOptions& options);

// The first of `supported` that the Sec-WebSocket-Protocol values `offered` (comma-joined)
// list; "" if none.
std::string choose_subprotocol(std::string_view offered, const std::vector<std::string>& supported);

}  // namespace rws::ws
