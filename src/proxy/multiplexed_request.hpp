#pragma once
// What proxying over HTTP/2 (forward_h2) and HTTP/3 (forward_h3) share: the client's request as
// fields of a multiplexed session, with the same forwarding policy as HTTP/1.1
// (upstream_request), and the treatment of the backend's answer.

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rws/core/error.hpp>
#include <rws/http/request.hpp>
#include <rws/http/response.hpp>
#include <rws/http/service.hpp>

#include "http/outgoing_request.hpp"
#include "proxy/proxy_service.hpp"

namespace rws::proxy {

struct MultiplexedAttempt {
  std::chrono::milliseconds connect_timeout;
  std::chrono::milliseconds read_timeout;
  // End of the whole exchange (gRPC's grpc-timeout); max: none.
  std::chrono::steady_clock::time_point deadline;
  // An idempotent request: without a body it may go to another backend after any failure
  // before the response head (as over HTTP/1.1).
  bool replayable = false;
  bool body_started = false;  // out: the request body was handed to the backend's stream
};

// The request to send; `outgoing` views the strings here, so it stays where it was prepared.
struct MultiplexedRequest {
  MultiplexedRequest() = default;
  MultiplexedRequest(const MultiplexedRequest&) = delete;
  MultiplexedRequest& operator=(const MultiplexedRequest&) = delete;

  std::string head_text;  // the fields' storage
  std::string path;
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  http::OutgoingRequest outgoing;
  http::ExchangeLimits limits;
};

// Fills `out` from the client's request head; an upstream-side error for what a multiplexed
// backend cannot carry (protocol upgrades).
Result<void> prepare_multiplexed_request(MultiplexedRequest& out, const UpstreamGroup& group,
                                         const Backend& backend, const ProxyOptions& options,
                                         http::Request& request,
                                         const http::RequestContext& context,
                                         const MultiplexedAttempt& attempt);

// Moves the client's request body into `out.outgoing`, once a session is there to take it (a
// request whose body is still in hand may go to another backend).
void hand_over_body(MultiplexedRequest& out, http::Request& request, MultiplexedAttempt& attempt);

// The backend's answer as the proxy passes it on: connection-specific fields dropped; an error
// is retryable only when the request cannot have reached the backend.
Result<http::Response> finish_multiplexed_exchange(Result<http::Response> response,
                                                   const MultiplexedAttempt& attempt);

// The client's fields as HTTP/2 or HTTP/3 request fields: `head_text` is the HTTP/1.1 head that
// append_upstream_request_head wrote (so every protocol shares one policy); returns views into
// it, names lower-cased in place, without the request line, Host, framing and connection
// fields, plus "te: trailers" when `te_trailers`. Exposed for tests.
std::vector<std::pair<std::string_view, std::string_view>> multiplexed_fields_from_head(
    std::string& head_text, bool te_trailers);

}  // namespace rws::proxy
