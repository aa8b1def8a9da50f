#pragma once
// Load-balancing strategies (CONFIG.md [[upstream]] strategy). A balancer is built per snapshot
// over the upstream's backends and shared by every worker; pick() is thread-safe.

#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "config/gateway_config.hpp"
#include "proxy/backend.hpp"

namespace rws::proxy {

class Balancer {
 public:
  using Eligible = std::function<bool(std::size_t)>;
  virtual ~Balancer() = default;
  // An index into the backends for which `eligible` holds, or nullopt when there is none.
  // `client` is the affinity key (client IP) for ip_hash.
  virtual std::optional<std::size_t> pick(std::string_view client, const Eligible& eligible) = 0;
  // Whether pick() reads the backends' load (Backend::in_flight, Backend::latency_us()): only
  // then do proxied requests keep it up to date, so that other strategies leave the backends'
  // shared counters alone.
  virtual bool uses_load() const noexcept { return false; }

  static std::unique_ptr<Balancer> make(config::Strategy strategy,
                                        std::vector<std::shared_ptr<Backend>> backends);
};

}  // namespace rws::proxy
