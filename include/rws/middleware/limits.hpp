#pragma once
// Per-route limits.
//
// timeout: the rest of the chain must produce its response head within `limit`, else 504; the
// work is cancelled (an upstream exchange in progress is abandoned and its connection closed).
// A body already streaming is not covered (its reads have their own timeouts).
//
// max_body_size: a declared Content-Length over the limit is answered 413 before any body byte
// is read; a body without a declared length fails with 413 when it passes the limit while
// streaming.

#include <chrono>
#include <cstdint>

#include <rws/app/handler.hpp>

namespace rws::middleware {

Middleware timeout(std::chrono::milliseconds limit);
Middleware max_body_size(std::uint64_t limit);

}  // namespace rws::middleware
