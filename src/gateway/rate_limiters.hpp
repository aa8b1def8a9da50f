#pragma once
// RateLimiterRegistry: the gateway's rate limiters, kept across reloads.
//
// Each route's limiter is looked up by the route's name (its scope) and its rate_limit
// settings. A snapshot build calls `begin`, then `get` for each limiter: the limiter the last
// committed build used for that scope when the settings are equal (so counts survive a
// reload), else a new one. `commit`, once the build has succeeded, makes the limiters handed
// out the ones the next build compares with; the others are released when the old snapshot
// goes. A failed build never commits, and the next `begin` forgets what it was handed.
// Builds are serialised by the caller; the mutex only keeps the registry itself consistent.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <rws/middleware/rate_limiter.hpp>

#include "config/middleware_config.hpp"

namespace rws::gateway {

middleware::RateLimiterOptions rate_limiter_options(const config::RateLimitConfig& config);

class RateLimiterRegistry {
 public:
  void begin();
  std::shared_ptr<middleware::RateLimiter> get(const std::string& scope,
                                               const config::RateLimitConfig& config);
  void commit();

 private:
  struct Held {
    config::RateLimitConfig config;
    std::shared_ptr<middleware::RateLimiter> limiter;
  };
  std::mutex mutex_;
  std::map<std::string, Held> current_;  // the last committed build's
  std::map<std::string, Held> next_;     // the build in progress
};

}  // namespace rws::gateway
