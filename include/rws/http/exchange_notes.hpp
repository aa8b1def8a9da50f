#pragma once
// ExchangeNotes: facts about one exchange that only the handlers know (which route matched, which
// backend answered and how fast), written by them and read by the session when it logs the
// exchange. Owned by the session; cleared after each exchange is logged.

#include <chrono>
#include <optional>
#include <string>

namespace rws::http {

struct ExchangeNotes {
  std::string request_id;        // set by the request_id middleware; "" when none
  std::string route;             // name of the gateway route that matched; "" when none
  std::string upstream;          // name of the upstream the proxy chose; "" when not proxied
  std::string upstream_address;  // "host:port" of the last backend tried; "" when not proxied
  // From sending the request to the backend until its response head arrived (last attempt).
  std::optional<std::chrono::microseconds> upstream_time;
  int upstream_status = 0;  // status the backend answered with; 0 when none

  void clear() noexcept {
    request_id.clear();
    route.clear();
    upstream.clear();
    upstream_address.clear();
    upstream_time.reset();
    upstream_status = 0;
  }
};

}  // namespace rws::http
