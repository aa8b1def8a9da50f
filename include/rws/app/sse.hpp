#pragma once
// Server-Sent Events (text/event-stream, WHATWG HTML §9.2).
//
//   app.get("/events", [](rws::Context& ctx) {
//     return rws::sse(ctx, [](rws::SseStream& events) -> asio::awaitable<void> {
//       for (int i = 0; co_await events.send({.data = std::to_string(i), .id = ...}); ++i) ...
//     });
//   });
//
// The producer runs while the client stays connected; send() returns false once it has gone. A
// heartbeat comment is sent whenever nothing else was sent for the heartbeat interval, so idle
// proxies keep the connection open and a vanished client is noticed.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include <rws/app/context.hpp>
#include <rws/app/response.hpp>

namespace rws {

struct SseEvent {
  std::string data;   // may span lines; each becomes a "data:" line
  std::string event;  // event type; empty: "message"
  std::string id;     // becomes the client's Last-Event-ID
  std::optional<std::chrono::milliseconds> retry;
};

class SseStream {
 public:
  SseStream(StreamWriter& writer, std::string last_event_id)
      : writer_(writer), last_event_id_(std::move(last_event_id)) {}

  // CR/LF inside `event` or `id` would break the framing: they are refused with
  // std::invalid_argument.
  asio::awaitable<bool> send(const SseEvent& event);
  asio::awaitable<bool> send(std::string_view data);
  asio::awaitable<bool> comment(std::string_view text);
  // The Last-Event-ID the client sent when it reconnected ("" on a first connection).
  const std::string& last_event_id() const noexcept { return last_event_id_; }
  bool closed() const noexcept { return writer_.closed(); }

  // Used by the heartbeat: whether anything was sent since the last call.
  bool take_activity() noexcept { return std::exchange(active_, false); }
  StreamWriter& writer() noexcept { return writer_; }

 private:
  asio::awaitable<bool> emit(std::string text);

  StreamWriter& writer_;
  std::string last_event_id_;
  bool active_ = false;
};

using SseProducer = std::function<asio::awaitable<void>(SseStream&)>;

http::Response sse(Context& context, SseProducer producer,
                   std::chrono::milliseconds heartbeat = std::chrono::seconds(15));

// One event in the wire format (exposed for tests).
std::string format_sse_event(const SseEvent& event);

}  // namespace rws
