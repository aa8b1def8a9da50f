#pragma once
// The addresses of a service a middleware talks to (forward_auth's auth service). For an IP
// literal they are fixed; for a DNS name they are resolved again, in the background, once
// `every` has passed since the last resolution: the current addresses stay in use meanwhile, and
// when a resolution fails (logged). Shared by every worker; thread-safe.

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <system_error>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

namespace rws::middleware {

class ServiceAddress : public std::enable_shared_from_this<ServiceAddress> {
 public:
  using Endpoints = std::vector<asio::ip::tcp::endpoint>;

  // `initial`: the addresses known now. `name` empty: they never change (no DNS).
  ServiceAddress(Endpoints initial, std::string name, std::uint16_t port,
                 std::chrono::milliseconds every);

  std::shared_ptr<const Endpoints> endpoints() const;

  // Starts a re-resolution on `executor` when one is due and none is running; never waits.
  void refresh_if_due(const asio::any_io_executor& executor);

  // Resolves `name` now; on success the result replaces the addresses. What the background
  // refresh runs.
  asio::awaitable<std::error_code> resolve();

 private:
  // Holds a reference, so the address outlives a configuration replaced meanwhile.
  static asio::awaitable<void> refresh(std::shared_ptr<ServiceAddress> self);

  const std::string name_;
  const std::uint16_t port_;
  const std::chrono::milliseconds every_;
  mutable std::mutex mutex_;
  std::shared_ptr<const Endpoints> endpoints_;
  std::chrono::steady_clock::time_point resolved_at_;
  bool resolving_ = false;
};

}  // namespace rws::middleware
