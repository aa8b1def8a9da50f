#include "proxy/h3_forward.hpp"

#include "h3/client_session.hpp"
#include "proxy/session_pool.hpp"

namespace rws::proxy {
namespace {

// A new session to the first of `endpoints` that completes a handshake.
asio::awaitable<Result<std::shared_ptr<h3::ClientSession>>> connect_h3(
    const std::vector<asio::ip::tcp::endpoint>& endpoints, const UpstreamGroup& group,
    const Backend& backend, std::chrono::milliseconds timeout) {
  h3::ClientTarget target{.remote = {},
                          .credentials = group.quic_tls,
                          .server_name = std::string(group.tls_server_name(backend)),
                          .handshake_timeout = timeout,
                          .idle_timeout = group.config.idle_timeout,
                          .name = backend.url()};
  Result<std::shared_ptr<h3::ClientSession>> session = Unexpected(Error{});
  for (const asio::ip::tcp::endpoint& address : endpoints) {
    target.remote = asio::ip::udp::endpoint(address.address(), address.port());
    session = co_await h3::ClientSession::connect(target);
    if (session) break;
  }
  co_return session;
}

}  // namespace

asio::awaitable<Result<http::Response>> forward_h3(const UpstreamGroup& group, Backend& backend,
                                                   const ProxyOptions& options,
                                                   http::Request& request,
                                                   const http::RequestContext& context,
                                                   MultiplexedAttempt& attempt) {
  auto endpoints = backend.endpoints();
  if (!endpoints || endpoints->empty()) {
    co_return Unexpected(Error{make_error_code(Errc::kNotFound), ErrorSide::kUpstream, true,
                               "no address known for " + backend.url()});
  }
  MultiplexedRequest prepared;
  if (Result<void> ok =
          prepare_multiplexed_request(prepared, group, backend, options, request, context, attempt);
      !ok) {
    co_return Unexpected(std::move(ok).error());
  }
  const std::chrono::milliseconds timeout = attempt.connect_timeout;
  const auto connect = [&] { return connect_h3(*endpoints, group, backend, timeout); };
  Result<http::Response> response = Unexpected(Error{});
  for (bool fresh_tried = false;;) {
    Result<std::shared_ptr<h3::ClientSession>> session =
        co_await SessionPool<h3::ClientSession>::local().acquire(group.tls_pool_keys.at(&backend),
                                                                 connect);
    if (!session) co_return Unexpected(std::move(session).error());
    std::shared_ptr<h3::ClientSession> s = std::move(*session);
    const bool reused = s->exchanges() > 0;
    hand_over_body(prepared, request, attempt);
    response = co_await s->exchange(std::move(prepared.outgoing), prepared.limits, context.interim);
    // A pooled connection the backend no longer knows (it restarted: QUIC has no reset to tell
    // us before) fails as a whole; an idempotent request without a body goes once more, on a
    // new connection to the same backend, as a stale HTTP/1.1 connection's would.
    const bool stale = !response && reused && s->dead() && !fresh_tried && attempt.replayable &&
                       !attempt.body_started;
    if (!stale) break;
    fresh_tried = true;  // `prepared.outgoing` still holds the head (its views were copied)
  }
  co_return finish_multiplexed_exchange(std::move(response), attempt);
}

}  // namespace rws::proxy
