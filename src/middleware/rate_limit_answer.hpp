#pragma once
// The answers of the rate limit middleware, shared by its memory and Redis stores.

#include <rws/http/headers.hpp>
#include <rws/http/response.hpp>
#include <rws/middleware/rate_limiter.hpp>

namespace rws::middleware {

// Sets RateLimit-Limit, -Remaining and -Reset (seconds, rounded up) from `decision`.
void set_quota_fields(http::Headers& headers, const RateLimitDecision& decision);

// 429 with Retry-After (seconds, rounded up) and the quota fields, for a refused decision.
http::Response refused_response(const RateLimitDecision& decision);

}  // namespace rws::middleware
