#include "l4/tcp_connect.hpp"

#include <memory>
#include <string>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace rws::l4 {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

}  // namespace

asio::awaitable<asio::ip::tcp::socket> connect_backend(const proxy::Backend& backend,
                                                       std::chrono::milliseconds timeout,
                                                       std::error_code& error) {
  using asio::ip::tcp;
  auto executor = co_await asio::this_coro::executor;
  // The timer's handler may run after this coroutine has moved on, so both share the socket and
  // a flag saying whether the deadline passed.
  auto socket = std::make_shared<tcp::socket>(executor);
  auto expired = std::make_shared<bool>(false);
  asio::steady_timer timer(executor, timeout);
  timer.async_wait([socket, expired](std::error_code ec) {
    if (ec) return;
    *expired = true;
    std::error_code ignored;
    socket->close(ignored);  // aborts the resolve's follow-up connect, or the connect itself
  });
  tcp::resolver resolver(executor);
  const std::string host = backend.host();
  const std::string port = std::to_string(backend.port());
  auto [resolve_error, endpoints] = co_await resolver.async_resolve(host, port, kUseTuple);
  if (resolve_error || *expired) {
    timer.cancel();
    error = *expired ? std::make_error_code(std::errc::timed_out) : resolve_error;
    co_return tcp::socket(executor);
  }
  auto [connect_error, endpoint] = co_await asio::async_connect(*socket, endpoints, kUseTuple);
  timer.cancel();
  if (*expired) {
    error = std::make_error_code(std::errc::timed_out);
  } else {
    error = connect_error;
  }
  if (error) co_return tcp::socket(executor);
  co_return std::move(*socket);
}

}  // namespace rws::l4
