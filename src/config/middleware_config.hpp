#pragma once
// The middleware part of rws.config.toml: [route.middleware], the top-level [middleware]
// (defaults for every route) and [cors], as plain validated structs. CONFIG.md is the contract.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <rws/auth/htpasswd.hpp>
#include <rws/auth/jwt.hpp>
#include <rws/redis/url.hpp>

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

struct RateLimitConfig {
  enum class Algorithm { kTokenBucket, kSlidingWindow };
  std::uint64_t max_requests = 0;  // > 0
  std::chrono::seconds window{0};  // > 0
  std::string key = "ip";          // "ip" or "header:NAME", validated
  std::uint64_t burst = 0;         // token bucket only
  Algorithm algorithm = Algorithm::kTokenBucket;
  std::uint64_t max_keys = 100000;
  // store = "redis": the counts live in Redis at redis_url, shared by every rws using it.
  enum class Store { kMemory, kRedis } store = Store::kMemory;
  redis::RedisUrl redis_url;                     // kRedis only
  std::chrono::milliseconds redis_timeout{250};  // kRedis only: per Redis answer
  // Equal settings share a limiter's state across a reload.
  bool operator==(const RateLimitConfig&) const = default;
};

// Response fields added when absent; "" means "do not send" (defaults: middleware/security.hpp).
struct SecurityHeadersConfig {
  std::string content_type_options = "nosniff";
  std::string frame_options = "DENY";
  std::string referrer_policy = "strict-origin-when-cross-origin";
  std::string content_security_policy;
  std::string strict_transport_security = "max-age=31536000";  // TLS responses only
};

struct MaintenanceConfig {
  bool enabled = true;
  std::chrono::seconds retry_after{0};
  std::string message = "Service temporarily unavailable for maintenance.";
};

// compress = { algorithms, min_size, types, levels = { br, zstd, gzip } }; `compress = false`
// turns off a [middleware] default for one route. Absent fields take the middleware's defaults.
struct CompressConfig {
  bool enabled = true;
  std::optional<std::vector<std::string>> algorithms;  // "br", "zstd", "gzip", validated
  std::optional<std::uint64_t> min_size;
  std::optional<std::vector<std::string>> types;  // "type/subtype", "type/*" or "*/*"
  std::optional<int> brotli_level;
  std::optional<int> zstd_level;
  std::optional<int> gzip_level;
};

// auth = { type = "bearer" | "basic" | "jwt", ... }: the credentials are loaded by the loader
// (env var read, htpasswd file parsed, keys read or fetched), so a reload re-reads them and a
// file that cannot be set up is rejected with the others' errors.
struct AuthConfig {
  enum class Type { kBearer, kBasic, kJwt };
  Type type = Type::kBearer;
  std::string token;                             // bearer
  std::shared_ptr<const auth::Htpasswd> users;   // basic
  std::string realm = "Restricted";              // basic
  std::shared_ptr<const auth::JwtVerifier> jwt;  // jwt
  std::string claims_header;                     // jwt; empty: none
};

// cache = { ttl_secs, vary_by, max_entries, max_entry_bytes, max_bytes, lock_timeout_ms }
// (max_bytes is an rws addition: the bound on all stored bodies together).
struct CacheConfig {
  std::optional<std::chrono::seconds> ttl;  // freshness when the response gives none
  std::vector<std::string> vary_by;         // header names, validated
  std::uint64_t max_entries = 10000;
  std::uint64_t max_entry_bytes = std::uint64_t{1} << 20;
  std::uint64_t max_bytes = std::uint64_t{64} << 20;  // >= max_entry_bytes, validated
  std::chrono::milliseconds lock_timeout{5000};       // 0: concurrent misses are not collapsed
  // Equal settings keep a route's stored entries across a reload.
  bool operator==(const CacheConfig&) const = default;
};

// forward_auth = { address, copy_headers, timeout_ms }: the address's host must resolve when the
// configuration is loaded; a DNS name is resolved again while it runs.
struct ForwardAuthConfig {
  std::string address;                 // as configured, for messages
  std::vector<std::string> addresses;  // the auth service's IP addresses, numeric
  std::string name;                    // the DNS name to re-resolve; empty for an IP literal
  std::uint16_t port = 80;             // 443 by default with tls
  bool tls = false;                    // https://: the certificate is verified (system trust store)
  std::string server_name;             // the address's host (no brackets): SNI and certificate name
  std::string host;                    // Host field sent
  std::string target;                  // path (and query) of the auth request
  std::vector<std::string> copy_headers;
  std::chrono::milliseconds timeout{5000};
};

// Every field is optional: absent means "not configured here" (a route inherits the default).
struct MiddlewareConfig {
  std::optional<std::string> request_id_header;  // request_id = { header = "…" }
  std::optional<IpFilterConfig> ip_filter;
  std::optional<CorsConfig> cors;
  std::optional<std::uint64_t> max_body_size;  // 0: no limit (lifts a default)
  std::optional<std::chrono::milliseconds> timeout;
  std::optional<ResponseHeadersConfig> headers;
  std::optional<SecurityHeadersConfig> security_headers;
  std::optional<MaintenanceConfig> maintenance;
  std::optional<RateLimitConfig> rate_limit;
  std::optional<CompressConfig> compress;
  std::optional<RewriteConfig> rewrite;  // no rules: lifts a default rewrite
  std::optional<CacheConfig> cache;
  std::optional<ForwardAuthConfig> forward_auth;
  std::optional<AuthConfig> auth;

  // The fields set in `route` replace those here.
  void overlay(const MiddlewareConfig& route);
  bool empty() const {
    return !request_id_header && !ip_filter && !cors && !max_body_size && !timeout && !headers &&
           !security_headers && !maintenance && !rate_limit && !(compress && compress->enabled) &&
           !auth && !rewrite && !cache && !forward_auth;
  }
};

}  // namespace rws::config
