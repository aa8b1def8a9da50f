#pragma once
// Signal: a one-waiter wake-up for coroutines on one executor. notify() before wait() is not
// lost: the next wait() returns at once. Not thread-safe (one connection's executor).
// wait_until() also ends at a deadline, or when the waiting coroutine is cancelled (an
// awaitable operator such as `||` cancelling it): then it returns false.

#include <chrono>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

namespace rws::h2 {

class Signal {
 public:
  explicit Signal(const asio::any_io_executor& executor)
      : timer_(executor, std::chrono::steady_clock::time_point::max()) {}

  asio::awaitable<void> wait() {
    if (pending_) {
      pending_ = false;
      co_return;
    }
    waiting_ = true;
    timer_.expires_at(std::chrono::steady_clock::time_point::max());
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    waiting_ = false;
    pending_ = false;
  }

  // True when notified, false when `deadline` passed (or the wait was cancelled) first.
  asio::awaitable<bool> wait_until(std::chrono::steady_clock::time_point deadline) {
    if (pending_) {
      pending_ = false;
      co_return true;
    }
    waiting_ = true;
    notified_ = false;
    timer_.expires_at(deadline);
    co_await timer_.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    waiting_ = false;
    pending_ = false;
    const bool notified = notified_;
    notified_ = false;
    co_return notified;
  }

  void notify() {
    if (waiting_) {
      notified_ = true;
      timer_.cancel();
    } else {
      pending_ = true;
    }
  }

 private:
  asio::steady_timer timer_;
  bool waiting_ = false;
  bool pending_ = false;
  bool notified_ = false;
};

}  // namespace rws::h2
