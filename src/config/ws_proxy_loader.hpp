#pragma once

#include <toml++/toml.h>

#include <vector>

#include "config/gateway_config.hpp"
#include "config/l4_config.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {

// Reads and validates [[ws_proxy]] (CONFIG.md "L4 and WebSocket listeners"): `name`, `listen`,
// `backends` (ws://, wss://, bare host:port), `connect_timeout_ms`, `read_timeout_ms`, optional
// [ws_proxy.health_check] (as [upstream.health_check]). Every problem is reported to
// `diagnostics`. Names are unique among ws_proxies and apart from the tcp_proxy/udp_proxy names
// of `l4`; no entry of `upstreams` may be named "ws_proxy:NAME" (the name of a ws_proxy's
// backends); a listen address (port 0 excepted) is used by one ws_proxy and no tcp_proxy.
std::vector<WsProxy> load_ws_proxies(const toml::table& document, const L4Config& l4,
                                     const std::vector<Upstream>& upstreams,
                                     Diagnostics& diagnostics);

}  // namespace rws::config
