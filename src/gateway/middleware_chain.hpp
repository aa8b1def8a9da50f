#pragma once
// The middleware a configuration asks for, as rws::Middleware in CONFIG.md's order (outermost
// first): request_id → security_headers → headers → maintenance → ip_filter → cors → rate_limit →
// auth → max_body_size → timeout → rewrite → cache → compress. `headers` sits just inside
// request_id so its edits reach every answer, including those of inner middleware.

#include <string>
#include <vector>

#include <rws/app/handler.hpp>

#include "config/middleware_config.hpp"

namespace rws::gateway {

class RateLimiterRegistry;
class CacheRegistry;

// With `limiters`, a rate limit takes its limiter from there under `scope` (the route's name),
// so it survives reloads; without, every call makes new limiters. The same for a cache and
// `caches`.
std::vector<Middleware> make_middleware(const config::MiddlewareConfig& config,
                                        RateLimiterRegistry* limiters = nullptr,
                                        const std::string& scope = {},
                                        CacheRegistry* caches = nullptr);

}  // namespace rws::gateway
