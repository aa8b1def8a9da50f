#include "config/middleware_loader.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <algorithm>
#include <cctype>
#include <iterator>

#include <rws/http/cidr.hpp>
#include <rws/http/headers.hpp>

#include "config/auth_loader.hpp"
#include "config/gateway_loader.hpp"
#include "config/rewrite_loader.hpp"
#include "http/syntax.hpp"

namespace rws::config {
namespace {

constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;

std::optional<std::vector<std::string>> tokens(TableReader& r, std::string_view key) {
  std::optional<std::vector<std::string>> list = r.strings(key);
  if (!list) return std::nullopt;
  for (const std::string& item : *list) {
    if (item != "*" && !http::syntax::is_token(item)) {
      r.error(key, std::string(key) + ": '" + item + "' is not a valid name");
      return std::nullopt;
    }
  }
  return list;
}

// scheme "://" host [":" port], as browsers send Origin: host a name, IPv4 or [IPv6].
bool is_origin(std::string_view origin) {
  const std::size_t sep = origin.find("://");
  if (sep == std::string_view::npos || sep == 0) return false;
  std::string_view scheme = origin.substr(0, sep);
  if (!std::isalpha(static_cast<unsigned char>(scheme[0]))) return false;
  for (char c : scheme) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '+' && c != '-' && c != '.') {
      return false;
    }
  }
  std::string_view rest = origin.substr(sep + 3);
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) return false;
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return false;
      port = after.substr(1);
      if (port.empty()) return false;
    }
    for (char c : host) {
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    }
  } else {
    const std::size_t colon = rest.find(':');
    if (colon != std::string_view::npos) {
      host = rest.substr(0, colon);
      port = rest.substr(colon + 1);
      if (port.empty()) return false;
    }
    for (char c : host) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.') return false;
    }
  }
  if (host.empty() || port.size() > 5) return false;
  for (char c : port) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

CorsConfig read_cors(const toml::table& t, const std::string& what, Diagnostics& d) {
  TableReader r(t, what, d);
  CorsConfig c;
  if (auto v = r.boolean("allow_all")) c.allow_all = *v;
  if (auto v = r.strings("allow_origins")) {
    for (const std::string& origin : *v) {
      // Compared exactly with what browsers send, so it must have that shape.
      if (origin == "*") {
        r.error("allow_origins", "allow_origins: use allow_all = true for any origin, not \"*\"");
      } else if (!is_origin(origin)) {
        r.error("allow_origins",
                "allow_origins: '" + origin + "' is not an origin (scheme://host[:port], no path)");
      }
    }
    c.allow_origins = *v;
  }
  if (auto v = tokens(r, "allow_methods")) c.allow_methods = *v;
  if (auto v = tokens(r, "allow_headers")) c.allow_headers = *v;
  if (auto v = r.boolean("allow_credentials")) c.allow_credentials = *v;
  if (auto v = tokens(r, "expose_headers")) c.expose_headers = *v;
  if (auto v = r.integer("max_age", 0, 7LL * 86400)) c.max_age = std::chrono::seconds(*v);
  if (c.allow_all && c.allow_credentials) {
    // Credentials need an exact origin: with allow_all they are never sent.
    r.error("allow_credentials",
            "allow_credentials cannot be combined with allow_all (credentialed requests need "
            "an exact origin list in allow_origins)");
  }
  if (!c.allow_all && c.allow_origins.empty() && t.contains("allow_origins")) {
    r.error("allow_origins", "allow_origins is empty: no origin would be allowed");
  }
  r.finish();
  return c;
}

std::vector<std::string> read_cidrs(TableReader& r, std::string_view key) {
  std::vector<std::string> out;
  if (auto list = r.strings(key)) {
    for (const std::string& item : *list) {
      if (!http::Cidr::parse(item)) {
        r.error(key, std::string(key) + ": '" + item +
                         "' is not an IP address or CIDR block (like 10.0.0.0/8 or 2001:db8::/32)");
      }
      out.push_back(item);
    }
  }
  return out;
}

// Fields rws owns because they frame or date the message; editing them is refused.
bool framing_field(std::string_view name) {
  return http::iequals(name, "content-length") || http::iequals(name, "transfer-encoding") ||
         http::iequals(name, "connection") || http::iequals(name, "date");
}

