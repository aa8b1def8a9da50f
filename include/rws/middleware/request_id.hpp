#pragma once
// Request ids: a valid incoming id (1–128 visible ASCII characters) is kept, anything else is
// replaced by a random one (32 hex digits). The id is set on the request, so handlers and
// upstreams see it, and on the response.

#include <string>

#include <rws/app/handler.hpp>

namespace rws::middleware {

struct RequestIdOptions {
  std::string header = "X-Request-Id";
};

Middleware request_id(RequestIdOptions options = {});

// Whether `id` is acceptable as a request id.
bool valid_request_id(std::string_view id);

}  // namespace rws::middleware
