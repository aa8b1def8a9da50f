#pragma once
// TunnelSet: the open TCP splices of an L4Service, so that a drain can wait for them and close
// what is left at its deadline. Used on the L4 thread only. Shared (shared_ptr) with every
// splice's on_finish, so a splice finishing while the io_context is destroyed still finds it.

#include <cstdint>
#include <functional>
#include <map>
#include <utility>

#include "l4/tcp_splice.hpp"

namespace rws::l4 {

class TunnelSet {
 public:
  // Registers a tunnel about to start; set() gives it its CloseSplice once the splice exists.
  std::uint64_t add() {
    const std::uint64_t id = next_++;
    open_.emplace(id, CloseSplice());
    return id;
  }
  void set(std::uint64_t id, CloseSplice close) {
    if (auto it = open_.find(id); it != open_.end()) it->second = std::move(close);
  }

  // Runs `on_empty` (once) when the last open tunnel is removed.
  void remove(std::uint64_t id) {
    open_.erase(id);
    if (open_.empty() && on_empty_) std::exchange(on_empty_, nullptr)();
  }

  // Closes every open tunnel; each is removed when its copies have unwound.
  void close_all() {
    const std::map<std::uint64_t, CloseSplice> open = open_;  // close() never re-enters remove()
    for (const auto& [id, close] : open) {
      if (close) close();
    }
  }

  std::size_t size() const { return open_.size(); }

  // `callback` runs once, now if nothing is open, else when the last tunnel is removed.
  void when_empty(std::function<void()> callback) {
    if (open_.empty()) {
      callback();
    } else {
      on_empty_ = std::move(callback);
    }
  }

 private:
  std::uint64_t next_ = 0;
  std::map<std::uint64_t, CloseSplice> open_;
  std::function<void()> on_empty_;
};

}  // namespace rws::l4
