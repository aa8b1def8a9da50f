#pragma once
// The settings of the default (static file server) mode, from four sources in increasing order
// of precedence: built-in defaults < environment (RWS_CONFIG_*) < rws.config.toml < command line.
// Every server key of CONFIG.md has all three spellings, driven by one key table.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <rws/server/options.hpp>

#include "app/static/static_files.hpp"
#include "config/gateway_config.hpp"
#include "config/l4_config.hpp"

namespace rws::config {

// [metrics]: GET/HEAD `path` answers the Prometheus text format before any route.
struct MetricsConfig {
  bool enabled = true;
  std::string path = "/metrics";  // starts with '/'
};

struct ServerConfig {
  server::ServerOptions server;
  app::StaticOptions files;
  std::string log_level = "info";
  std::string config_file;  // the file that was read; empty when none
  // Present when the file configures the gateway ([[route]], [[upstream]]).
  std::optional<GatewayConfig> gateway;
  // [[tcp_proxy]] and [[udp_proxy]]: they put the file in gateway mode too (the HTTP listener
  // then serves the gateway, with no routes when the file has none).
  L4Config l4;
  // [middleware] and [cors]: applied to every route (in gateway mode, already merged into each
  // route's middleware) and to the static file server.
  MiddlewareConfig middleware;
  MetricsConfig metrics;
};

struct LoadResult {
  ServerConfig config;
  std::vector<std::string>
      errors;  // each names its source: "--port", "RWS_CONFIG_PORT", file:line:col
  std::vector<std::string> warnings;  // deprecated spellings, questionable values
  bool check_only = false;            // --check-config / check-config FILE: validate, do not serve
  bool show_help = false;
  bool show_version = false;
  std::string help_text;
};

// Reads the environment through `getenv` (injected for tests) and the config file named by
// --config, RWS_CONFIG_FILE or ./rws.config.toml (only the last may be missing).
LoadResult load_server_config(const std::vector<std::string>& args,
                              const std::function<const char*(const char*)>& getenv);

}  // namespace rws::config
