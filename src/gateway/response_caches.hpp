#pragma once
// CacheRegistry: the gateway's response caches, kept across reloads.
//
// Each route's cache is looked up by the route's name (its scope) and its cache settings. A
// snapshot build calls `begin`, then `get` for each cache: the cache the last committed build
// used for that scope when the settings are equal (so stored entries, and fills in flight,
// survive a reload), else a new, empty one. `commit`, once the build has succeeded, makes the
// caches handed out the ones the next build compares with; the others are released when the
// old snapshot goes. A failed build never commits, and the next `begin` forgets what it was
// handed. Builds are serialised by the caller; the mutex only keeps the registry consistent.

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include <rws/middleware/cache.hpp>

#include "config/middleware_config.hpp"

namespace rws::gateway {

middleware::CacheOptions cache_options(const config::CacheConfig& config);

class CacheRegistry {
 public:
  void begin();
  std::shared_ptr<middleware::ResponseCache> get(const std::string& scope,
                                                 const config::CacheConfig& config);
  void commit();

 private:
  struct Held {
    config::CacheConfig config;
    std::shared_ptr<middleware::ResponseCache> cache;
  };
  std::mutex mutex_;
  std::map<std::string, Held> current_;  // the last committed build's
  std::map<std::string, Held> next_;     // the build in progress
};

}  // namespace rws::gateway
