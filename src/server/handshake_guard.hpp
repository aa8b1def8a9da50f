#pragma once
// Keeps a connection that is still in its TLS handshake in the worker's registry, so that the
// handshake is bounded by a deadline and the drain's abort closes it. Scoped: registers on
// construction, unregisters on destruction.

#include "net/connection_registry.hpp"
#include "net/transport.hpp"

namespace rws::server {

class HandshakeGuard final : public net::TrackedConnection {
 public:
  HandshakeGuard(net::ConnectionRegistry& registry, net::Transport& transport,
                 net::Clock::time_point deadline)
      : registry_(registry), transport_(transport) {
    this->deadline = deadline;
    registry_.add(*this);
  }
  ~HandshakeGuard() override { registry_.remove(*this); }
  HandshakeGuard(const HandshakeGuard&) = delete;
  HandshakeGuard& operator=(const HandshakeGuard&) = delete;

  bool timed_out() const noexcept { return timed_out_; }

  void on_deadline() noexcept override {
    timed_out_ = true;
    transport_.cancel();
  }
  // A handshake in progress finishes (bounded by its deadline); the session then sees the drain.
  void on_drain() noexcept override {}
  void on_abort() noexcept override { transport_.close(); }

 private:
  net::ConnectionRegistry& registry_;
  net::Transport& transport_;
  bool timed_out_ = false;
};

}  // namespace rws::server
