#pragma once
// The rewrite rules of a configuration as the rewrite middleware's options.

#include <rws/middleware/rewrite.hpp>

#include "config/rewrite_config.hpp"

namespace rws::gateway {

// Throws std::invalid_argument on a rule on the wrong side (the loader never produces one).
middleware::RewriteOptions rewrite_options(const config::RewriteConfig& config);

}  // namespace rws::gateway
