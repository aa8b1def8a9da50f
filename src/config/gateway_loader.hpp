#pragma once

#include <toml++/toml.h>

#include "config/gateway_config.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {

// Whether the document configures the gateway (any route, upstream or L4/WebSocket listener),
// decided from the parsed document.
bool is_gateway_document(const toml::table& document);

// Reads and validates [[upstream]] and [[route]]; every problem is reported to `diagnostics`.
// Each route's middleware is `defaults` with the route's own [route.middleware] keys over it.
GatewayConfig load_gateway(const toml::table& document, const MiddlewareConfig& defaults,
                           Diagnostics& diagnostics);

// Reads an [upstream.health_check]-style table (HTTP GET probe); messages start with `what`.
HealthCheck load_health_check(const toml::table& table, const std::string& what,
                              Diagnostics& diagnostics);

// Parses a backend address: "host:port", "[v6]:port", "http://host[:port]", "ws://…".
// Schemes that need TLS, HTTP/2 or HTTP/3 are refused (not available yet). Empty `error` on
// success.
Backend parse_backend(std::string_view text, std::string& error);

}  // namespace rws::config
