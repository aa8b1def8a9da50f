#include "proxy/backend.hpp"

namespace rws::proxy {

namespace {

std::string authority_of(const config::Backend& address) {
  std::string host =
      address.host.find(':') != std::string::npos ? "[" + address.host + "]" : address.host;
  return address.port == 80 ? host : host + ":" + std::to_string(address.port);
}

}  // namespace

Backend::Backend(std::string upstream, config::Backend address)
    : upstream_(std::move(upstream)),
      address_(std::move(address)),
      authority_(authority_of(address_)),
      weight_(address_.weight) {}

std::shared_ptr<const std::vector<asio::ip::tcp::endpoint>> Backend::endpoints() const {
  std::lock_guard lock(mutex_);
  return endpoints_;
}

void Backend::set_endpoints(std::vector<asio::ip::tcp::endpoint> endpoints) {
  auto shared = std::make_shared<const std::vector<asio::ip::tcp::endpoint>>(std::move(endpoints));
  std::lock_guard lock(mutex_);
  endpoints_ = std::move(shared);
}

std::int64_t Backend::idle_connection_count() const {
  std::int64_t sum = 0;
  idle_connections->for_each([&](const std::atomic<std::int64_t>& shard) {
    sum += shard.load(std::memory_order_relaxed);
  });
  return sum;
}

void Backend::record_latency(std::chrono::microseconds latency) {
  // EWMA with alpha 0.2; races between workers only blur the average.
  double previous = latency_us_.load(std::memory_order_relaxed);
  double sample = static_cast<double>(latency.count());
  latency_us_.store(previous == 0 ? sample : previous * 0.8 + sample * 0.2,
                    std::memory_order_relaxed);
}

void Backend::record_failure(const config::PassiveHealth& passive, Clock::time_point now) {
  if (!passive.enabled) return;
  std::lock_guard lock(mutex_);
  failures_.push_back(now);
  while (!failures_.empty() && now - failures_.front() > passive.fail_window)
    failures_.pop_front();
  if (failures_.size() >= passive.max_fails) {
    ejected_until_.store((now + passive.eject).time_since_epoch().count(),
                         std::memory_order_relaxed);
    failures_.clear();
  }
}

bool Backend::ejected(Clock::time_point now) const {
  return now.time_since_epoch().count() < ejected_until_.load(std::memory_order_relaxed);
}

bool Backend::available(const config::CircuitBreaker* breaker, Clock::time_point now) const {
  if (!healthy.load(std::memory_order_relaxed) || ejected(now)) return false;
  if (breaker == nullptr) return true;
  std::lock_guard lock(mutex_);
  switch (circuit_) {
    case Circuit::kClosed:
      return true;
    case Circuit::kOpen:
      return now - opened_at_ >= breaker->recovery;
    case Circuit::kHalfOpen:
      return probes_in_flight_ < breaker->max_half_open_probes;
  }
  return true;
}

bool Backend::admit(const config::CircuitBreaker* breaker, Clock::time_point now) {
  if (breaker == nullptr) return true;
  std::lock_guard lock(mutex_);
  if (circuit_ == Circuit::kOpen) {
    if (now - opened_at_ < breaker->recovery) return false;
    circuit_ = Circuit::kHalfOpen;
    probes_in_flight_ = 0;
  }
  if (circuit_ == Circuit::kHalfOpen) {
    if (probes_in_flight_ >= breaker->max_half_open_probes) return false;
    ++probes_in_flight_;
  }
  return true;
}

void Backend::on_result(const config::CircuitBreaker* breaker, bool success,
                        Clock::time_point now) {
  if (breaker == nullptr) return;
  std::lock_guard lock(mutex_);
  // A request admitted before the circuit opened says nothing about the recovery the open
  // circuit waits for: only the half-open probes decide.
  if (circuit_ == Circuit::kOpen) return;
  if (circuit_ == Circuit::kHalfOpen && probes_in_flight_ > 0) --probes_in_flight_;
  if (success) {
    consecutive_failures_ = 0;
    circuit_ = Circuit::kClosed;
    return;
  }
  ++consecutive_failures_;
  if (circuit_ == Circuit::kHalfOpen || consecutive_failures_ >= breaker->failure_threshold) {
    circuit_ = Circuit::kOpen;
    opened_at_ = now;
    consecutive_failures_ = 0;
  }
}

Backend::Circuit Backend::circuit() const {
  std::lock_guard lock(mutex_);
  return circuit_;
}

}  // namespace rws::proxy
