#pragma once
// The multiplexed sessions of this worker thread to one kind of backend, per pool key: HTTP/2
// (h2::ClientSession) and HTTP/3 (h3::ClientSession) upstreams.
//
// Many exchanges share one session; another is opened only when every session to the backend
// has as many streams as it may. Requests that find no usable session while one is being
// connected wait for that one instead of each opening their own, so a burst of requests to a
// cold backend opens one connection. Sessions leave the pool when they end (error, GOAWAY, idle
// timeout, drain).
//
// Session needs: dead(), can_take_stream(), active_streams().

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/core/error.hpp>

namespace rws::proxy {

template <class Session>
class SessionPool {
 public:
  static SessionPool& local() {
    thread_local SessionPool pool;
    return pool;
  }

  // A session under `key` that can take one more stream now; `connect()` (returning
  // asio::awaitable<Result<std::shared_ptr<Session>>>) opens a new one when there is none, its
  // errors passed on. A callable rather than std::function: no allocation per request.
  template <class Connect>
  asio::awaitable<Result<std::shared_ptr<Session>>> acquire(const std::string& key,
                                                            const Connect& connect) {
    for (;;) {
      Entry& entry = entries_[key];
      auto& sessions = entry.sessions;
      std::erase_if(sessions, [](const auto& s) { return s->dead(); });
      // The least loaded session with room, so streams spread over the connections there are.
      std::shared_ptr<Session> best;
      for (const auto& s : sessions) {
        if (s->can_take_stream() && (!best || s->active_streams() < best->active_streams())) {
          best = s;
        }
      }
      if (best) co_return best;
      if (!entry.connecting) co_return co_await open(key, connect);
      std::shared_ptr<Connecting> pending = entry.connecting;
      if (!pending->finished) {
        co_await pending->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
      }
      if (pending->error) co_return Unexpected(*pending->error);
      // Connected: look again (the new session may already be full).
    }
  }

 private:
  // A connection attempt others can wait for: the timer is cancelled when it is over.
  struct Connecting {
    explicit Connecting(const asio::any_io_executor& executor)
        : done(executor, std::chrono::steady_clock::time_point::max()) {}
    asio::steady_timer done;
    bool finished = false;
    std::optional<Error> error;
  };
  struct Entry {
    std::vector<std::shared_ptr<Session>> sessions;
    std::shared_ptr<Connecting> connecting;  // a connection being opened; null: none
  };

  template <class Connect>
  asio::awaitable<Result<std::shared_ptr<Session>>> open(const std::string& key,
                                                         const Connect& connect) {
    auto pending = std::make_shared<Connecting>(co_await asio::this_coro::executor);
    entries_[key].connecting = pending;
    Result<std::shared_ptr<Session>> result = co_await connect();
    Entry& entry = entries_[key];
    if (result) entry.sessions.push_back(*result);
    if (entry.connecting == pending) entry.connecting.reset();
    pending->finished = true;
    if (!result) pending->error = result.error();
    pending->done.cancel();
    co_return result;
  }

  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace rws::proxy
