#include "net/connection_registry.hpp"

namespace rws::net {
namespace {
thread_local ConnectionRegistry* current_registry = nullptr;
}  // namespace

ConnectionRegistry* ConnectionRegistry::current() noexcept {
  return current_registry;
}
void ConnectionRegistry::set_current(ConnectionRegistry* registry) noexcept {
  current_registry = registry;
}

void ConnectionRegistry::add(TrackedConnection& c) {
  c.registry_index_ = live_.size();
  live_.push_back(&c);
}

void ConnectionRegistry::remove(TrackedConnection& c) {
  std::size_t i = c.registry_index_;
  if (i >= live_.size() || live_[i] != &c) return;
  live_[i] = live_.back();
  live_[i]->registry_index_ = i;
  live_.pop_back();
}

template <class F>
void ConnectionRegistry::for_each(F f) {
  for (TrackedConnection* c : live_)
    f(*c);
}

void ConnectionRegistry::sweep(Clock::time_point now) {
  for_each([now](TrackedConnection& c) {
    if (c.deadline <= now) {
      c.deadline = Clock::time_point::max();
      c.on_deadline();
    }
  });
}

void ConnectionRegistry::drain_all() {
  draining_ = true;
  for_each([](TrackedConnection& c) { c.on_drain(); });
}

void ConnectionRegistry::abort_all() {
  for_each([](TrackedConnection& c) { c.on_abort(); });
}

}  // namespace rws::net
