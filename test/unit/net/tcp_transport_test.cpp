#include "net/tcp_transport.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <string>
#include <variant>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/io_context.hpp>
#include <asio/post.hpp>
#include <asio/read.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace rws::net {
namespace {

using namespace std::chrono_literals;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

// A connected pair on 127.0.0.1: `ours` wrapped in a TcpTransport, `peer` a plain socket.
class TcpTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    asio::ip::tcp::acceptor acceptor(io_, {asio::ip::make_address("127.0.0.1"), 0});
    asio::ip::tcp::socket client(io_);
    client.connect(acceptor.local_endpoint());
    peer_ = std::make_unique<asio::ip::tcp::socket>(acceptor.accept());
    ours_ = std::make_unique<TcpTransport>(std::move(client));
  }

  // Runs the coroutine `test` returns to completion; fails when it has not finished within a
  // few seconds (a read that never wakes up). co_spawn keeps the callable alive meanwhile.
  template <typename Test>
  void run(Test test) {
    bool finished = false;
    asio::co_spawn(
        io_,
        [&finished, test]() -> asio::awaitable<void> {
          co_await test();
          finished = true;
        },
        [](std::exception_ptr e) {
          if (e) std::rethrow_exception(e);
        });
    io_.run_for(5s);
    EXPECT_TRUE(finished) << "the exchange did not finish";
  }

  asio::awaitable<std::error_code> write(std::string_view text) {
    std::array<asio::const_buffer, 1> piece{asio::buffer(text)};
    co_return co_await ours_->write(piece);
  }

  asio::io_context io_{1};
  std::unique_ptr<asio::ip::tcp::socket> peer_;
  std::unique_ptr<TcpTransport> ours_;
};

// The peer reads `n` bytes, then answers `reply` (or closes when it is empty).
asio::awaitable<void> answer(asio::ip::tcp::socket& peer, std::size_t n, std::string reply) {
  std::vector<char> request(n);
  co_await asio::async_read(peer, asio::buffer(request), kUseTuple);
  if (reply.empty()) {
    peer.close();
    co_return;
  }
  co_await asio::async_write(peer, asio::buffer(reply), kUseTuple);
}

// The peer says "early", then reads `size` bytes: our write of that many, too big for the
// socket buffers, waits while the event loop takes in the peer's bytes, which no later
// readiness will announce.
asio::awaitable<void> speak_first_then_read(asio::ip::tcp::socket& peer, std::size_t size) {
  co_await asio::async_write(peer, asio::buffer(std::string_view("early")), kUseTuple);
  std::vector<char> all(size);
  co_await asio::async_read(peer, asio::buffer(all), kUseTuple);
}

TEST_F(TcpTransportTest, ReadReplyGetsTheAnswerToAWriteThatWentOutAtOnce) {
  asio::co_spawn(io_, answer(*peer_, 4, "pong"), asio::detached);
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write("ping"));
    std::array<char, 16> buffer{};
    auto [ec, n] = co_await ours_->read_reply(asio::buffer(buffer));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(std::string(buffer.data(), n), "pong");
  });
}

TEST_F(TcpTransportTest, ReadReplyReportsTheEndOfStream) {
  asio::co_spawn(io_, answer(*peer_, 4, ""), asio::detached);
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write("ping"));
    std::array<char, 16> buffer{};
    auto [ec, n] = co_await ours_->read_reply(asio::buffer(buffer));
    EXPECT_EQ(ec, asio::error::eof) << ec.message();
  });
}

TEST_F(TcpTransportTest, ReadReplySeesInputThatArrivedWhileTheWriteWaited) {
  // read_reply must still return the peer's early bytes (it reads at once after a write that
  // had to wait).
  const std::string big(16 << 20, 'x');
  asio::co_spawn(io_, speak_first_then_read(*peer_, big.size()), asio::detached);
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write(big));
    std::array<char, 16> buffer{};
    auto [ec, n] = co_await ours_->read_reply(asio::buffer(buffer));
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(std::string(buffer.data(), n), "early");
  });
}

