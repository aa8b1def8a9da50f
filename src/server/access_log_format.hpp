#pragma once
// Access log line formats. Pure functions: every byte that came from the network is escaped, so a
// log line can neither be split nor forged by a client.

#include <string>

#include "http/exchange_log.hpp"

namespace rws::server {

// NCSA combined: 127.0.0.1 - - [26/Nov/2026:17:20:05 +0000] "GET / HTTP/1.1" 200 13 "-" "curl/8"
// Times are UTC. When the exchange has a request id or went to a backend, the line goes on with
// ` request_id=ID upstream=HOST:PORT upstream_time=0.002 request_time=0.003` (each part only when
// known; times in seconds with millisecond precision). Credential query values are redacted.
void append_combined(const http::ExchangeRecord& r, std::string& out);

// One JSON object per line with time (RFC 3339, ms, UTC), remote_addr, method, target, protocol,
// status, bytes_sent, duration_ms, referer, user_agent, connection_id; then, when known,
// request_id, route, upstream_addr, upstream_time_ms, upstream_status. Credential query values in
// the target are redacted.
void append_json(const http::ExchangeRecord& r, std::string& out);

}  // namespace rws::server
