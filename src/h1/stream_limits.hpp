#pragma once
// The HTTP/1.1 request limits applied to requests that arrive on HTTP/2 and HTTP/3 streams, so
// that every protocol answers the same request the same way: the request line it would have
// ("GET /x HTTP/1.1") against max_request_line → 414; too many fields or too large a head →
// 431; a declared Content-Length over max_body_size → 413 before the handler runs; a body that
// grows past max_body_size while being read → it fails, and the handler's answer becomes 413.

#include <cstdint>
#include <memory>
#include <optional>

#include <rws/http/body.hpp>
#include <rws/http/message_head.hpp>
#include <rws/http/response.hpp>

#include "h1/server_session.hpp"

namespace rws::h1 {

// The answer to a request that breaks a limit before its handler runs, or nothing.
// `head_too_large`: the session saw more fields, or more head bytes, than the limits allow.
std::optional<http::Response> refuse_over_limits(const http::RequestHead& head,
                                                 std::optional<std::uint64_t> declared_length,
                                                 bool head_too_large,
                                                 const SessionSettings& settings);

// `body` failing (Errc::kTooLarge, client side) once more than `max` bytes were read, setting
// `*exceeded` then; `exceeded` must outlive the returned source. max 0: `body` unchanged.
std::unique_ptr<http::BodySource> limit_request_body(std::unique_ptr<http::BodySource> body,
                                                     std::uint64_t max, bool* exceeded);

// The 413 that replaces a handler's answer once its request body went past max_body_size.
http::Response body_too_large_response();

}  // namespace rws::h1
