#pragma once
// An upgraded stream that tells the protocol running on it when the server starts draining
// (graceful shutdown), so the protocol can end in its own way — a WebSocket sends 1001 Going
// Away — instead of being cut off at the shutdown timeout. The HTTP/1.1 session's upgraded
// stream implements it; an upgrade handler finds it with dynamic_cast on its
// http::UpgradedStream (streams without it are never told).

#include <functional>

namespace rws::http {

class DrainNotice {
 public:
  // `callback` runs on the connection's executor when draining starts (at once when it already
  // has); an empty function unregisters. The caller keeps the callback's captures valid until
  // it unregisters.
  virtual void on_drain(std::function<void()> callback) = 0;

 protected:
  ~DrainNotice() = default;
};

}  // namespace rws::http
