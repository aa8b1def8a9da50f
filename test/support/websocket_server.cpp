// rws-ws-test-server: WebSocket endpoints of the App framework, for the integration tests.
//
//   rws-ws-test-server PORT [IDLE_TIMEOUT_MS [CERT_PEM KEY_PEM]]
//
// With a certificate and key it serves HTTPS and HTTP/3 (where only the plain routes answer:
// WebSocket over HTTP/3 does not exist here).
//
// Routes:
//   /echo                  sends every message back (text as text, binary as binary)
//   /nodeflate             the same, permessage-deflate switched off
//   /chat                  subprotocols "chat.v2", "chat.v1" (preferred first); sends
//                          "subprotocol=<chosen>" first, then echoes
//   /small                 echo with max_message_size 1024 (→ 1009 beyond)
//   /close?code=N&reason=R closes at once with code N; waits 500 ms at most for the answer
//   /throw                 the handler throws after the first message (→ 1011)
//   /keepalive             echo, pinging after 200 ms of silence; 300 ms to answer
//   /quiet                 echo without keep-alive pings (only the server's idle timeout)
//   /collect?delay_ms=N    waits N ms, then receives until the connection closes, counting the
//                          messages
//   /flood?size=N          sends binary messages of N bytes until a send fails
//   GET /stats             "flood_sent=<messages sent by /flood> collected=<messages /collect
//                          received> closed=<code>": `closed` is the
//                          close_code() of the last connection that ended (0: none yet)

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/rws.hpp>

namespace {

std::atomic<std::uint64_t> flood_sent{0};
std::atomic<std::uint64_t> collected{0};
std::atomic<int> last_close_code{0};

void remember_close(const rws::WebSocket& ws) {
  last_close_code = ws.close_code().value_or(0);
}

asio::awaitable<void> echo(rws::WebSocket& ws) {
  for (;;) {
    std::optional<rws::WebSocketMessage> message = co_await ws.receive();
    if (!message) break;
    bool sent = co_await ws.send(*message);
    if (!sent) break;
  }
}

// Records how the connection ended once the handler's work is done and the closing handshake
// has run (close_code() is final after receive() returned nullopt).
rws::WebSocketHandler recorded(rws::WebSocketHandler handler) {
  return [handler](rws::WebSocket& ws) -> asio::awaitable<void> {
    co_await handler(ws);
    // Wait for the end of the connection (a close frame or the transport) before recording.
    for (;;) {
      std::optional<rws::WebSocketMessage> rest = co_await ws.receive();
      if (!rest) break;
    }
    remember_close(ws);
  };
}

}  // namespace

int main(int argc, char** argv) {
  using namespace std::chrono_literals;
  rws::App app;

  app.ws("/echo", recorded(echo));

  rws::WebSocketOptions no_deflate;
  no_deflate.permessage_deflate = false;
  app.ws("/nodeflate", recorded(echo), no_deflate);

  rws::WebSocketOptions chat;
  chat.subprotocols = {"chat.v2", "chat.v1"};
  app.ws(
      "/chat",
      [](rws::WebSocket& ws) -> asio::awaitable<void> {
        std::string hello = "subprotocol=" + ws.subprotocol();
        if (co_await ws.send_text(hello)) co_await echo(ws);
      },
      chat);

  rws::WebSocketOptions small;
  small.max_message_size = 1024;
  small.max_frame_size = 1024;
  app.ws("/small", recorded(echo), small);

  app.get("/close", [](rws::Context& ctx) {
    auto code = static_cast<std::uint16_t>(ctx.query_as<int>("code").value_or(1000));
    std::string reason(ctx.query().get("reason").value_or(""));
    rws::WebSocketOptions options;
    options.close_timeout = 500ms;
    return rws::websocket(ctx,
                          recorded([code, reason](rws::WebSocket& ws) -> asio::awaitable<void> {
                            co_await ws.close(code, reason);
                          }),
                          options);
  });

  app.ws("/throw", [](rws::WebSocket& ws) -> asio::awaitable<void> {
    co_await ws.receive();
    throw std::runtime_error("handler failure (expected by the test)");
  });

  rws::WebSocketOptions keepalive;
  keepalive.ping_interval = 200ms;
  keepalive.pong_timeout = 300ms;
  app.ws("/keepalive", recorded(echo), keepalive);

  rws::WebSocketOptions quiet;
  quiet.ping_interval = 0ms;
  app.ws("/quiet", recorded(echo), quiet);

  app.get("/collect", [](rws::Context& ctx) {
    auto delay = std::chrono::milliseconds(ctx.query_as<int>("delay_ms").value_or(0));
    return rws::websocket(ctx, recorded([delay](rws::WebSocket& ws) -> asio::awaitable<void> {
                            // A handler slower than the client: messages wait in the slot.
                            asio::steady_timer timer(co_await asio::this_coro::executor, delay);
                            co_await timer.async_wait(asio::use_awaitable);
                            for (;;) {
                              std::optional<rws::WebSocketMessage> message = co_await ws.receive();
                              if (!message) break;
                              ++collected;
                            }
                          }));
  });

  app.get("/flood", [](rws::Context& ctx) {
    std::size_t size = ctx.query_as<std::size_t>("size").value_or(1 << 20);
    rws::WebSocketOptions options;
    options.permessage_deflate = false;
    return rws::websocket(ctx, recorded([size](rws::WebSocket& ws) -> asio::awaitable<void> {
                            std::string payload(size, 'f');
                            for (;;) {
                              bool sent = co_await ws.send_binary(payload);
                              if (!sent) break;
                              ++flood_sent;
                            }
                          }),
                          options);
  });

  app.get("/stats", [](rws::Context&) {
    return rws::text("flood_sent=" + std::to_string(flood_sent.load()) +
                     " collected=" + std::to_string(collected.load()) +
                     " closed=" + std::to_string(last_close_code.load()) + "\n");
  });

  rws::server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 0);
  options.thread_count = 1;
  if (argc > 2) options.idle_timeout = std::chrono::milliseconds(std::atoi(argv[2]));
  if (argc > 4) {
    options.tls.cert_file = argv[3];
    options.tls.key_file = argv[4];
  }
  return rws::run(app, options);
}
