#include "middleware/cache_fills.hpp"

#include <algorithm>
#include <system_error>
#include <utility>
#include <vector>

#include <asio/error.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

namespace rws::middleware {

// One waiting request. `timer` and `outcome` are guarded by the registry's mutex.
struct FillWaiter {
  asio::any_io_executor executor;
  asio::steady_timer* timer = nullptr;  // in the waiter's frame; null once it stops waiting
  std::optional<FillOutcome> outcome;   // set by the fill's end, which also drops the waiter
};

// A fill in flight; its waiters in arrival order.
struct FillFlight {
  std::vector<std::shared_ptr<FillWaiter>> waiters;
};

// Withdraws a waiter when its frame goes, whether `join` returned, threw or was destroyed.
class FillRegistry::WaitGuard {
 public:
  WaitGuard(FillRegistry& registry, const std::string& key, std::shared_ptr<FillWaiter> waiter)
      : registry_(registry), key_(key), waiter_(std::move(waiter)) {}
  WaitGuard(const WaitGuard&) = delete;
  WaitGuard& operator=(const WaitGuard&) = delete;
  ~WaitGuard() {
    if (waiter_) registry_.leave(key_, *waiter_);
  }
  std::optional<FillOutcome> leave() {
    std::optional<FillOutcome> outcome = registry_.leave(key_, *waiter_);
    waiter_.reset();
    return outcome;
  }

 private:
  FillRegistry& registry_;
  const std::string& key_;
  std::shared_ptr<FillWaiter> waiter_;
};

FillLease& FillLease::operator=(FillLease&& other) noexcept {
  if (this != &other) {
    finish(false);
    registry_ = std::move(other.registry_);
    key_ = std::move(other.key_);
    flight_ = std::move(other.flight_);
  }
  return *this;
}

void FillLease::finish(bool stored) {
  if (!registry_) return;
  registry_->finish(key_, flight_.get(), stored ? FillOutcome::kStored : FillOutcome::kNotStored);
  registry_.reset();
  flight_.reset();
}

asio::awaitable<FillJoin> FillRegistry::join(std::string key, bool may_lead,
                                             std::chrono::milliseconds timeout) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(timeout);
  std::shared_ptr<FillWaiter> waiter;
  FillJoin joined;
  {
    std::lock_guard lock(mutex_);
    auto it = flights_.find(key);
    if (it == flights_.end()) {
      if (may_lead) {
        auto flight = std::make_shared<FillFlight>();
        flights_.emplace(key, flight);
        joined.lease = FillLease(shared_from_this(), key, std::move(flight));
      }
    } else {
      waiter = std::make_shared<FillWaiter>();
      waiter->executor = timer.get_executor();
      waiter->timer = &timer;
      it->second->waiters.push_back(waiter);
      ++waiting_;
    }
  }
  if (!waiter) co_return joined;  // leads, or nobody to wait for

  WaitGuard guard(*this, key, waiter);
  auto [ec] = co_await timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable));
  joined.outcome = guard.leave();
  if (joined.outcome) co_return joined;
  if (ec == asio::error::operation_aborted) throw std::system_error(ec);  // cancelled
  joined.outcome = FillOutcome::kTimedOut;
  co_return joined;
}

std::size_t FillRegistry::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

void FillRegistry::finish(const std::string& key, const FillFlight* flight, FillOutcome outcome) {
  std::lock_guard lock(mutex_);
  auto it = flights_.find(key);
  if (it == flights_.end() || it->second.get() != flight) return;
  std::shared_ptr<FillFlight> ended = std::move(it->second);
  flights_.erase(it);
  waiting_ -= ended->waiters.size();
  for (std::shared_ptr<FillWaiter>& waiter : ended->waiters) {
    waiter->outcome = outcome;
    // Posted under the lock: the waiter cannot withdraw (and its executor cannot be torn down
    // through its frame) between the check above and the post.
    asio::post(waiter->executor, [self = shared_from_this(), waiter] {
      std::lock_guard relock(self->mutex_);
      if (waiter->timer) waiter->timer->cancel();
    });
  }
}

std::optional<FillOutcome> FillRegistry::leave(const std::string& key, FillWaiter& waiter) {
  std::lock_guard lock(mutex_);
  waiter.timer = nullptr;
  if (waiter.outcome) return waiter.outcome;
  // Without an outcome the waiter is still in the flight it joined: a flight leaves the map
  // only in `finish`, which gives every waiter of it an outcome.
  auto it = flights_.find(key);
  if (it != flights_.end()) {
    auto& waiters = it->second->waiters;
    auto found = std::find_if(waiters.begin(), waiters.end(),
                              [&](const auto& w) { return w.get() == &waiter; });
    if (found != waiters.end()) {
      waiters.erase(found);
      --waiting_;
    }
  }
  return std::nullopt;
}

}  // namespace rws::middleware
