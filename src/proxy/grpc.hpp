#pragma once
// gRPC over HTTP/2 facts the proxy needs
// (https://github.com/grpc/grpc/blob/master/doc/PROTOCOL-HTTP2.md): the grpc-timeout request field,
// status codes, and "Trailers-Only" error answers.

#include <chrono>
#include <memory>
#include <optional>
#include <string_view>

#include <rws/http/body.hpp>
#include <rws/http/response.hpp>

namespace rws::proxy::grpc {

enum class Status : int {
  kCancelled = 1,
  kUnknown = 2,
  kDeadlineExceeded = 4,
  kResourceExhausted = 8,
  kInternal = 13,
  kUnavailable = 14,
};

// The value of grpc-timeout: 1 to 8 digits and a unit (H M S m u n). nullopt when malformed.
std::optional<std::chrono::nanoseconds> parse_timeout(std::string_view value) noexcept;

// A Trailers-Only answer: status 200, content-type application/grpc, grpc-status and the
// percent-encoded grpc-message in the head, no body (on HTTP/2: one HEADERS frame with
// END_STREAM).
http::Response error_response(Status status, std::string_view message);

// grpc-message's encoding: bytes outside 0x20-0x7E and '%' become %XX.
std::string percent_encode_message(std::string_view message);

// Wraps a gRPC response body: when it fails half-way (the backend reset the stream, a timeout)
// it ends with trailers carrying `grpc-status` instead of failing, so the client gets a gRPC
// status rather than a reset stream. `deadline` marks a failure after it as DEADLINE_EXCEEDED.
std::unique_ptr<http::BodySource> guard_body(std::unique_ptr<http::BodySource> body,
                                             std::chrono::steady_clock::time_point deadline);

}  // namespace rws::proxy::grpc
