#pragma once
// One attempt of a proxied request over HTTP/2 (h2://, h2s://, grpc://, grpcs:// backends): the
// request head as HTTP/2 fields with the same forwarding policy as HTTP/1.1 (upstream_request),
// sent on a pooled multiplexed session (h2_pool), the response streamed back.

#include <chrono>

#include <asio/awaitable.hpp>

#include <rws/core/error.hpp>
#include <rws/http/request.hpp>
#include <rws/http/response.hpp>
#include <rws/http/service.hpp>

#include "proxy/proxy_service.hpp"

namespace rws::proxy {

struct H2Attempt {
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds read_timeout;
  // End of the whole exchange (gRPC's grpc-timeout); max: none.
  std::chrono::steady_clock::time_point deadline;
  // An idempotent request: without a body it may go to another backend after any failure
  // before the response head (as over HTTP/1.1).
  bool replayable = false;
  bool body_started = false;  // out: the request body was handed to the backend's stream
};

// The backend's response (its body streaming), or an upstream-side error; `retryable` only when
// the request cannot have reached the backend.
asio::awaitable<Result<http::Response>> forward_h2(const UpstreamGroup& group, Backend& backend,
                                                   const ProxyOptions& options,
                                                   http::Request& request,
                                                   const http::RequestContext& context,
                                                   H2Attempt& attempt);

// The client's fields as HTTP/2 request fields: `head_text` is the HTTP/1.1 head that
// append_upstream_request_head wrote (so both protocols share one policy); returns views into
// it, names lower-cased in place, without the request line, Host, framing and connection
// fields, plus "te: trailers" when `te_trailers`. Exposed for tests.
std::vector<std::pair<std::string_view, std::string_view>> h2_fields_from_head(
    std::string& head_text, bool te_trailers);

}  // namespace rws::proxy