void read_field_table(TableReader& r, std::string_view key,
                      std::vector<std::pair<std::string, std::string>>& out) {
  const toml::table* t = r.table(key);
  if (t == nullptr) return;
  for (auto&& [name, value] : *t) {
    auto v = value.value_exact<std::string>();
    if (!http::syntax::is_token(name.str())) {
      r.error(key,
              std::string(key) + ": '" + std::string(name.str()) + "' is not a valid header name");
    } else if (framing_field(name.str())) {
      r.error(key, std::string(key) + ": '" + std::string(name.str()) +
                       "' is written by rws itself (message framing) and cannot be edited");
    } else if (!v || !http::syntax::is_field_value(*v)) {
      r.error(key, std::string(key) + ": the value of '" + std::string(name.str()) +
                       "' must be a string without control characters");
    } else {
      out.emplace_back(std::string(name.str()), *v);
    }
  }
}

// rate_limit = { max_requests, window_secs, key, burst, algorithm, max_keys, store, redis_url,
// redis_timeout_ms }.
RateLimitConfig read_rate_limit(const toml::table& t, const std::string& what, Diagnostics& d) {
  TableReader r(t, what, d);
  RateLimitConfig c;
  if (auto v = r.integer("max_requests", 1, 1'000'000'000)) {
    c.max_requests = static_cast<std::uint64_t>(*v);
  } else if (!t.contains("max_requests")) {
    r.error_here("max_requests is required");
  }
  if (auto v = r.integer("window_secs", 1, 365LL * 86400)) {
    c.window = std::chrono::seconds(*v);
  } else if (!t.contains("window_secs")) {
    r.error_here("window_secs is required");
  }
  if (auto v = r.string("key")) {
    constexpr std::string_view kHeader = "header:";
    const bool header = v->compare(0, kHeader.size(), kHeader) == 0;
    if (*v == "ip" ||
        (header && http::syntax::is_token(std::string_view(*v).substr(kHeader.size())))) {
      c.key = *v;
    } else {
      r.error("key",
              "key must be \"ip\" or \"header:NAME\" with NAME a header name, not '" + *v + "'");
    }
  }
  if (auto v = r.integer("burst", 0, 1'000'000'000)) c.burst = static_cast<std::uint64_t>(*v);
  if (auto v = r.string("algorithm")) {
    if (*v == "token_bucket") {
      c.algorithm = RateLimitConfig::Algorithm::kTokenBucket;
    } else if (*v == "sliding_window") {
      c.algorithm = RateLimitConfig::Algorithm::kSlidingWindow;
    } else {
      r.error("algorithm",
              "algorithm must be \"token_bucket\" or \"sliding_window\", not '" + *v + "'");
    }
  }
  if (auto v = r.integer("max_keys", 1, 100'000'000)) c.max_keys = static_cast<std::uint64_t>(*v);
  if (auto v = r.string("store")) {
    if (*v == "redis") {
      c.store = RateLimitConfig::Store::kRedis;
    } else if (*v != "memory") {
      r.error("store", "store must be \"memory\" or \"redis\", not '" + *v + "'");
    }
  }
  const bool redis = c.store == RateLimitConfig::Store::kRedis;
  if (redis && t.contains("max_keys")) {
    r.error("max_keys", "max_keys applies to store = \"memory\" only (Redis expires idle keys)");
  }
  if (auto v = r.string("redis_url")) {
    std::string why;
    if (!redis) {
      r.error("redis_url", "redis_url applies to store = \"redis\" only");
    } else if (std::optional<redis::RedisUrl> url = redis::parse_redis_url(*v, why)) {
      c.redis_url = std::move(*url);
    } else {
      r.error("redis_url",
              "redis_url is not a valid redis://[[user]:password@]host[:port][/db] URL: " + why);
    }
  } else if (redis && !t.contains("redis_url")) {
    r.error("store", "store = \"redis\" needs redis_url (like \"redis://127.0.0.1:6379\")");
  }
  if (auto v = r.integer("redis_timeout_ms", 1, 60'000)) {
    if (redis) {
      c.redis_timeout = std::chrono::milliseconds(*v);
    } else {
      r.error("redis_timeout_ms", "redis_timeout_ms applies to store = \"redis\" only");
    }
  }
  if (c.burst > 0 && c.algorithm == RateLimitConfig::Algorithm::kSlidingWindow) {
    r.error("burst", "burst applies to algorithm = \"token_bucket\" only");
  }
  // The bucket's capacity in time, (max_requests + burst) refill intervals, must stay below
  // 2^62 ns (about 146 years).
  if (c.max_requests > 0 && c.window.count() > 0) {
    const std::uint64_t window_ns = static_cast<std::uint64_t>(c.window.count()) * 1'000'000'000;
    const std::uint64_t interval = (window_ns + c.max_requests - 1) / c.max_requests;
    const long double capacity = static_cast<long double>(c.max_requests + c.burst) * interval;
    // Redis's Lua counts in microseconds with doubles, exact below 2^52 (about 142 years).
    const std::uint64_t window_us = window_ns / 1000;
    const long double capacity_us = static_cast<long double>(c.max_requests + c.burst) *
                                    ((window_us + c.max_requests - 1) / c.max_requests);
    if (capacity > static_cast<long double>(std::uint64_t{1} << 62) ||
        (redis && capacity_us > static_cast<long double>(std::uint64_t{1} << 52))) {
      r.error("burst",
              "burst is too large for window_secs (the bucket would take over a "
              "century to fill)");
    }
  }
  r.finish();
  return c;
}

SecurityHeadersConfig read_security_headers(const toml::table& table, const std::string& what,
                                            Diagnostics& d) {
  TableReader r(table, what, d);
  SecurityHeadersConfig c;
  const std::pair<std::string_view, std::string*> keys[] = {
      {"content_type_options", &c.content_type_options},
      {"frame_options", &c.frame_options},
      {"referrer_policy", &c.referrer_policy},
      {"content_security_policy", &c.content_security_policy},
      {"strict_transport_security", &c.strict_transport_security},
  };
  for (const auto& [key, field] : keys) {
    std::optional<std::string> v = r.string(key);
    if (!v) continue;
    if (http::syntax::is_field_value(*v)) {
      *field = *v;
    } else {
      r.error(key, std::string(key) + ": must be a header value without control characters");
    }
  }
  r.finish();
  return c;
}

// The codings the compress middleware implements.
constexpr std::string_view kCodings[] = {"br", "zstd", "gzip"};

// "type/subtype", "type/*" or "*/*", without parameters.
bool is_media_range(std::string_view text) {
  if (text == "*/*") return true;
  const std::size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view type = text.substr(0, slash);
  std::string_view subtype = text.substr(slash + 1);
  return type != "*" && http::syntax::is_token(type) &&
         (subtype == "*" || http::syntax::is_token(subtype));
}

// An error at the i-th element of the list `key` (or at the key when it is a single string).
void list_item_error(TableReader& r, Diagnostics& d, std::string_view key, std::size_t i,
                     const std::string& message) {
  const toml::node* n = r.node(key);
  const toml::array* items = n->as_array();
  d.error(items != nullptr ? (*items)[i].source() : n->source(), r.what() + ": " + message);
}

std::optional<CompressConfig> read_compress(TableReader& r, const std::string& what,
                                            Diagnostics& d) {
  const toml::node* n = r.node("compress");
  if (n == nullptr) return std::nullopt;
  CompressConfig c;
  if (std::optional<bool> on = n->value_exact<bool>()) {
    c.enabled = *on;
    return c;
  }
  const toml::table* t = n->as_table();
  if (t == nullptr) {
    r.error("compress", "compress must be a table (or false to turn a default off)");
    return std::nullopt;
  }
  TableReader z(*t, what + " compress", d);
  if (auto v = z.strings("algorithms")) {
    for (std::size_t i = 0; i < v->size(); ++i) {
      const std::string given = (*v)[i];
      std::string& name = (*v)[i];
      name = http::to_lower(name);  // content-coding names are case-insensitive
      if (std::find(std::begin(kCodings), std::end(kCodings), name) == std::end(kCodings)) {
        list_item_error(z, d, "algorithms", i,
                        "algorithms: unknown algorithm '" + given + "' (br, zstd or gzip)");
      } else if (std::find(v->begin(), v->begin() + static_cast<std::ptrdiff_t>(i), name) !=
                 v->begin() + static_cast<std::ptrdiff_t>(i)) {
        list_item_error(z, d, "algorithms", i, "algorithms: '" + name + "' is listed twice");
      }
    }
    if (v->empty()) {
      z.error("algorithms", "algorithms is empty: use compress = false to turn compression off");
    }
    c.algorithms = std::move(*v);
  }
  if (auto v = z.integer("min_size", 0, INT64_MAX)) c.min_size = static_cast<std::uint64_t>(*v);
  if (auto v = z.strings("types")) {
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!is_media_range((*v)[i])) {
        list_item_error(z, d, "types", i,
                        "types: '" + (*v)[i] +
                            "' is not a media type (type/subtype, type/* or */*, no parameters)");
      }
    }
    if (v->empty()) z.error("types", "types is empty: nothing would be compressed");
    c.types = std::move(*v);
  }
  if (const toml::table* levels = z.table("levels")) {
    TableReader l(*levels, what + " compress levels", d);
    if (auto v = l.integer("br", 0, 11)) c.brotli_level = static_cast<int>(*v);
    if (auto v = l.integer("zstd", 1, 19)) c.zstd_level = static_cast<int>(*v);
    if (auto v = l.integer("gzip", 1, 9)) c.gzip_level = static_cast<int>(*v);
    l.finish();
  }
  z.finish();
  return c;
}

// cache = { ttl_secs, vary_by, max_entries, max_entry_bytes, max_bytes, lock_timeout_ms }.
CacheConfig read_cache(const toml::table& t, const std::string& what, Diagnostics& d) {
  TableReader r(t, what, d);
  CacheConfig c;
  if (auto v = r.integer("ttl_secs", 1, 365LL * 86400)) c.ttl = std::chrono::seconds(*v);
  if (auto v = r.strings("vary_by")) {
    for (std::size_t i = 0; i < v->size(); ++i) {
      if (!http::syntax::is_token((*v)[i])) {
        list_item_error(r, d, "vary_by", i, "vary_by: '" + (*v)[i] + "' is not a header name");
      }
    }
    c.vary_by = std::move(*v);
  }
  if (auto v = r.integer("max_entries", 1, 100'000'000)) {
    c.max_entries = static_cast<std::uint64_t>(*v);
  }
  if (auto v = r.integer("max_entry_bytes", 1, 1LL << 30)) {
    c.max_entry_bytes = static_cast<std::uint64_t>(*v);
  }
  if (auto v = r.integer("max_bytes", 1, 1LL << 40)) c.max_bytes = static_cast<std::uint64_t>(*v);
  if (auto v = r.integer("lock_timeout_ms", 0, kMaxMs))
    c.lock_timeout = std::chrono::milliseconds(*v);
  if (c.max_bytes < c.max_entry_bytes) {
    r.error(t.contains("max_bytes") ? "max_bytes" : "max_entry_bytes",
            "max_bytes (" + std::to_string(c.max_bytes) + ") must be at least max_entry_bytes (" +
                std::to_string(c.max_entry_bytes) + ")");
  }
  r.finish();
  return c;
}

// The IPv4/IPv6 addresses `host` resolves to, as numeric text; empty with `failure` set when it
// does not resolve. Blocking: only called while a configuration loads.
std::vector<std::string> resolve_numeric(const std::string& host, std::string& failure) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(host.c_str(), nullptr, &hints, &found); rc != 0) {
    failure = ::gai_strerror(rc);
    return {};
  }
  std::vector<std::string> out;
  for (const addrinfo* a = found; a != nullptr; a = a->ai_next) {
    char text[INET6_ADDRSTRLEN] = {};
    const void* raw =
        a->ai_family == AF_INET6
            ? static_cast<const void*>(
                  &reinterpret_cast<const sockaddr_in6*>(a->ai_addr)->sin6_addr)
            : static_cast<const void*>(&reinterpret_cast<const sockaddr_in*>(a->ai_addr)->sin_addr);
    if (::inet_ntop(a->ai_family, raw, text, sizeof text) != nullptr) out.emplace_back(text);
  }
  ::freeaddrinfo(found);
  if (out.empty()) failure = "no address";
  return out;
}

