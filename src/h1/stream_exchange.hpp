#pragma once
// What a multiplexed session (HTTP/2, HTTP/3) keeps of one stream's exchange for the access log
// and metrics, and the record made from it when the exchange ends.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include <rws/http/exchange_notes.hpp>

#include "http/exchange_log.hpp"
#include "net/connection_registry.hpp"

namespace rws::h1 {

struct StreamExchange {
  std::string method;
  std::string target;
  std::string referer;
  std::string user_agent;
  std::string client_address;  // from trusted proxies' X-Forwarded-For; empty: the peer
  int status = 0;
  std::uint64_t body_bytes = 0;  // response body bytes sent
  std::uint64_t received = 0;    // request body bytes received
  http::ExchangeNotes notes;
  std::chrono::system_clock::time_point started_wall;
  net::Clock::time_point started_steady;
};

// Hands the ended exchange to `log` (null: nothing is recorded). `version` is 20 or 30.
void log_stream_exchange(http::ExchangeLog* log, const StreamExchange& exchange,
                         std::string_view peer_address, int version, std::uint64_t connection_id);

}  // namespace rws::h1
