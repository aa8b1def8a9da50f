#include "gateway/rate_limiters.hpp"

#include <gtest/gtest.h>

namespace rws::gateway {
namespace {

config::RateLimitConfig limit(std::uint64_t max) {
  config::RateLimitConfig c;
  c.max_requests = max;
  c.window = std::chrono::seconds(60);
  return c;
}

TEST(RateLimiterRegistry, ABuildWithTheSameSettingsKeepsTheLimiter) {
  RateLimiterRegistry registry;
  registry.begin();
  auto api = registry.get("api", limit(5));
  auto web = registry.get("web", limit(5));
  EXPECT_NE(api, web) << "each scope has its own limiter";
  registry.commit();

  registry.begin();
  EXPECT_EQ(registry.get("api", limit(5)), api);
  EXPECT_NE(registry.get("web", limit(6)), web) << "changed settings start afresh";
  registry.commit();
}

TEST(RateLimiterRegistry, EverySettingCounts) {
  RateLimiterRegistry registry;
  registry.begin();
  auto first = registry.get("api", limit(5));
  registry.commit();
  config::RateLimitConfig other = limit(5);
  other.key = "header:X-Key";
  registry.begin();
  auto second = registry.get("api", other);
  EXPECT_NE(second, first);
  registry.commit();
  other.algorithm = config::RateLimitConfig::Algorithm::kSlidingWindow;
  registry.begin();
  EXPECT_NE(registry.get("api", other), second);
  registry.commit();
}

TEST(RateLimiterRegistry, AFailedBuildChangesNothing) {
  RateLimiterRegistry registry;
  registry.begin();
  auto api = registry.get("api", limit(5));
  registry.commit();

  registry.begin();  // a build that fails after asking for other settings: never committed
  EXPECT_NE(registry.get("api", limit(7)), api);

  registry.begin();
  EXPECT_EQ(registry.get("api", limit(5)), api);
  registry.commit();
}

TEST(RateLimiterRegistry, ARouteLeftOutIsForgotten) {
  RateLimiterRegistry registry;
  registry.begin();
  auto api = registry.get("api", limit(5));
  registry.commit();
  registry.begin();
  registry.commit();  // a build without the route
  registry.begin();
  EXPECT_NE(registry.get("api", limit(5)), api);
}

TEST(RateLimiterRegistry, OptionsFollowTheConfig) {
  config::RateLimitConfig c = limit(5);
  c.burst = 2;
  c.max_keys = 10;
  middleware::RateLimiterOptions o = rate_limiter_options(c);
  EXPECT_EQ(o.max_requests, 5u);
  EXPECT_EQ(o.window, std::chrono::seconds(60));
  EXPECT_EQ(o.burst, 2u);
  EXPECT_EQ(o.max_keys, 10u);
  EXPECT_EQ(o.algorithm, middleware::RateLimitAlgorithm::kTokenBucket);
  c.burst = 0;
  c.algorithm = config::RateLimitConfig::Algorithm::kSlidingWindow;
  EXPECT_EQ(rate_limiter_options(c).algorithm, middleware::RateLimitAlgorithm::kSlidingWindow);
}

}  // namespace
}  // namespace rws::gateway