// forward_auth = { address = "http[s]://host[:port][/path]", copy_headers, timeout_ms }. The
// host is resolved here too: a name that does not resolve is a configuration error.
ForwardAuthConfig read_forward_auth(const toml::table& t, const std::string& what, Diagnostics& d) {
  TableReader r(t, what, d);
  ForwardAuthConfig c;
  if (auto v = r.string("address")) {
    c.address = *v;
    std::string_view text = *v;
    const std::size_t sep = text.find("://");
    const std::string scheme =
        sep == std::string_view::npos ? std::string() : http::to_lower(text.substr(0, sep));
    std::string error;
    if (scheme != "http" && scheme != "https") {
      error = "address: '" + *v + "' must be an http:// or https:// URL";
    } else {
      c.tls = scheme == "https";
      std::string_view rest = text.substr(sep + 3);
      const std::size_t slash = rest.find_first_of("/?");
      std::string_view authority = rest.substr(0, slash);
      c.target = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
      if (c.target.front() == '?') c.target.insert(0, "/");
      Backend b = parse_backend(scheme + "://" + std::string(authority), error);
      if (authority.empty()) error = "a host is missing";
      if (error.empty() && (c.target.find_first_of("# \t") != std::string::npos ||
                            !http::syntax::is_field_value(c.target))) {
        error = "invalid path '" + c.target + "'";
      }
      if (!error.empty()) {
        error = "address: '" + *v + "': " + error;
      } else {
        c.host = std::string(authority);
        c.port = b.port;
        c.server_name = b.host;
        std::string failure;
        c.addresses = resolve_numeric(b.host, failure);
        if (c.addresses.empty()) error = "address: cannot resolve '" + b.host + "': " + failure;
        unsigned char raw[sizeof(in6_addr)];
        const bool literal = ::inet_pton(AF_INET, b.host.c_str(), raw) == 1 ||
                             ::inet_pton(AF_INET6, b.host.c_str(), raw) == 1;
        if (!literal) c.name = b.host;
      }
    }
    if (!error.empty()) r.error("address", error);
  } else if (!t.contains("address")) {
    r.error_here("address is required");
  }
  if (auto v = tokens(r, "copy_headers")) {
    for (const std::string& name : *v) {
      if (name == "*" || framing_field(name)) {
        r.error("copy_headers", "copy_headers: '" + name + "' cannot be copied");
      }
    }
    c.copy_headers = std::move(*v);
  }
  if (auto v = r.integer("timeout_ms", 1, kMaxMs)) c.timeout = std::chrono::milliseconds(*v);
  r.finish();
  return c;
}

}  // namespace

