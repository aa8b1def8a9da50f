#pragma once
// What a session reports when an exchange (request and response) ends, for access logs and
// metrics. Called on the connection's thread; implementations must not block for long.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rws::http {

struct ExchangeRecord {
  std::string_view peer_address;
  std::string_view method;  // "-" when the request line could not be parsed
  std::string_view target;  // "-" likewise
  int version = 11;
  std::string_view referer;     // request's Referer field, "" when absent
  std::string_view user_agent;  // request's User-Agent field, "" when absent
  int status = 0;
  std::uint64_t body_bytes = 0;     // response body bytes written
  std::uint64_t request_bytes = 0;  // request body bytes received
  std::chrono::system_clock::time_point start;
  std::chrono::steady_clock::duration duration{};
  std::uint64_t connection_id = 0;
  // From the handlers' ExchangeNotes; "" / empty when not known.
  std::string_view request_id;
  std::string_view route;
  std::string_view upstream;
  std::string_view upstream_address;
  std::optional<std::chrono::microseconds> upstream_time;
  int upstream_status = 0;
};

class ExchangeLog {
 public:
  virtual ~ExchangeLog() = default;
  virtual void record(const ExchangeRecord& exchange) noexcept = 0;
};

}  // namespace rws::http
