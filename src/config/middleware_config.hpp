#pragma once
// The middleware part of rws.config.toml: [route.middleware], the top-level [middleware]
// (defaults for every route) and [cors], as plain validated structs. CONFIG.md is the contract.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "config/rewrite_config.hpp"

namespace rws::config {

struct CorsConfig {
  bool allow_all = false;
  std::vector<std::string> allow_origins;
  std::vector<std::string> allow_methods = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"};
  std::vector<std::string> allow_headers;
  bool allow_credentials = false;
  std::vector<std::string> expose_headers;
  std::chrono::seconds max_age{86400};
};

struct IpFilterConfig {
  std::vector<std::string> allow;  // CIDR blocks or addresses, validated
  std::vector<std::string> deny;
};

struct ResponseHeadersConfig {
  std::vector<std::pair<std::string, std::string>> set;
  std::vector<std::pair<std::string, std::string>> add;
  std::vector<std::string> remove;
};

// Every field is optional: absent means "not configured here" (a route inherits the default).
struct MiddlewareConfig {
  std::optional<std::string> request_id_header;  // request_id = { header = "…" }
  std::optional<IpFilterConfig> ip_filter;
  std::optional<CorsConfig> cors;
  std::optional<std::uint64_t> max_body_size;  // 0: no limit (lifts a default)
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<ResponseHeadersConfig> headers;
  std::optional<RewriteConfig> rewrite;  // no rules: lifts a default rewrite

  // The fields set in `route` replace those here.
  void overlay(const MiddlewareConfig& route);
  bool empty() const {
    return !request_id_header && !ip_filter && !cors && !max_body_size && !timeout && !headers &&
           !rewrite;
  }
};

}  // namespace rws::config
