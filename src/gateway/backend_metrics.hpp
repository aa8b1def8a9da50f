#pragma once
// The gateway's backend state as metrics, read at scrape time:
// rws_upstream_backend_healthy{upstream,backend} (1/0: 0 when active health checks fail it OR
// passive outlier ejection keeps it out, like Envoy's membership_healthy),
// rws_upstream_backend_ejected{upstream,backend} (1 while passively ejected, to tell the two
// apart) and rws_upstream_circuit_state{upstream,backend} (0 closed, 1 half-open, 2 open).

#include <memory>

#include "gateway/gateway.hpp"
#include "metrics/registry.hpp"

namespace rws::gateway {

// A collector for metrics::Registry::add_collector; it keeps `gateway` alive.
metrics::Registry::Collector backend_state_collector(std::shared_ptr<const Gateway> gateway);

}  // namespace rws::gateway
