// ws_echo_load: a WebSocket echo load generator for bench/ws_echo.py.
//
//   ws_echo_load HOST PORT PATH CONNECTIONS SECONDS MESSAGE_BYTES
//
// Opens CONNECTIONS WebSocket connections (RFC 6455 handshake, no extensions), then on each one,
// for SECONDS, sends a masked binary message of MESSAGE_BYTES and waits for its echo before the
// next (closed loop). Prints one JSON line: messages echoed per second, and the p50/p99 round-trip
// latency in milliseconds. One thread, Asio coroutines; the frame codec is rws's own (client role).

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/read_until.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "ws/frame_parser.hpp"
#include "ws/frame_writer.hpp"

namespace {

using Clock = std::chrono::steady_clock;

struct Settings {
  std::string host;
  std::string port;
  std::string path;
  int connections = 0;
  std::chrono::seconds duration{0};
  std::size_t message_bytes = 0;
};

struct Totals {
  std::vector<double> latencies_ms;
  std::uint64_t messages = 0;
  int failed = 0;
};

asio::awaitable<void> run_connection(const Settings& s, Clock::time_point end, Totals& totals) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  asio::ip::tcp::socket socket(executor);
  try {
    auto endpoints = co_await resolver.async_resolve(s.host, s.port, asio::use_awaitable);
    co_await asio::async_connect(socket, endpoints, asio::use_awaitable);
    socket.set_option(asio::ip::tcp::no_delay(true));
    std::string request = "GET " + s.path + " HTTP/1.1\r\nHost: " + s.host + ":" + s.port +
                          "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                          "Sec-WebSocket-Version: 13\r\n\r\n";
    co_await asio::async_write(socket, asio::buffer(request), asio::use_awaitable);
    std::string input;
    const std::size_t head_end = co_await asio::async_read_until(
        socket, asio::dynamic_buffer(input), "\r\n\r\n", asio::use_awaitable);
    if (input.compare(0, 12, "HTTP/1.1 101") != 0) throw std::runtime_error(input.substr(0, 40));
    input.erase(0, head_end);

    std::mt19937 rng(std::random_device{}());
    const std::string payload(s.message_bytes, 'x');
    rws::ws::ParserOptions options;
    options.role = rws::ws::Role::kClient;
    rws::ws::FrameParser parser(options);
    std::vector<char> buffer(64 * 1024);
    while (Clock::now() < end) {
      rws::ws::MaskKey key;
      const std::uint32_t bits = rng();
      for (int i = 0; i < 4; ++i)
        key[i] = static_cast<std::uint8_t>(bits >> (8 * i));
      const std::string frame = rws::ws::frame(rws::ws::Opcode::kBinary, payload, true, key);
      const Clock::time_point sent = Clock::now();
      co_await asio::async_write(socket, asio::buffer(frame), asio::use_awaitable);
      bool echoed = false;
      while (!echoed) {
        std::size_t consumed = 0;
        const auto status = parser.parse(input, consumed);
        if (status == rws::ws::FrameParser::Status::kError) throw std::runtime_error("bad frame");
        // The event's views point into `input`: look at it before dropping the bytes.
        if (status == rws::ws::FrameParser::Status::kEvent &&
            parser.event().kind == rws::ws::Event::Kind::kBinary) {
          echoed = true;
        }
        input.erase(0, consumed);
        if (status == rws::ws::FrameParser::Status::kEvent) continue;
        const std::size_t n =
            co_await socket.async_read_some(asio::buffer(buffer), asio::use_awaitable);
        input.append(buffer.data(), n);
      }
      totals.latencies_ms.push_back(
          std::chrono::duration<double, std::milli>(Clock::now() - sent).count());
      ++totals.messages;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "ws_echo_load: connection failed: %s\n", e.what());
    ++totals.failed;
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: ws_echo_load HOST PORT PATH CONNECTIONS SECONDS MESSAGE_BYTES\n");
    return 1;
  }
  Settings s{argv[1],
             argv[2],
             argv[3],
             std::atoi(argv[4]),
             std::chrono::seconds(std::atoi(argv[5])),
             static_cast<std::size_t>(std::atoll(argv[6]))};
  asio::io_context io(1);
  Totals totals;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + s.duration;
  for (int i = 0; i < s.connections; ++i)
    asio::co_spawn(io, run_connection(s, end, totals), asio::detached);
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  std::sort(totals.latencies_ms.begin(), totals.latencies_ms.end());
  auto percentile = [&](double p) {
    if (totals.latencies_ms.empty()) return 0.0;
    return totals.latencies_ms[static_cast<std::size_t>(p * (totals.latencies_ms.size() - 1))];
  };
  std::printf(
      "{\"messages_per_second\": %.0f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"messages\": %llu, "
      "\"failed_connections\": %d}\n",
      totals.messages / seconds, percentile(0.50), percentile(0.99),
      static_cast<unsigned long long>(totals.messages), totals.failed);
  return totals.failed == 0 ? 0 : 2;
}
