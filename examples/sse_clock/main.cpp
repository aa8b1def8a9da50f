// Server-Sent Events: a clock. GET / is a page that shows it; GET /clock is the event stream.
//
//   /clock?interval_ms=1000&count=N   one event per interval (N events, default unlimited);
//                                     each has an id, and a reconnecting client (Last-Event-ID)
//                                     continues from the next one.

#include <chrono>
#include <cstdlib>
#include <string>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/rws.hpp>

namespace {

constexpr const char* kPage = R"(<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>rws clock</title></head>
<body><h1 id="clock">connecting…</h1>
<script>
const source = new EventSource("/clock");
source.addEventListener("tick", e => {
  document.getElementById("clock").textContent = new Date(Number(e.data)).toISOString();
});
</script></body></html>
)";

}  // namespace

int main(int argc, char** argv) {
  rws::App app;
  app.get("/", [](rws::Context&) { return rws::html(kPage); });
  app.get("/clock", [](rws::Context& ctx) {
    auto interval = std::chrono::milliseconds(ctx.query_as<int>("interval_ms").value_or(1000));
    std::uint64_t count = ctx.query_as<std::uint64_t>("count").value_or(0);
    return rws::sse(ctx, [interval, count](rws::SseStream& events) -> asio::awaitable<void> {
      std::uint64_t next = 0;
      if (auto last = rws::parse_value<std::uint64_t>(events.last_event_id())) next = *last + 1;
      asio::steady_timer timer(co_await asio::this_coro::executor);
      for (std::uint64_t sent = 0; count == 0 || sent < count; ++sent, ++next) {
        auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
        rws::SseEvent tick{std::to_string(now), "tick", std::to_string(next), {}};
        bool open = co_await events.send(tick);
        if (!open) co_return;  // the client went away
        timer.expires_after(interval);
        co_await timer.async_wait(asio::use_awaitable);
      }
    });
  });

  rws::server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  return rws::run(app, options);
}
