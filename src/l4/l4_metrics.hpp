#pragma once
// The L4 listeners' counters as metrics, read at scrape time (label `listener` is the current
// name; a listener removed by a reload is no longer listed):
//   rws_l4_connections_total{listener}           TCP connections accepted / UDP sessions opened
//   rws_l4_connections_active{listener}          TCP connections open (spliced to a backend)
//   rws_l4_udp_sessions_active{listener}         UDP sessions open
//   rws_l4_bytes_total{listener,direction}       "in": client → backend, "out": backend → client
//   rws_l4_connect_failures_total{listener,backend}  failed TCP connects / UDP socket setups
//   rws_l4_backend_healthy{listener,backend}     1/0 per backend of the current settings

#include <memory>

#include "l4/l4_service.hpp"
#include "metrics/registry.hpp"

namespace rws::l4 {

// A collector for metrics::Registry::add_collector; it keeps `service` alive.
metrics::Registry::Collector l4_collector(std::shared_ptr<const L4Service> service);

}  // namespace rws::l4
