#pragma once
// One attempt of a proxied request over HTTP/3 (h3:// backends): the request as HTTP/3 fields
// (multiplexed_request), sent on a QUIC session pooled per worker (session_pool), the response
// streamed back.

#include <asio/awaitable.hpp>

#include <rws/core/error.hpp>
#include <rws/http/request.hpp>
#include <rws/http/response.hpp>
#include <rws/http/service.hpp>

#include "proxy/multiplexed_request.hpp"
#include "proxy/proxy_service.hpp"

namespace rws::proxy {

// The backend's response (its body streaming), or an upstream-side error; `retryable` only when
// the request cannot have reached the backend.
asio::awaitable<Result<http::Response>> forward_h3(const UpstreamGroup& group, Backend& backend,
                                                   const ProxyOptions& options,
                                                   http::Request& request,
                                                   const http::RequestContext& context,
                                                   MultiplexedAttempt& attempt);

}  // namespace rws::proxy
