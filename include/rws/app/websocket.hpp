#pragma once
// WebSocket endpoints (RFC 6455, permessage-deflate RFC 7692) over HTTP/1.1.
//
//   app.ws("/echo", [](rws::WebSocket& ws) -> asio::awaitable<void> {
//     while (auto message = co_await ws.receive()) {
//       if (!co_await ws.send(*message)) break;
//     }
//   });
//
// or, to use the request (route parameters, query, cookies) before the connection starts:
//
//   app.get("/rooms/:room", [](rws::Context& ctx) {
//     std::string room(ctx.param("room"));
//     return rws::websocket(ctx, [room](rws::WebSocket& ws) -> asio::awaitable<void> { ... });
//   });
//
// The handshake: a request that is not a valid upgrade gets the status the check names (405 for
// a method other than GET, 426 with "Sec-WebSocket-Version: 13" for another version, 400
// otherwise); a valid one gets 101 with Sec-WebSocket-Accept, the subprotocol chosen (the first
// of `options.subprotocols` the client offered) and permessage-deflate when both sides want it.
//
// The connection: the handler runs once the 101 is sent. A reader answers pings and the closing
// handshake by itself and hands whole data messages to receive() through a slot holding one
// message: while the slot is full it stops reading the socket, so a handler that does not
// receive slows the client down instead of buffering (pings then wait too). Sends complete when
// the transport took the frame: a client that stops reading blocks the sender, nothing queues.
//
// Closing: when the handler returns, the connection closes with 1000 if it is still open (1011
// if the handler threw). close() sends a close frame; the peer's answer is awaited at most
// `close_timeout`, then the TCP connection is closed. A protocol violation by the peer closes
// with the codec's code (1002, 1007 for invalid UTF-8 or compressed data, 1009 for a frame or
// message over the limits) without waiting for an answer. A draining server (graceful shutdown)
// closes with 1001. Keep-alive: when nothing was received
// for `ping_interval`, a ping is sent; when nothing arrives within `pong_timeout` after it, the
// peer is considered gone and the connection is dropped without a close frame (close_code()
// 1006), since a peer that does not answer pings would not answer a close frame either.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>

#include <rws/http/message_head.hpp>
#include <rws/http/response.hpp>

namespace rws {

class Context;

struct WebSocketOptions {
  std::size_t max_message_size = 16 << 20;  // bytes of a received message (inflated) → 1009
  std::size_t max_frame_size = 16 << 20;    // payload bytes of a received frame → 1009
  std::chrono::milliseconds ping_interval{30'000};  // 0: no keep-alive pings
  std::chrono::milliseconds pong_timeout{30'000};
  std::chrono::milliseconds close_timeout{5'000};  // waiting for the peer's close frame
  // Subprotocols the endpoint speaks, preferred first; the first one the client offers is
  // chosen. Empty, or none offered: no Sec-WebSocket-Protocol in the answer.
  std::vector<std::string> subprotocols;
  bool permessage_deflate = true;  // accept the client's permessage-deflate offer
};

struct WebSocketMessage {
  enum class Type : std::uint8_t { kText, kBinary };
  Type type = Type::kText;
  std::string data;  // kText: valid UTF-8

  bool text() const noexcept { return type == Type::kText; }
};

// One WebSocket connection, handed to the handler. Use it from the handler's coroutine (the
// connection's executor); one receive() and one send at a time.
class WebSocket {
 public:
  virtual ~WebSocket() = default;

  // The next whole message; nullopt once the connection is closing or closed and the messages
  // received before that have been handed out.
  virtual asio::awaitable<std::optional<WebSocketMessage>> receive() = 0;
  // False when the message could not be sent (the connection is closing or failed). Text that
  // is not valid UTF-8 is refused with std::invalid_argument.
  virtual asio::awaitable<bool> send_text(std::string_view text) = 0;
  virtual asio::awaitable<bool> send_binary(std::string_view data) = 0;
  asio::awaitable<bool> send(const WebSocketMessage& message) {
    return message.text() ? send_text(message.data) : send_binary(message.data);
  }
  // Starts the closing handshake with `code` (1000–1003, 1007–1014, 3000–4999, else
  // std::invalid_argument) and `reason` (cut to 123 bytes). No effect once closing.
  virtual asio::awaitable<void> close(std::uint16_t code = 1000, std::string_view reason = {}) = 0;

  // nullopt while open; then the peer's close code (1005 when its close frame had none), the
  // code we closed with when we closed first or failed the connection, or 1006 when the
  // connection ended without a closing handshake.
  virtual std::optional<std::uint16_t> close_code() const noexcept = 0;
  // The chosen subprotocol, "" if none.
  virtual const std::string& subprotocol() const noexcept = 0;
  // The negotiated Sec-WebSocket-Extensions value, "" if none.
  virtual const std::string& extensions() const noexcept = 0;
  // The upgrade request's head (path, query, header fields).
  virtual const http::RequestHead& request() const noexcept = 0;
};

using WebSocketHandler = std::function<asio::awaitable<void>(WebSocket&)>;

// The answer to a WebSocket upgrade request: 101 running `handler`, or the handshake's error.
http::Response websocket(Context& context, WebSocketHandler handler, WebSocketOptions options = {});

}  // namespace rws
