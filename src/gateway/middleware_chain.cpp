#include "gateway/middleware_chain.hpp"

#include <stdexcept>

#include <rws/middleware/auth.hpp>
#include <rws/middleware/cache.hpp>
#include <rws/middleware/compress.hpp>
#include <rws/middleware/cors.hpp>
#include <rws/middleware/forward_auth.hpp>
#include <rws/middleware/ip_filter.hpp>
#include <rws/middleware/limits.hpp>
#include <rws/middleware/rate_limit.hpp>
#include <rws/middleware/redis_rate_limit.hpp>
#include <rws/middleware/request_id.hpp>
#include <rws/middleware/response_headers.hpp>
#include <rws/middleware/rewrite.hpp>
#include <rws/middleware/security.hpp>

#include "gateway/rate_limiters.hpp"
#include "gateway/response_caches.hpp"
#include "gateway/rewrite_options.hpp"

namespace rws::gateway {
namespace {

std::vector<http::Cidr> cidrs(const std::vector<std::string>& texts) {
  std::vector<http::Cidr> out;
  for (const std::string& text : texts) {
    std::optional<http::Cidr> cidr = http::Cidr::parse(text);
    if (!cidr) throw std::invalid_argument("invalid CIDR '" + text + "'");  // validated before
    out.push_back(*cidr);
  }
  return out;
}

middleware::CompressOptions compress_options(const config::CompressConfig& c) {
  middleware::CompressOptions o;
  if (c.algorithms) {
    o.algorithms.clear();
    for (const std::string& name : *c.algorithms) {
      std::optional<middleware::Coding> coding = middleware::parse_coding(name);
      if (!coding) throw std::invalid_argument("unknown algorithm '" + name + "'");  // validated
      o.algorithms.push_back(*coding);
    }
  }
  if (c.min_size) o.min_size = *c.min_size;
  if (c.types) o.types = *c.types;
  if (c.brotli_level) o.levels.brotli = *c.brotli_level;
  if (c.zstd_level) o.levels.zstd = *c.zstd_level;
  if (c.gzip_level) o.levels.gzip = *c.gzip_level;
  return o;
}

Middleware auth_middleware(const config::AuthConfig& auth) {
  switch (auth.type) {
    case config::AuthConfig::Type::kBearer:
      return middleware::bearer_auth({auth.token});
    case config::AuthConfig::Type::kBasic:
      return middleware::basic_auth({auth.users, auth.realm});
    case config::AuthConfig::Type::kJwt:
      return middleware::jwt_auth({auth.jwt, auth.claims_header});
  }
  throw std::invalid_argument("unknown auth type");
}

}  // namespace

std::vector<Middleware> make_middleware(const config::MiddlewareConfig& config,
                                        RateLimiterRegistry* limiters, const std::string& scope,
                                        CacheRegistry* caches) {
  std::vector<Middleware> chain;
  if (config.request_id_header) {
    chain.push_back(middleware::request_id({*config.request_id_header}));
  }
  if (config.security_headers) {
    const config::SecurityHeadersConfig& s = *config.security_headers;
    chain.push_back(
        middleware::security_headers({s.content_type_options, s.frame_options, s.referrer_policy,
                                      s.content_security_policy, s.strict_transport_security}));
  }
  if (config.headers) {
    chain.push_back(middleware::response_headers(
        {config.headers->set, config.headers->add, config.headers->remove}));
  }
  if (config.maintenance && config.maintenance->enabled) {
    chain.push_back(
        middleware::maintenance({config.maintenance->retry_after, config.maintenance->message}));
  }
  if (config.ip_filter) {
    chain.push_back(
        middleware::ip_filter({cidrs(config.ip_filter->allow), cidrs(config.ip_filter->deny)}));
  }
  if (config.cors) {
    const config::CorsConfig& c = *config.cors;
    chain.push_back(
        middleware::cors({c.allow_all, c.allow_origins, c.allow_methods, c.allow_headers,
                          c.allow_credentials, c.expose_headers, c.max_age}));
  }
  if (config.rate_limit) {
    const config::RateLimitConfig& c = *config.rate_limit;
    std::optional<middleware::RateLimitKey> key = middleware::RateLimitKey::parse(c.key);
    if (!key) throw std::invalid_argument("invalid rate limit key '" + c.key + "'");  // validated
    if (c.store == config::RateLimitConfig::Store::kRedis) {
      // The counts live in Redis, namespaced by route ("" for the [middleware] defaults).
      chain.push_back(
          middleware::redis_rate_limit({c.redis_url, c.redis_timeout, "rws:rl:" + scope + ":",
                                        rate_limiter_options(c), std::move(*key)}));
    } else {
      chain.push_back(middleware::rate_limit(
          limiters != nullptr ? limiters->get(scope, c)
                              : std::make_shared<middleware::RateLimiter>(rate_limiter_options(c)),
          std::move(*key)));
    }
  }
  if (config.auth) chain.push_back(auth_middleware(*config.auth));
  if (config.forward_auth) {
    const config::ForwardAuthConfig& f = *config.forward_auth;
    middleware::ForwardAuthOptions o;
    for (const std::string& address : f.addresses) {
      o.endpoints.emplace_back(asio::ip::make_address(address), f.port);  // numeric: validated
    }
    o.host = f.host;
    o.target = f.target;
    o.copy_headers = f.copy_headers;
    o.timeout = f.timeout;
    o.resolve_host = f.name;  // empty for an IP literal
    o.port = f.port;
    o.tls = f.tls;
    o.server_name = f.server_name;
    chain.push_back(middleware::forward_auth(std::move(o)));  // throws when TLS cannot be set up
  }
  if (config.max_body_size && *config.max_body_size > 0) {
    chain.push_back(middleware::max_body_size(*config.max_body_size));
  }
  if (config.timeout) chain.push_back(middleware::timeout(*config.timeout));
  if (config.rewrite && !(config.rewrite->request.empty() && config.rewrite->response.empty())) {
    chain.push_back(middleware::rewrite(rewrite_options(*config.rewrite)));  // validated at load
  }
  if (config.cache) {
    const config::CacheConfig& c = *config.cache;
    chain.push_back(caches != nullptr ? caches->get(scope, c)->middleware()
                                      : middleware::cache(cache_options(c)));
  }
  if (config.compress && config.compress->enabled) {
    chain.push_back(middleware::compress(compress_options(*config.compress)));
  }
  return chain;
}

}  // namespace rws::gateway
