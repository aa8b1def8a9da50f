#include <stdexcept>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/app/sse.hpp>

namespace rws {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

void check_line(std::string_view value, const char* what) {
  if (value.find_first_of("\r\n") != std::string_view::npos) {
    throw std::invalid_argument(std::string("SSE ") + what + " must not contain CR or LF");
  }
}

// Sends a comment whenever the interval passed without anything being sent; ends when the
// client is gone (or when cancelled because the producer finished).
asio::awaitable<void> heartbeat(SseStream& stream, std::chrono::milliseconds interval) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  for (;;) {
    timer.expires_after(interval);
    auto [ec] = co_await timer.async_wait(kUseTuple);
    if (ec || stream.closed()) co_return;
    // offer() never waits: when the buffer is full, data is flowing and no heartbeat is needed.
    if (!stream.take_activity()) stream.writer().offer(": heartbeat\n\n");
  }
}

}  // namespace

std::string format_sse_event(const SseEvent& event) {
  check_line(event.event, "event");
  check_line(event.id, "id");
  std::string out;
  if (!event.event.empty()) out += "event: " + event.event + "\n";
  if (!event.id.empty()) out += "id: " + event.id + "\n";
  if (event.retry) out += "retry: " + std::to_string(event.retry->count()) + "\n";
  // Every line of the data (split at CRLF, CR or LF) becomes its own "data:" field.
  std::string_view data = event.data;
  for (;;) {
    std::size_t end = data.find_first_of("\r\n");
    out += "data: ";
    out += data.substr(0, end);
    out += '\n';
    if (end == std::string_view::npos) break;
    std::size_t skip =
        (data[end] == '\r' && end + 1 < data.size() && data[end + 1] == '\n') ? 2 : 1;
    data.remove_prefix(end + skip);
  }
  out += '\n';
  return out;
}

asio::awaitable<bool> SseStream::emit(std::string text) {
  active_ = true;
  co_return co_await writer_.write(text);
}

// (Every argument of a co_await is a named variable: g++ 12 mishandles class-type temporaries
// in a co_await full-expression.)
asio::awaitable<bool> SseStream::send(const SseEvent& event) {
  std::string text = format_sse_event(event);
  co_return co_await emit(std::move(text));
}

asio::awaitable<bool> SseStream::send(std::string_view data) {
  SseEvent event;
  event.data = data;
  std::string text = format_sse_event(event);
  co_return co_await emit(std::move(text));
}

asio::awaitable<bool> SseStream::comment(std::string_view text) {
  check_line(text, "comment");
  std::string line = ": " + std::string(text) + "\n\n";
  co_return co_await emit(std::move(line));
}

http::Response sse(Context& context, SseProducer producer, std::chrono::milliseconds interval) {
  std::string last_event_id(context.header("last-event-id"));
  http::Response r = stream(
      [producer = std::move(producer), last_event_id = std::move(last_event_id),
       interval](StreamWriter& writer) -> asio::awaitable<void> {
        using namespace asio::experimental::awaitable_operators;
        SseStream events(writer, last_event_id);
        // The producer and the heartbeat run together; whichever ends first cancels the other.
        co_await (producer(events) || heartbeat(events, interval));
      },
      "text/event-stream");
  r.head.headers.add("Cache-Control", "no-cache");
  r.head.headers.add("X-Accel-Buffering", "no");
  return r;
}

}  // namespace rws