TEST_F(TcpTransportTest, ReadReplyStopsWhenItsCancellationSlotIsSignalled) {
  // The peer never answers; the timer wins the race and the read must end too (the race waits
  // for both sides).
  run([&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    EXPECT_FALSE(co_await write("ping"));
    std::array<char, 16> buffer{};
    asio::steady_timer timer(io_, 20ms);
    auto result = co_await (ours_->read_reply(asio::buffer(buffer)) || timer.async_wait(kUseTuple));
    EXPECT_EQ(result.index(), 1u);
  });
}

TEST_F(TcpTransportTest, CancelAbortsAPendingReadReply) {
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write("ping"));
    asio::post(io_, [&] { ours_->cancel(); });
    std::array<char, 16> buffer{};
    auto [ec, n] = co_await ours_->read_reply(asio::buffer(buffer));
    EXPECT_EQ(ec, asio::error::operation_aborted) << ec.message();
  });
}

TEST_F(TcpTransportTest, ReadNextSeesInputWhoseReadinessCameWhileNothingWasReading) {
  // A read that drains the socket makes the next one wait for readiness; input whose readiness
  // the event loop took in meanwhile (a pipelined request) must still be read at once.
  run([&]() -> asio::awaitable<void> {
    std::array<char, 16> buffer{};
    co_await asio::async_write(*peer_, asio::buffer(std::string_view("first")), kUseTuple);
    auto [ec1, n1] = co_await ours_->read_next(asio::buffer(buffer));
    EXPECT_EQ(std::string(buffer.data(), n1), "first");
    co_await asio::async_write(*peer_, asio::buffer(std::string_view("second")), kUseTuple);
    asio::steady_timer timer(io_, 20ms);  // the event loop runs with no read pending
    co_await timer.async_wait(kUseTuple);
    auto [ec2, n2] = co_await ours_->read_next(asio::buffer(buffer));
    EXPECT_FALSE(ec2) << ec2.message();
    EXPECT_EQ(std::string(buffer.data(), n2), "second");
  });
}

TEST_F(TcpTransportTest, ReadNowFindsAnEndOfStreamThatCameWithTheLastBytes) {
  // The peer's bytes and its FIN travel in one segment (TCP_CORK holds the bytes until the
  // shutdown): after read_next has taken the bytes, nothing announces the end any more.
  // read_now asks the socket and finds it.
  const int one = 1;
  ASSERT_EQ(::setsockopt(peer_->native_handle(), IPPROTO_TCP, TCP_CORK, &one, sizeof one), 0);
  run([&]() -> asio::awaitable<void> {
    co_await asio::async_write(*peer_, asio::buffer(std::string_view("last")), kUseTuple);
    peer_->shutdown(asio::ip::tcp::socket::shutdown_send);
    std::array<char, 16> buffer{};
    auto [ec1, n1] = co_await ours_->read_next(asio::buffer(buffer));
    EXPECT_EQ(std::string(buffer.data(), n1), "last");
    auto [ec2, n2] = co_await ours_->read_now(asio::buffer(buffer));
    EXPECT_EQ(ec2, asio::error::eof) << ec2.message();
  });
}

// ----- the direct forms: read_reply_into, read_next_into ------------------------------------

TEST_F(TcpTransportTest, ReadReplyIntoGetsTheAnswerToAWriteThatWentOutAtOnce) {
  asio::co_spawn(io_, answer(*peer_, 4, "pong"), asio::detached);
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write("ping"));
    std::array<char, 16> buffer{};
    ReadOutcome got;
    co_await ours_->read_reply_into(asio::buffer(buffer), got);
    auto [ec, n] = got;
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(std::string(buffer.data(), n), "pong");
  });
}

