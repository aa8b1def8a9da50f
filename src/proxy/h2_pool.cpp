#include "proxy/h2_pool.hpp"

#include "proxy/session_pool.hpp"
#include "proxy/upstream_connection.hpp"

namespace rws::proxy {
namespace {

asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> connect_h2(const H2Target& target) {
  Result<std::unique_ptr<UpstreamConnection>> connected = co_await UpstreamConnection::connect(
      *target.endpoints, target.connect_timeout, target.key, target.tls, target.server_name,
      net::TlsClientContext::Alpn::kH2);
  if (!connected) co_return Unexpected(std::move(connected).error());
  std::shared_ptr<h2::ClientSession> session = co_await h2::ClientSession::start(
      (*connected)->release_transport(), target.idle_timeout, target.key);
  if (session->dead()) {
    co_return fail(Errc::kClosed, ErrorSide::kUpstream,
                   "cannot set up an HTTP/2 session to " + target.key);
  }
  co_return session;
}

}  // namespace

asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> acquire_h2_session(
    const H2Target& target) {
  // `target` refers to the caller's data, valid across this call.
  const auto connect = [&target] { return connect_h2(target); };
  co_return co_await SessionPool<h2::ClientSession>::local().acquire(target.key, connect);
}

}  // namespace rws::proxy
