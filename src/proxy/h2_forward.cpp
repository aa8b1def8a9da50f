#include "proxy/h2_forward.hpp"

#include "proxy/h2_pool.hpp"

namespace rws::proxy {

asio::awaitable<Result<http::Response>> forward_h2(const UpstreamGroup& group, Backend& backend,
                                                   const ProxyOptions& options,
                                                   http::Request& request,
                                                   const http::RequestContext& context,
                                                   MultiplexedAttempt& attempt) {
  auto endpoints = backend.endpoints();
  if (!endpoints || endpoints->empty()) {
    co_return Unexpected(Error{make_error_code(Errc::kNotFound), ErrorSide::kUpstream, true,
                               "no address known for " + backend.url()});
  }
  const bool tls = backend.tls() && group.tls;
  const H2Target target{.key = tls ? group.tls_pool_keys.at(&backend) : backend.url(),
                        .endpoints = endpoints.get(),
                        .connect_timeout = attempt.connect_timeout,
                        .idle_timeout = group.config.idle_timeout,
                        .tls = tls ? group.tls : nullptr,
                        .server_name = tls ? group.tls_server_name(backend) : std::string_view{}};
  MultiplexedRequest prepared;
  if (Result<void> ok =
          prepare_multiplexed_request(prepared, group, backend, options, request, context, attempt);
      !ok) {
    co_return Unexpected(std::move(ok).error());
  }
  Result<std::shared_ptr<h2::ClientSession>> session = co_await acquire_h2_session(target);
  if (!session) co_return Unexpected(std::move(session).error());
  std::shared_ptr<h2::ClientSession> s = std::move(*session);
  hand_over_body(prepared, request, attempt);
  Result<http::Response> response =
      co_await s->exchange(std::move(prepared.outgoing), prepared.limits, context.interim);
  co_return finish_multiplexed_exchange(std::move(response), attempt);
}

}  // namespace rws::proxy