TEST_F(TcpTransportTest, ReadReplyIntoSeesInputThatArrivedWhileTheWriteWaited) {
  // As ReadReplySeesInputThatArrivedWhileTheWriteWaited: after a write that had to wait, the
  // direct form also reads at once.
  const std::string big(16 << 20, 'x');
  asio::co_spawn(io_, speak_first_then_read(*peer_, big.size()), asio::detached);
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write(big));
    std::array<char, 16> buffer{};
    ReadOutcome got;
    co_await ours_->read_reply_into(asio::buffer(buffer), got);
    auto [ec, n] = got;
    EXPECT_FALSE(ec) << ec.message();
    EXPECT_EQ(std::string(buffer.data(), n), "early");
  });
}

TEST_F(TcpTransportTest, ReadNextIntoReadsSuccessiveMessagesAndTheEndOfStream) {
  run([&]() -> asio::awaitable<void> {
    std::array<char, 16> buffer{};
    ReadOutcome got;
    co_await asio::async_write(*peer_, asio::buffer(std::string_view("first")), kUseTuple);
    co_await ours_->read_next_into(asio::buffer(buffer), got);
    EXPECT_EQ(std::string(buffer.data(), std::get<1>(got)), "first");
    asio::post(io_, [&] { asio::write(*peer_, asio::buffer(std::string_view("second"))); });
    co_await ours_->read_next_into(asio::buffer(buffer), got);  // drained: waits for the edge
    EXPECT_FALSE(std::get<0>(got)) << std::get<0>(got).message();
    EXPECT_EQ(std::string(buffer.data(), std::get<1>(got)), "second");
    asio::post(io_, [&] { peer_->shutdown(asio::ip::tcp::socket::shutdown_send); });
    co_await ours_->read_next_into(asio::buffer(buffer), got);
    EXPECT_EQ(std::get<0>(got), asio::error::eof) << std::get<0>(got).message();
  });
}

TEST_F(TcpTransportTest, ReadReplyIntoStopsWhenItsCancellationSlotIsSignalled) {
  run([&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    EXPECT_FALSE(co_await write("ping"));
    std::array<char, 16> buffer{};
    auto read = [&]() -> asio::awaitable<ReadOutcome> {
      ReadOutcome got;
      co_await ours_->read_reply_into(asio::buffer(buffer), got);
      co_return got;
    };
    asio::steady_timer timer(io_, 20ms);
    auto result = co_await (read() || timer.async_wait(kUseTuple));
    EXPECT_EQ(result.index(), 1u);
  });
}

TEST_F(TcpTransportTest, DirectReadInACancelledCoroutineCompletesAsAborted) {
  // The race's other side wins at once; this side's wait then ends aborted and it goes on to a
  // read, which must not start (the race waits for both sides, and the peer never writes).
  run([&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    std::array<char, 16> buffer{};
    ReadOutcome got{std::error_code{}, 99};
    auto late = [&]() -> asio::awaitable<void> {
      asio::steady_timer timer(io_, 1s);
      co_await timer.async_wait(kUseTuple);
      co_await ours_->read_next_into(asio::buffer(buffer), got);
    };
    auto at_once = [&]() -> asio::awaitable<void> { co_return; };
    co_await (late() || at_once());
    EXPECT_EQ(std::get<0>(got), asio::error::operation_aborted) << std::get<0>(got).message();
    EXPECT_EQ(std::get<1>(got), 0u);
  });
}

TEST_F(TcpTransportTest, CancelAbortsAPendingReadReplyInto) {
  run([&]() -> asio::awaitable<void> {
    EXPECT_FALSE(co_await write("ping"));
    asio::post(io_, [&] { ours_->cancel(); });
    std::array<char, 16> buffer{};
    ReadOutcome got;
    co_await ours_->read_reply_into(asio::buffer(buffer), got);
    EXPECT_EQ(std::get<0>(got), asio::error::operation_aborted) << std::get<0>(got).message();
  });
}

}  // namespace
}  // namespace rws::net
