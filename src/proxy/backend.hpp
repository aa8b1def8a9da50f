#pragma once
// Runtime state of one backend of an upstream, shared by every worker and kept across reloads
// (the registry hands the same object to a new snapshot while the backend stays configured).
// Thread-safe: counters are atomics, the small failure histories take a mutex.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>

#include "config/gateway_config.hpp"
#include "core/thread_shards.hpp"

namespace rws::proxy {

using Clock = std::chrono::steady_clock;

// Idle pooled connections, counted per thread shard (the pools are per worker): the sum over
// the shards is the count; one shard alone may go below zero.
using IdleGauge = core::ThreadShards<std::atomic<std::int64_t>>;

class Backend {
 public:
  Backend(std::string upstream, config::Backend address);

  const std::string& upstream() const { return upstream_; }
  const std::string& url() const { return address_.url; }
  const std::string& host() const { return address_.host; }
  std::uint16_t port() const { return address_.port; }
  bool tls() const { return address_.tls; }      // https://, wss://, h2s://, grpcs://, h3://
  bool http2() const { return address_.http2; }  // h2://, h2s://, grpc://, grpcs://
  bool http3() const { return address_.http3; }  // h3://
  unsigned weight() const { return weight_.load(std::memory_order_relaxed); }
  void set_weight(unsigned w) { weight_.store(w, std::memory_order_relaxed); }
  // "host:port" as sent in Host (IPv6 in brackets); computed once.
  const std::string& authority() const { return authority_; }

  // Resolved addresses (IP literals need none); replaced by re-resolution.
  std::shared_ptr<const std::vector<asio::ip::tcp::endpoint>> endpoints() const;
  void set_endpoints(std::vector<asio::ip::tcp::endpoint> endpoints);

  // Requests in flight and a moving average of response latency, for least_conn and p2c
  // (proxied requests keep them only for the strategies that read them: Balancer::uses_load).
  std::atomic<std::uint32_t> in_flight{0};
  void record_latency(std::chrono::microseconds latency);
  double latency_us() const { return latency_us_.load(std::memory_order_relaxed); }
  // Idle pooled connections to this backend (kept by the pools; shared so that connections
  // pooled after a reload dropped the backend can still count down).
  const std::shared_ptr<IdleGauge> idle_connections = std::make_shared<IdleGauge>();
  // All workers' idle pooled connections to this backend.
  std::int64_t idle_connection_count() const;

  // Active health checks: healthy until checks say otherwise.
  std::atomic<bool> healthy{true};
  std::atomic<unsigned> check_successes{0};
  std::atomic<unsigned> check_failures{0};

  // Passive outlier ejection: `max_fails` failures within `window` eject for `eject`.
  void record_failure(const config::PassiveHealth& passive, Clock::time_point now);
  bool ejected(Clock::time_point now) const;

  // Circuit breaker: closed → (threshold consecutive failures) open → (after recovery) half-open
  // with a limited number of probes → closed on success, open again on failure.
  enum class Circuit { kClosed, kOpen, kHalfOpen };
  // Whether a request may go to this backend now; in half-open it takes one probe slot.
  bool admit(const config::CircuitBreaker* breaker, Clock::time_point now);
  void on_result(const config::CircuitBreaker* breaker, bool success, Clock::time_point now);
  Circuit circuit() const;

  // Eligible for new requests (not failed, not ejected, circuit not open), without taking a
  // half-open probe slot.
  bool available(const config::CircuitBreaker* breaker, Clock::time_point now) const;

 private:
  std::string upstream_;
  config::Backend address_;
  std::string authority_;
  std::atomic<unsigned> weight_;
  mutable std::mutex mutex_;
  std::shared_ptr<const std::vector<asio::ip::tcp::endpoint>> endpoints_;
  std::atomic<double> latency_us_{0};
  std::deque<Clock::time_point> failures_;      // passive, within the window
  std::atomic<std::int64_t> ejected_until_{0};  // steady ticks
  Circuit circuit_ = Circuit::kClosed;
  unsigned consecutive_failures_ = 0;
  Clock::time_point opened_at_{};
  unsigned probes_in_flight_ = 0;
};

}  // namespace rws::proxy
