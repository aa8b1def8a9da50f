#include "gateway/rate_limiters.hpp"

namespace rws::gateway {

middleware::RateLimiterOptions rate_limiter_options(const config::RateLimitConfig& config) {
  middleware::RateLimiterOptions o;
  o.max_requests = config.max_requests;
  o.window = config.window;
  o.burst = config.burst;
  o.algorithm = config.algorithm == config::RateLimitConfig::Algorithm::kSlidingWindow
                    ? middleware::RateLimitAlgorithm::kSlidingWindow
                    : middleware::RateLimitAlgorithm::kTokenBucket;
  o.max_keys = config.max_keys;
  return o;
}

void RateLimiterRegistry::begin() {
  std::lock_guard lock(mutex_);
  next_.clear();
}

std::shared_ptr<middleware::RateLimiter> RateLimiterRegistry::get(
    const std::string& scope, const config::RateLimitConfig& config) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<middleware::RateLimiter> limiter;
  if (auto it = current_.find(scope); it != current_.end() && it->second.config == config) {
    limiter = it->second.limiter;
  } else {
    limiter = std::make_shared<middleware::RateLimiter>(rate_limiter_options(config));
  }
  next_[scope] = Held{config, limiter};
  return limiter;
}

void RateLimiterRegistry::commit() {
  std::lock_guard lock(mutex_);
  current_ = std::move(next_);
  next_ = {};
}

}  // namespace rws::gateway
