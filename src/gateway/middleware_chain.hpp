#pragma once
// The middleware a configuration asks for, as rws::Middleware in CONFIG.md's order (outermost
// first): request_id → headers → ip_filter → cors → max_body_size → timeout → rewrite. `headers`
// sits just inside request_id so its edits reach every answer, including those of inner middleware.

#include <vector>

#include <rws/app/handler.hpp>

#include "config/middleware_config.hpp"

namespace rws::gateway {

std::vector<Middleware> make_middleware(const config::MiddlewareConfig& config);

}  // namespace rws::gateway
