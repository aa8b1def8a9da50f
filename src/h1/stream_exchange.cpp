#include "h1/stream_exchange.hpp"

namespace rws::h1 {

void log_stream_exchange(http::ExchangeLog* log, const StreamExchange& exchange,
                         std::string_view peer_address, int version, std::uint64_t connection_id) {
  if (log == nullptr) return;
  http::ExchangeRecord record;
  record.peer_address =
      exchange.client_address.empty() ? peer_address : std::string_view(exchange.client_address);
  record.method = exchange.method;
  record.target = exchange.target;
  record.version = version;
  record.referer = exchange.referer;
  record.user_agent = exchange.user_agent;
  record.status = exchange.status;
  record.body_bytes = exchange.body_bytes;
  record.request_bytes = exchange.received;
  record.start = exchange.started_wall;
  record.duration = net::Clock::now() - exchange.started_steady;
  record.connection_id = connection_id;
  record.request_id = exchange.notes.request_id;
  record.route = exchange.notes.route;
  record.upstream = exchange.notes.upstream;
  record.upstream_address = exchange.notes.upstream_address;
  record.upstream_time = exchange.notes.upstream_time;
  record.upstream_status = exchange.notes.upstream_status;
  log->record(record);
}

}  // namespace rws::h1
