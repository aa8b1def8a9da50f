#include "l4/tcp_splice.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <string>
#include <thread>

#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/write.hpp>

namespace rws::l4 {
namespace {

using asio::ip::tcp;

// Two connected loopback sockets; the first is used blocking by the test, the second is handed
// to the splice.
std::pair<tcp::socket, tcp::socket> connected_pair(asio::io_context& io) {
  tcp::acceptor acceptor(io, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket outside(io);
  outside.connect(acceptor.local_endpoint());
  tcp::socket inside = acceptor.accept();
  return {std::move(outside), std::move(inside)};
}

// Reads until EOF (or an error, which also ends the stream for the test).
std::string read_all(tcp::socket& s) {
  std::string out;
  char buffer[4096];
  for (;;) {
    std::error_code ec;
    std::size_t n = s.read_some(asio::buffer(buffer), ec);
    out.append(buffer, n);
    if (ec) return out;
  }
}

// client ⇄ [splice] ⇄ backend, with the io_context run by its own thread until the splice ends
// (it is the only work, so run() returns when the pair is done).
struct Spliced {
  explicit Spliced(std::chrono::seconds idle) {
    auto [c, front] = connected_pair(io);
    auto [back, b] = connected_pair(io);
    client = std::move(c);
    backend = std::move(b);
    close = splice(std::move(front), std::move(back), idle, counters, [this] { finished = true; });
    thread = std::thread([this] { io.run(); });
  }
  ~Spliced() {
    if (thread.joinable()) thread.join();
  }
  void wait_done() { thread.join(); }

  asio::io_context io;
  tcp::socket client{io};
  tcp::socket backend{io};
  std::shared_ptr<SpliceCounters> counters = std::make_shared<SpliceCounters>();
  CloseSplice close;
  std::atomic<bool> finished{false};
  std::thread thread;
};

TEST(TcpSplice, HalfCloseIsPassedOnAndTheOtherDirectionKeepsGoing) {
  Spliced s(std::chrono::seconds(60));
  asio::write(s.client, asio::buffer(std::string(200000, 'c')));
  s.client.shutdown(tcp::socket::shutdown_send);
  // The backend sees all of it, then EOF, and can still answer.
  EXPECT_EQ(read_all(s.backend), std::string(200000, 'c'));
  asio::write(s.backend, asio::buffer(std::string(300000, 'b')));
  s.backend.shutdown(tcp::socket::shutdown_send);
  EXPECT_EQ(read_all(s.client), std::string(300000, 'b'));
  s.wait_done();
  EXPECT_TRUE(s.finished);
  EXPECT_EQ(s.counters->a_to_b, 200000u);
  EXPECT_EQ(s.counters->b_to_a, 300000u);
}

TEST(TcpSplice, CloseHandleClosesBothSidesAndDoesNothingAfterTheEnd) {
  Spliced s(std::chrono::seconds(60));
  asio::write(s.client, asio::buffer(std::string("ping")));
  char got[4];
  asio::read(s.backend, asio::buffer(got));
  asio::post(s.io, s.close);
  EXPECT_EQ(read_all(s.client), "");
  EXPECT_EQ(read_all(s.backend), "");
  s.wait_done();
  EXPECT_TRUE(s.finished);
  s.close();  // the pair is gone: no effect, no crash
}

TEST(TcpSplice, IdleTimeoutClosesBothSides) {
  Spliced s(std::chrono::seconds(1));
  asio::write(s.client, asio::buffer(std::string("ping")));
  char got[4];
  asio::read(s.backend, asio::buffer(got));
  // Then nothing moves: both sides are closed by the splice.
  EXPECT_EQ(read_all(s.client), "");
  EXPECT_EQ(read_all(s.backend), "");
  s.wait_done();
  EXPECT_TRUE(s.finished);
}

TEST(TcpSplice, ResetOnOneSideClosesTheOther) {
  Spliced s(std::chrono::seconds(60));
  s.backend.set_option(asio::socket_base::linger(true, 0));
  s.backend.close();  // RST towards the splice
  EXPECT_EQ(read_all(s.client), "");
  s.wait_done();
  EXPECT_TRUE(s.finished);
}

}  // namespace
}  // namespace rws::l4
