#pragma once
// What a multiplexing client session (HTTP/2: h2::ClientSession, HTTP/3: h3::ClientSession) is
// asked to send, the time limits of one exchange, and the shape of its answer. Shared so the proxy,
// the health probes and rws-client build one request for either protocol.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <utility>

#include <rws/http/body.hpp>
#include <rws/http/response.hpp>

namespace rws::http {

// One request to send. Field names must be lower case and must not include pseudo-fields or
// connection-specific fields (RFC 9113 §8.2.2, RFC 9114 §4.2).
struct OutgoingRequest {
  std::string_view method;
  std::string_view scheme;  // "http" or "https"
  std::string_view authority;
  std::string_view path;  // with the query
  std::span<const std::pair<std::string_view, std::string_view>> fields;
  std::unique_ptr<BodySource> body;  // null: no body (the stream ends with the head)
  std::optional<std::uint64_t> content_length;
};

struct ExchangeLimits {
  // Time to the first response byte, and between response body reads that wait for data.
  std::chrono::milliseconds read_timeout{30000};
  // How long the request body may wait for the backend's flow-control window.
  std::chrono::milliseconds write_timeout{30000};
  // An absolute end of the whole exchange (e.g. gRPC's grpc-timeout); max: none.
  std::chrono::steady_clock::time_point deadline = std::chrono::steady_clock::time_point::max();
  // Pull the request body in the background while the response arrives (bidirectional
  // streaming): the body source must stay valid on its own (the HTTP/2 and HTTP/3 servers' do).
  // Without, the request body is sent completely before the response head is awaited.
  bool stream_request_body = false;
};

// The answer of an exchange: `head`, and a body streaming from `body` (null: none) with the size
// the head's Content-Length declares, when it declares a valid one.
Response streamed_response(ResponseHead head, std::unique_ptr<BodySource> body);

}  // namespace rws::http
