#include "l4/tcp_splice.hpp"

#include <memory>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace rws::l4 {
namespace {

using asio::ip::tcp;
using Clock = std::chrono::steady_clock;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

// Shared by the two pumps and the idle watch; the last of them to finish destroys it.
struct Pair {
  Pair(tcp::socket first, tcp::socket second, std::chrono::seconds idle,
       std::shared_ptr<SpliceCounters> bytes, std::function<void()> finish)
      : a(std::move(first)),
        b(std::move(second)),
        timer(a.get_executor()),
        idle_timeout(idle),
        counters(std::move(bytes)),
        on_finish(std::move(finish)) {}
  ~Pair() {
    if (on_finish) on_finish();
  }

  void close() {
    if (closed) return;
    closed = true;
    std::error_code ignored;
    a.close(ignored);
    b.close(ignored);
    timer.cancel();
  }

  tcp::socket a;
  tcp::socket b;
  asio::steady_timer timer;
  std::chrono::seconds idle_timeout;
  std::shared_ptr<SpliceCounters> counters;
  std::function<void()> on_finish;
  Clock::time_point last_activity = Clock::now();
  int open_directions = 2;
  bool closed = false;
};

asio::awaitable<void> pump(std::shared_ptr<Pair> pair, tcp::socket& from, tcp::socket& to,
                           std::atomic<std::uint64_t>& written_total) {
  std::vector<char> buffer(kSpliceBuffer);
  for (;;) {
    auto [read_error, n] = co_await from.async_read_some(asio::buffer(buffer), kUseTuple);
    if (read_error == asio::error::eof) {
      std::error_code ignored;
      to.shutdown(tcp::socket::shutdown_send, ignored);
      break;
    }
    if (read_error) {
      pair->close();
      break;
    }
    pair->last_activity = Clock::now();
    auto [write_error, written] =
        co_await asio::async_write(to, asio::buffer(buffer.data(), n), kUseTuple);
    if (write_error) {
      pair->close();
      break;
    }
    written_total.fetch_add(written, std::memory_order_relaxed);
    pair->last_activity = Clock::now();
  }
  if (--pair->open_directions == 0) pair->close();
}

asio::awaitable<void> watch_idle(std::shared_ptr<Pair> pair) {
  while (!pair->closed) {
    pair->timer.expires_at(pair->last_activity + pair->idle_timeout);
    co_await pair->timer.async_wait(kUseTuple);  // woken by expiry, re-arm or close()
    if (pair->closed) break;
    if (Clock::now() >= pair->last_activity + pair->idle_timeout) pair->close();
  }
}

}  // namespace

CloseSplice splice(tcp::socket a, tcp::socket b, std::chrono::seconds idle_timeout,
                   std::shared_ptr<SpliceCounters> counters, std::function<void()> on_finish) {
  auto executor = a.get_executor();
  SpliceCounters& bytes = *counters;
  auto pair = std::make_shared<Pair>(std::move(a), std::move(b), idle_timeout, std::move(counters),
                                     std::move(on_finish));
  asio::co_spawn(executor, pump(pair, pair->a, pair->b, bytes.a_to_b), asio::detached);
  asio::co_spawn(executor, pump(pair, pair->b, pair->a, bytes.b_to_a), asio::detached);
  asio::co_spawn(executor, watch_idle(pair), asio::detached);
  return [weak = std::weak_ptr<Pair>(pair)] {
    if (std::shared_ptr<Pair> p = weak.lock()) p->close();
  };
}

}  // namespace rws::l4