void MiddlewareConfig::overlay(const MiddlewareConfig& route) {
  if (route.request_id_header) request_id_header = route.request_id_header;
  if (route.ip_filter) ip_filter = route.ip_filter;
  if (route.cors) cors = route.cors;
  if (route.max_body_size) max_body_size = route.max_body_size;
  if (route.timeout) timeout = route.timeout;
  if (route.headers) headers = route.headers;
  if (route.auth) auth = route.auth;
  if (route.compress) compress = route.compress;
  if (route.rewrite) rewrite = route.rewrite;
  if (route.cache) cache = route.cache;
  if (route.forward_auth) forward_auth = route.forward_auth;
  if (route.security_headers) security_headers = route.security_headers;
  if (route.maintenance) maintenance = route.maintenance;
  if (route.rate_limit) rate_limit = route.rate_limit;
}

MiddlewareConfig read_middleware(const toml::table& table, const std::string& what,
                                 Diagnostics& d) {
  TableReader r(table, what, d);
  MiddlewareConfig m;
  if (const toml::table* t = r.table("request_id")) {
    TableReader id(*t, what + " request_id", d);
    m.request_id_header = "X-Request-Id";
    if (auto v = id.string("header")) {
      if (http::syntax::is_token(*v)) {
        m.request_id_header = *v;
      } else {
        id.error("header", "header: '" + *v + "' is not a valid header name");
      }
    }
    id.finish();
  }
  if (const toml::table* t = r.table("ip_filter")) {
    TableReader f(*t, what + " ip_filter", d);
    IpFilterConfig filter;
    filter.allow = read_cidrs(f, "allow");
    filter.deny = read_cidrs(f, "deny");
    if (filter.allow.empty() && filter.deny.empty()) {
      f.error_here("ip_filter needs an allow or a deny list");
    }
    f.finish();
    m.ip_filter = std::move(filter);
  }
  if (const toml::table* t = r.table("cors")) m.cors = read_cors(*t, what + " cors", d);
  if (const toml::table* t = r.table("auth")) m.auth = read_auth(*t, what + " auth", d);
  if (const toml::table* t = r.table("forward_auth")) {
    m.forward_auth = read_forward_auth(*t, what + " forward_auth", d);
  }
  if (auto v = r.integer("max_body_size", 0, INT64_MAX)) {
    m.max_body_size = static_cast<std::uint64_t>(*v);
  }
  if (auto v = r.integer("timeout_ms", 1, kMaxMs)) m.timeout = std::chrono::milliseconds(*v);
  if (const toml::table* t = r.table("rate_limit")) {
    m.rate_limit = read_rate_limit(*t, what + " rate_limit", d);
  }
  if (const toml::table* t = r.table("headers")) {
    TableReader h(*t, what + " headers", d);
    ResponseHeadersConfig edits;
    read_field_table(h, "set", edits.set);
    read_field_table(h, "add", edits.add);
    if (auto v = h.strings("remove")) {
      const toml::array* items = h.node("remove")->as_array();
      for (std::size_t i = 0; i < v->size(); ++i) {
        if (http::syntax::is_token((*v)[i]) && !framing_field((*v)[i])) continue;
        const toml::source_region& where =
            items != nullptr ? (*items)[i].source() : h.node("remove")->source();
        d.error(where,
                h.what() + ": remove: '" + (*v)[i] +
                    (framing_field((*v)[i]) ? "' is written by rws itself and cannot be removed"
                                            : "' is not a valid header name"));
      }
      edits.remove = *v;
    }
    h.finish();
    m.headers = std::move(edits);
  }
  m.compress = read_compress(r, what, d);
  if (const toml::node* n = r.node("rewrite")) m.rewrite = read_rewrite(*n, what, d);
  if (const toml::table* t = r.table("cache")) m.cache = read_cache(*t, what + " cache", d);
  if (const toml::table* t = r.table("security_headers")) {
    m.security_headers = read_security_headers(*t, what + " security_headers", d);
  }
  if (const toml::table* t = r.table("maintenance")) {
    TableReader mt(*t, what + " maintenance", d);
    MaintenanceConfig maintenance;
    if (auto v = mt.boolean("enabled")) maintenance.enabled = *v;
    if (auto v = mt.integer("retry_after_secs", 0, 7LL * 24 * 3600)) {
      maintenance.retry_after = std::chrono::seconds(*v);
    }
    if (auto v = mt.string("message")) {
      if (http::syntax::is_field_value(*v)) {
        maintenance.message = *v;
      } else {
        mt.error("message", "message: must be one line of text without control characters");
      }
    }
    mt.finish();
    m.maintenance = std::move(maintenance);
  }
  r.finish();
  return m;
}

MiddlewareConfig load_middleware_defaults(const toml::table& document, Diagnostics& d) {
  MiddlewareConfig defaults;
  if (const toml::node* n = document.get("middleware")) {
    if (const toml::table* t = n->as_table()) {
      defaults = read_middleware(*t, "[middleware]", d);
    } else {
      d.error(n->source(), "'middleware' must be a table ([middleware])");
    }
  }
  if (const toml::node* n = document.get("cors")) {
    if (const toml::table* t = n->as_table()) {
      if (defaults.cors) {
        d.error(n->source(), "[cors] and [middleware] cors both configure CORS; keep one");
      } else {
        defaults.cors = read_cors(*t, "[cors]", d);
      }
    } else {
      d.error(n->source(), "'cors' must be a table ([cors])");
    }
  }
  return defaults;
}

}  // namespace rws::config
