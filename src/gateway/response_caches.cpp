#include "gateway/response_caches.hpp"

namespace rws::gateway {

middleware::CacheOptions cache_options(const config::CacheConfig& config) {
  middleware::CacheOptions o;
  o.default_ttl = config.ttl;
  o.vary_by = config.vary_by;
  o.max_entries = config.max_entries;
  o.max_entry_bytes = config.max_entry_bytes;
  o.max_bytes = config.max_bytes;
  o.lock_timeout = config.lock_timeout;
  return o;
}

void CacheRegistry::begin() {
  std::lock_guard lock(mutex_);
  next_.clear();
}

std::shared_ptr<middleware::ResponseCache> CacheRegistry::get(const std::string& scope,
                                                              const config::CacheConfig& config) {
  std::lock_guard lock(mutex_);
  std::shared_ptr<middleware::ResponseCache> cache;
  if (auto it = current_.find(scope); it != current_.end() && it->second.config == config) {
    cache = it->second.cache;
  } else {
    cache = std::make_shared<middleware::ResponseCache>(cache_options(config));
  }
  next_[scope] = Held{config, cache};
  return cache;
}

void CacheRegistry::commit() {
  std::lock_guard lock(mutex_);
  current_ = std::move(next_);
  next_ = {};
}

}  // namespace rws::gateway
