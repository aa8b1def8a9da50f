#include "proxy/h2_pool.hpp"

#include <algorithm>
#include <optional>

#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "proxy/upstream_connection.hpp"

namespace rws::proxy {

// A connection attempt others can wait for: the timer is cancelled when it is over.
struct H2SessionPool::Connecting {
  explicit Connecting(const asio::any_io_executor& executor)
      : done(executor, std::chrono::steady_clock::time_point::max()) {}
  asio::steady_timer done;
  bool finished = false;
  std::optional<Error> error;
};

H2SessionPool& H2SessionPool::local() {
  thread_local H2SessionPool pool;
  return pool;
}

asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> H2SessionPool::acquire(
    const H2Target& target) {
  for (;;) {
    Entry& entry = entries_[target.key];
    auto& sessions = entry.sessions;
    sessions.erase(
        std::remove_if(sessions.begin(), sessions.end(), [](const auto& s) { return s->dead(); }),
        sessions.end());
    // The least loaded session with room, so streams spread over the connections there are.
    std::shared_ptr<h2::ClientSession> best;
    for (const auto& s : sessions) {
      if (s->can_take_stream() && (!best || s->active_streams() < best->active_streams())) {
        best = s;
      }
    }
    if (best) co_return best;
    if (!entry.connecting) co_return co_await connect(target);
    std::shared_ptr<Connecting> pending = entry.connecting;
    if (!pending->finished) {
      co_await pending->done.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
    }
    if (pending->error) co_return Unexpected(*pending->error);
    // Connected: look again (the new session may already be full).
  }
}

asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> H2SessionPool::connect(
    const H2Target& target) {
  auto pending = std::make_shared<Connecting>(co_await asio::this_coro::executor);
  entries_[target.key].connecting = pending;
  // `target` refers to the caller's data, valid across this call.
  Result<std::unique_ptr<UpstreamConnection>> connected = co_await UpstreamConnection::connect(
      *target.endpoints, target.connect_timeout, target.key, target.tls, target.server_name,
      net::TlsClientContext::Alpn::kH2);
  Result<std::shared_ptr<h2::ClientSession>> result = Unexpected(Error{});
  if (connected) {
    std::shared_ptr<h2::ClientSession> session = co_await h2::ClientSession::start(
        (*connected)->release_transport(), target.idle_timeout, target.key);
    if (session->dead()) {
      result = fail(Errc::kClosed, ErrorSide::kUpstream,
                    "cannot set up an HTTP/2 session to " + target.key);
    } else {
      entries_[target.key].sessions.push_back(session);
      result = std::move(session);
    }
  } else {
    result = Unexpected(std::move(connected).error());
  }
  Entry& entry = entries_[target.key];
  if (entry.connecting == pending) entry.connecting.reset();
  pending->finished = true;
  if (!result) pending->error = result.error();
  pending->done.cancel();
  co_return result;
}

}  // namespace rws::proxy
