#pragma once
// The gateway part of rws.config.toml ([[route]], [[upstream]]) as plain structs, validated.
// CONFIG.md is the contract; defaults below are its defaults.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/middleware_config.hpp"

namespace rws::config {

using std::chrono::milliseconds;
using std::chrono::seconds;

struct RouteMatch {
  std::optional<std::string> host;                           // lower case; "*.example.com" allowed
  std::optional<std::string> path;                           // "/x/*" (prefix by segment) or exact
  std::vector<std::string> methods;                          // empty: any
  std::optional<std::string> content_type;                   // "application/grpc*" = prefix
  std::vector<std::pair<std::string, std::string>> headers;  // value "*" = present
};

struct ProxyAction {
  std::string upstream;
  std::string strip_path_prefix;
  std::string add_path_prefix;
  bool preserve_host = false;
  std::optional<milliseconds> connect_timeout;
  std::optional<milliseconds> read_timeout;
  bool websocket_only = false;  // type = "websocket": only Upgrade requests
  bool grpc = false;            // type = "grpc": failures answered with gRPC statuses
};

struct StaticAction {
  std::string root;
  std::vector<std::string> index = {"index.html"};
  bool directory_listing = false;
  bool strip_prefix = true;
  std::string spa_fallback;
};

struct RedirectAction {
  std::string location;  // with $scheme $host $path $query $request_uri
  int status = 301;
};

struct RespondAction {
  int status = 200;
  std::string body;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
};

struct Route {
  std::string name;
  RouteMatch match;
  enum class Kind { kProxy, kStatic, kRedirect, kRespond } kind = Kind::kRespond;
  ProxyAction proxy;
  StaticAction static_files;
  RedirectAction redirect;
  RespondAction respond;
  MiddlewareConfig middleware;  // the route's own, over the document's defaults
};

struct Backend {
  std::string url;  // as written
  std::string host;
  std::uint16_t port = 80;  // https:// and wss:// default to 443
  unsigned weight = 1;
  bool tls = false;    // https://, wss://, h2s://, grpcs://, h3://
  bool http2 = false;  // h2://, h2s://, grpc://, grpcs:// (HTTP/2; by prior knowledge without TLS)
  bool http3 = false;  // h3:// (HTTP/3 over QUIC, always with TLS)

  bool operator==(const Backend&) const = default;
};

// [upstream.tls]: how https://, wss://, h2s://, grpcs:// and h3:// backends are reached.
struct UpstreamTls {
  bool verify = true;       // certificate chain and name; false only when asked
  std::string ca_file;      // empty: the system's trust store
  std::string client_cert;  // with client_key: presented when the backend asks
  std::string client_key;
  std::string sni;  // the name sent and verified; empty: each backend's host

  bool operator==(const UpstreamTls&) const = default;
};

struct HealthCheck {
  std::string path = "/health";
  seconds interval{30};
  milliseconds timeout{5000};
  unsigned healthy_threshold = 2;
  unsigned unhealthy_threshold = 3;
  std::string expect_status = "2xx";  // "2xx", "200", "200-399"
  int expect_min = 200;
  int expect_max = 299;
};

struct PassiveHealth {
  bool enabled = true;
  unsigned max_fails = 5;
  seconds fail_window{10};
  seconds eject{30};
};

struct CircuitBreaker {
  unsigned failure_threshold = 5;
  seconds recovery{30};
  unsigned max_half_open_probes = 1;
};

enum class Strategy { kRoundRobin, kLeastConn, kIpHash, kRandom, kP2c };

struct Upstream {
  std::string name;
  std::vector<Backend> backends;
  Strategy strategy = Strategy::kRoundRobin;
  milliseconds connect_timeout{5000};
  milliseconds read_timeout{30000};
  milliseconds write_timeout{30000};
  unsigned max_idle_per_backend = 64;
  seconds idle_timeout{60};
  unsigned max_requests_per_connection = 1000;
  unsigned retries = 1;
  std::optional<HealthCheck> health_check;
  PassiveHealth passive;
  std::optional<CircuitBreaker> circuit_breaker;
  UpstreamTls tls;
};

// [[ws_proxy]]: a listener of its own (plain HTTP/1.1) that only proxies WebSocket upgrades, to
// `upstream`: named "ws_proxy:NAME", round robin, passive ejection, the optional HTTP health
// check. With no live backend it answers 503; other requests get 426.
struct WsProxy {
  std::string name;
  std::string ip;  // an IP literal, without brackets
  std::uint16_t port = 0;
  Upstream upstream;
};

struct GatewayConfig {
  std::vector<Route> routes;
  std::vector<Upstream> upstreams;
  std::vector<WsProxy> ws_proxies;
  MiddlewareConfig defaults;  // [middleware] and [cors]: also around the "no route" 404
};

}  // namespace rws::config
