#include "middleware/service_address.hpp"

#include <utility>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"

namespace rws::middleware {

ServiceAddress::ServiceAddress(Endpoints initial, std::string name, std::uint16_t port,
                               std::chrono::milliseconds every)
    : name_(std::move(name)),
      port_(port),
      every_(every),
      endpoints_(std::make_shared<const Endpoints>(std::move(initial))),
      resolved_at_(std::chrono::steady_clock::now()) {}

std::shared_ptr<const ServiceAddress::Endpoints> ServiceAddress::endpoints() const {
  std::lock_guard lock(mutex_);
  return endpoints_;
}

void ServiceAddress::refresh_if_due(const asio::any_io_executor& executor) {
  if (name_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    if (resolving_ || std::chrono::steady_clock::now() - resolved_at_ < every_) return;
    resolving_ = true;
  }
  asio::co_spawn(executor, refresh(shared_from_this()), asio::detached);
}

asio::awaitable<void> ServiceAddress::refresh(std::shared_ptr<ServiceAddress> self) {
  std::error_code ec = co_await self->resolve();
  if (ec) {
    log::http().warn("re-resolving '{}': {} (keeping the old addresses)", self->name_,
                     ec.message());
  }
}

asio::awaitable<std::error_code> ServiceAddress::resolve() {
  asio::ip::tcp::resolver resolver(co_await asio::this_coro::executor);
  auto [ec, results] = co_await resolver.async_resolve(
      name_, std::to_string(port_), asio::experimental::as_tuple(asio::use_awaitable));
  Endpoints found;
  if (!ec) {
    for (const auto& r : results)
      found.push_back(r.endpoint());
    if (found.empty()) ec = asio::error::host_not_found;
  }
  std::lock_guard lock(mutex_);
  resolving_ = false;
  resolved_at_ = std::chrono::steady_clock::now();  // a failure is retried after `every` too
  if (!ec) endpoints_ = std::make_shared<const Endpoints>(std::move(found));
  co_return ec;
}

}  // namespace rws::middleware
