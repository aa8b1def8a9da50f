#include "config/middleware_loader.hpp"

#include <cctype>

#include <rws/http/cidr.hpp>
#include <rws/http/headers.hpp>

#include "config/rewrite_loader.hpp"
#include "http/syntax.hpp"

namespace rws::config {
namespace {

constexpr std::int64_t kMaxMs = 24LL * 3600 * 1000;

// Middleware of CONFIG.md that this version does not have: refused, never ignored.
constexpr std::string_view kNotYet[] = {"rate_limit", "auth", "forward_auth", "cache", "compress"};

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

}  // namespace

void MiddlewareConfig::overlay(const MiddlewareConfig& route) {
  if (route.request_id_header) request_id_header = route.request_id_header;
  if (route.ip_filter) ip_filter = route.ip_filter;
  if (route.cors) cors = route.cors;
  if (route.max_body_size) max_body_size = route.max_body_size;
  if (route.timeout) timeout = route.timeout;
  if (route.headers) headers = route.headers;
  if (route.rewrite) rewrite = route.rewrite;
}

MiddlewareConfig read_middleware(const toml::table& table, const std::string& what,
                                 Diagnostics& d) {
  TableReader r(table, what, d);
  MiddlewareConfig m;
  for (std::string_view key : kNotYet) {
    if (r.node(key) != nullptr) {
      r.error(key, std::string(key) +
                       " is not available in this version yet; remove it rather than run the "
                       "route without it");
    }
  }
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
  if (auto v = r.integer("max_body_size", 0, INT64_MAX)) {
    m.max_body_size = static_cast<std::uint64_t>(*v);
  }
  if (auto v = r.integer("timeout_ms", 1, kMaxMs)) m.timeout = std::chrono::milliseconds(*v);
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
  if (const toml::node* n = r.node("rewrite")) m.rewrite = read_rewrite(*n, what, d);
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
