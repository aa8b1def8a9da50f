#include "gateway/response_caches.hpp"

#include <gtest/gtest.h>

namespace rws::gateway {
namespace {

config::CacheConfig cache(std::uint64_t max_entries) {
  config::CacheConfig c;
  c.max_entries = max_entries;
  return c;
}

TEST(CacheRegistry, ABuildWithTheSameSettingsKeepsTheCache) {
  CacheRegistry registry;
  registry.begin();
  auto api = registry.get("api", cache(5));
  auto web = registry.get("web", cache(5));
  EXPECT_NE(api, web) << "each scope has its own cache";
  registry.commit();

  registry.begin();
  EXPECT_EQ(registry.get("api", cache(5)), api);
  EXPECT_NE(registry.get("web", cache(6)), web) << "changed settings start empty";
  registry.commit();
}

TEST(CacheRegistry, EverySettingCounts) {
  const config::CacheConfig base = cache(5);
  std::vector<config::CacheConfig> changed(6, base);
  changed[0].ttl = std::chrono::seconds(30);
  changed[1].vary_by = {"X-Tenant"};
  changed[2].max_entries = 6;
  changed[3].max_entry_bytes = 100;
  changed[4].max_bytes = std::uint64_t{2} << 20;
  changed[5].lock_timeout = std::chrono::milliseconds(0);
  for (const config::CacheConfig& other : changed) {
    CacheRegistry registry;
    registry.begin();
    auto first = registry.get("api", base);
    registry.commit();
    registry.begin();
    EXPECT_NE(registry.get("api", other), first);
    registry.commit();
  }
}

TEST(CacheRegistry, AFailedBuildChangesNothing) {
  CacheRegistry registry;
  registry.begin();
  auto api = registry.get("api", cache(5));
  registry.commit();

  registry.begin();  // a build that fails after asking for other settings: never committed
  EXPECT_NE(registry.get("api", cache(7)), api);

  registry.begin();
  EXPECT_EQ(registry.get("api", cache(5)), api);
  registry.commit();
}

TEST(CacheRegistry, ARouteLeftOutIsForgotten) {
  CacheRegistry registry;
  registry.begin();
  auto api = registry.get("api", cache(5));
  registry.commit();
  registry.begin();
  registry.commit();  // a build without the route
  registry.begin();
  EXPECT_NE(registry.get("api", cache(5)), api);
}

TEST(CacheRegistry, OptionsFollowTheConfig) {
  config::CacheConfig c;
  c.ttl = std::chrono::seconds(30);
  c.vary_by = {"X-Tenant"};
  c.max_entries = 5;
  c.max_entry_bytes = 100;
  c.max_bytes = 1000;
  c.lock_timeout = std::chrono::milliseconds(250);
  middleware::CacheOptions o = cache_options(c);
  EXPECT_EQ(o.default_ttl, std::chrono::seconds(30));
  EXPECT_EQ(o.vary_by, std::vector<std::string>{"X-Tenant"});
  EXPECT_EQ(o.max_entries, 5u);
  EXPECT_EQ(o.max_entry_bytes, 100u);
  EXPECT_EQ(o.max_bytes, 1000u);
  EXPECT_EQ(o.lock_timeout, std::chrono::milliseconds(250));
}

}  // namespace
}  // namespace rws::gateway
