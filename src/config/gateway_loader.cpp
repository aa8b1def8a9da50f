#include "config/gateway_loader.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>

#include <rws/http/headers.hpp>

#include "config/middleware_loader.hpp"
#include "config/suggest.hpp"
#include "http/syntax.hpp"

namespace rws::config {
namespace {

namespace syntax = http::syntax;
constexpr std::int64_t kMaxMs = std::int64_t{24} * 3600 * 1000;
constexpr std::int64_t kMaxSecs = std::int64_t{7} * 24 * 3600;

bool valid_host_name(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  for (char c : host) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.' || c == '_')) {
      return false;
    }
  }
  return true;
}

}  // namespace

Backend parse_backend(std::string_view text, std::string& error) {
  Backend b;
  b.url = std::string(text);
  std::string_view rest = text;
  bool has_scheme = false;
  if (std::size_t sep = rest.find("://"); sep != std::string_view::npos) {
    std::string scheme = http::to_lower(rest.substr(0, sep));
    rest.remove_prefix(sep + 3);
    has_scheme = true;
    static constexpr std::string_view kSchemes[] = {"http", "ws",   "https", "wss", "h2",
                                                    "h2s",  "grpc", "grpcs", "h3"};
    if (std::find(std::begin(kSchemes), std::end(kSchemes), scheme) == std::end(kSchemes)) {
      error = "unknown backend scheme '" + scheme + "'";
      return b;
    }
    b.tls = scheme == "https" || scheme == "wss" || scheme == "h2s" || scheme == "grpcs" ||
            scheme == "h3";
    b.http2 = scheme == "h2" || scheme == "h2s" || scheme == "grpc" || scheme == "grpcs";
    b.http3 = scheme == "h3";
  }
  if (!rest.empty() && rest.back() == '/') rest.remove_suffix(1);
  if (rest.find_first_of("/?#@") != std::string_view::npos) {
    error = "a backend is a host and port, without path, query or user";
    return b;
  }
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address";
      return b;
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "expected ':' after the IPv6 address";
        return b;
      }
      port = after.substr(1);
    }
    if (host.empty() ||
        host.find_first_not_of("0123456789abcdefABCDEF:.") != std::string_view::npos) {
      error = "invalid IPv6 address";
      return b;
    }
  } else if (std::size_t colon = rest.rfind(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (!valid_host_name(host)) {
      error = "invalid host '" + std::string(host) + "'";
      return b;
    }
  } else if (!valid_host_name(host)) {
    error = "invalid host '" + std::string(host) + "'";
    return b;
  }
  if (port.empty()) {
    if (!has_scheme) {
      error = "backend '" + std::string(text) + "' needs a port (host:port)";
      return b;
    }
    b.port = b.tls ? 443 : 80;
  } else {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      error = "invalid port '" + std::string(port) + "'";
      return b;
    }
    b.port = static_cast<std::uint16_t>(value);
  }
  b.host = std::string(host);
  return b;
}

bool is_gateway_document(const toml::table& document) {
  for (std::string_view key : {"route", "upstream", "tcp_proxy", "udp_proxy", "ws_proxy"}) {
    if (document.contains(key)) return true;
  }
  return false;
}

namespace {

class GatewayLoader {
 public:
  GatewayLoader(const MiddlewareConfig& defaults, Diagnostics& d) : defaults_(defaults), d_(d) {}

  HealthCheck health_check(const toml::table& t, const std::string& what) {
    return read_health(t, what);
  }

  GatewayConfig load(const toml::table& document) {
    GatewayConfig out;
    out.defaults = defaults_;
    if (const toml::node* n = document.get("upstream")) {
      for_each_table(*n, "upstream", [&](const toml::table& t) { read_upstream(t, out); });
    }
    std::vector<std::string_view> upstream_names;
    for (const Upstream& u : out.upstreams)
      upstream_names.emplace_back(u.name);
    if (const toml::node* n = document.get("route")) {
      for_each_table(*n, "route",
                     [&](const toml::table& t) { read_route(t, out, upstream_names); });
    }
    return out;
  }

 private:
  template <class F>
  void for_each_table(const toml::node& node, std::string_view section, F f) {
    const toml::array* array = node.as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      d_.error(node.source(), "'" + std::string(section) + "' must be an array of tables ([[" +
                                  std::string(section) + "]])");
      return;
    }
    for (const toml::node& item : *array)
      f(*item.as_table());
  }

  void read_upstream(const toml::table& t, GatewayConfig& out) {
    Upstream u;
    u.name = t["name"].value_or<std::string>("");
    std::string what = "[[upstream]] '" + u.name + "'";
    TableReader named(t, what, d_);  // messages name the upstream
    named.alias("load_balancing", "strategy");
    if (!named.string("name")) {
      if (!t.contains("name")) named.error_here("name is required");
    } else if (u.name.empty()) {
      named.error("name", "name must not be empty");
    } else {
      for (const Upstream& other : out.upstreams) {
        if (other.name == u.name) named.error("name", "upstream '" + u.name + "' is defined twice");
      }
    }
    read_backends(named, u);
    if (auto s = named.string("strategy")) {
      std::string value = *s;
      if (value == "least_connections") {
        d_.warn(named.node("strategy")->source(),
                "strategy 'least_connections' is deprecated; use 'least_conn'");
        value = "least_conn";
      }
      static const std::map<std::string, Strategy, std::less<>> kStrategies = {
          {"round_robin", Strategy::kRoundRobin},
          {"least_conn", Strategy::kLeastConn},
          {"ip_hash", Strategy::kIpHash},
          {"random", Strategy::kRandom},
          {"p2c", Strategy::kP2c}};
      auto it = kStrategies.find(value);
      if (it == kStrategies.end()) {
        std::vector<std::string_view> names;
        for (const auto& [k, v] : kStrategies)
          names.emplace_back(k);
        named.error("strategy", "unknown strategy '" + value + "'" + did_you_mean(value, names));
      } else {
        u.strategy = it->second;
      }
    }
    if (auto v = named.integer("connect_timeout_ms", 1, kMaxMs))
      u.connect_timeout = milliseconds(*v);
    if (auto v = named.integer("read_timeout_ms", 1, kMaxMs)) u.read_timeout = milliseconds(*v);
    if (auto v = named.integer("write_timeout_ms", 1, kMaxMs)) u.write_timeout = milliseconds(*v);
    if (auto v = named.integer("max_idle_per_backend", 0, 100000)) {
      u.max_idle_per_backend = static_cast<unsigned>(*v);
    }
    if (auto v = named.integer("idle_timeout_secs", 1, kMaxSecs)) u.idle_timeout = seconds(*v);
    if (auto v = named.integer("max_requests_per_connection", 1, 100000000)) {
      u.max_requests_per_connection = static_cast<unsigned>(*v);
    }
    if (auto v = named.integer("retries", 0, 100)) u.retries = static_cast<unsigned>(*v);
    if (const toml::table* hc = named.table("health_check"))
      u.health_check = read_health(*hc, what);
    if (const toml::table* p = named.table("passive")) read_passive(*p, what, u.passive);
    if (const toml::table* cb = named.table("circuit_breaker")) {
      u.circuit_breaker = read_breaker(*cb, what);
    }
    if (const toml::table* tls = named.table("tls")) {
      const bool any_tls =
          std::any_of(u.backends.begin(), u.backends.end(), [](const Backend& b) { return b.tls; });
      if (!any_tls)
        named.error("tls",
                    "[upstream.tls] applies to https://, wss://, h2s:// and grpcs:// backends, "
                    "and this upstream has none");
      u.tls = read_upstream_tls(*tls, what);
    }
    named.finish();
    out.upstreams.push_back(std::move(u));
  }

  void read_backends(TableReader& r, Upstream& u) {
    const toml::node* n = r.node("backends");
    if (n == nullptr) {
      r.error_here("backends is required");
      return;
    }
    const toml::array* list = n->as_array();
    if (list == nullptr || list->empty()) {
      d_.error(n->source(), r.what() + ": backends must be a non-empty list");
      return;
    }
    for (const toml::node& item : *list) {
      std::string url;
      unsigned weight = 1;
      if (auto s = item.value_exact<std::string>()) {
        url = *s;
      } else if (const toml::table* t = item.as_table()) {
        TableReader br(*t, r.what() + " backend", d_);
        if (auto s2 = br.string("url")) {
          url = *s2;
        } else if (!t->contains("url")) {
          br.error_here("url is required");
        }
        if (auto w = br.integer("weight", 1, 1000)) weight = static_cast<unsigned>(*w);
        br.finish();
        if (url.empty()) continue;
      } else {
        d_.error(item.source(), r.what() + ": a backend is a string or { url, weight }");
        continue;
      }
      std::string error;
      Backend b = parse_backend(url, error);
      if (!error.empty()) {
        d_.error(item.source(), r.what() + ": " + error);
        continue;
      }
      b.weight = weight;
      u.backends.push_back(std::move(b));
    }
  }

  HealthCheck read_health(const toml::table& t, const std::string& what) {
    HealthCheck hc;
    TableReader r(t, what + " health_check", d_);
    if (auto v = r.string("path")) {
      if (v->empty() || v->front() != '/') {
        r.error("path", "path must start with '/'");
      } else {
        hc.path = *v;
      }
    }
    if (auto v = r.integer("interval_secs", 1, kMaxSecs)) hc.interval = seconds(*v);
    if (auto v = r.integer("timeout_ms", 1, kMaxMs)) hc.timeout = milliseconds(*v);
    if (auto v = r.integer("healthy_threshold", 1, 100))
      hc.healthy_threshold = static_cast<unsigned>(*v);
    if (auto v = r.integer("unhealthy_threshold", 1, 100)) {
      hc.unhealthy_threshold = static_cast<unsigned>(*v);
    }
    if (const toml::node* n = r.node("expect_status")) {
      std::string text;
      if (auto s = n->value_exact<std::string>()) {
        text = *s;
      } else if (auto i = n->value_exact<std::int64_t>()) {
        text = std::to_string(*i);
      }
      if (!parse_status_expectation(text, hc)) {
        d_.error(n->source(),
                 r.what() + ": expect_status must be like \"2xx\", \"200\" or \"200-399\"");
      }
    }
    r.finish();
    return hc;
  }

  static bool parse_status_expectation(const std::string& text, HealthCheck& hc) {
    auto number = [](std::string_view s, int& out) {
      auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      return ec == std::errc() && end == s.data() + s.size() && out >= 100 && out <= 599;
    };
    int a = 0;
    int b = 0;
    if (text.size() == 3 && text[0] >= '1' && text[0] <= '5' && text.substr(1) == "xx") {
      a = (text[0] - '0') * 100;
      b = a + 99;
    } else if (std::size_t dash = text.find('-'); dash != std::string::npos) {
      if (!number(std::string_view(text).substr(0, dash), a) ||
          !number(std::string_view(text).substr(dash + 1), b) || a > b) {
        return false;
      }
    } else if (number(text, a)) {
      b = a;
    } else {
      return false;
    }
    hc.expect_status = text;
    hc.expect_min = a;
    hc.expect_max = b;
    return true;
  }

  UpstreamTls read_upstream_tls(const toml::table& t, const std::string& what) {
    UpstreamTls tls;
    TableReader r(t, what + " tls", d_);
    if (auto v = r.boolean("verify")) tls.verify = *v;
    for (auto [key, out] :
         {std::pair{"ca_file", &tls.ca_file}, std::pair{"client_cert", &tls.client_cert},
          std::pair{"client_key", &tls.client_key}}) {
      auto path = r.string(key);
      if (!path) continue;
      if (::access(path->c_str(), R_OK) != 0) {
        r.error(key, "'" + *path + "' cannot be read: " + std::strerror(errno));
      } else {
        *out = *path;
      }
    }
    if (t.contains("client_cert") != t.contains("client_key")) {
      r.error_here("client_cert and client_key must be set together");
    }
    if (auto v = r.string("sni")) {
      if (!valid_host_name(*v)) {
        r.error("sni", "'" + *v + "' is not a host name");
      } else {
        tls.sni = *v;
      }
    }
    if (!tls.verify && !tls.ca_file.empty()) {
      r.error("ca_file", "ca_file has no effect with verify = false");
    }
    r.finish();
    return tls;
  }

  void read_passive(const toml::table& t, const std::string& what, PassiveHealth& p) {
    TableReader r(t, what + " passive", d_);
    if (auto v = r.boolean("enabled")) p.enabled = *v;
    if (auto v = r.integer("max_fails", 1, 10000)) p.max_fails = static_cast<unsigned>(*v);
    if (auto v = r.integer("fail_window_secs", 1, kMaxSecs)) p.fail_window = seconds(*v);
    if (auto v = r.integer("eject_secs", 1, kMaxSecs)) p.eject = seconds(*v);
    r.finish();
  }

  CircuitBreaker read_breaker(const toml::table& t, const std::string& what) {
    CircuitBreaker cb;
    TableReader r(t, what + " circuit_breaker", d_);
    if (auto v = r.integer("failure_threshold", 1, 10000))
      cb.failure_threshold = static_cast<unsigned>(*v);
    if (auto v = r.integer("recovery_secs", 1, kMaxSecs)) cb.recovery = seconds(*v);
    if (auto v = r.integer("max_half_open_probes", 1, 1000)) {
      cb.max_half_open_probes = static_cast<unsigned>(*v);
    }
    r.finish();
    return cb;
  }

  void read_route(const toml::table& t, GatewayConfig& out,
                  const std::vector<std::string_view>& upstreams) {
    Route route;
    route.name = t["name"].value_or<std::string>("route-" + std::to_string(out.routes.size() + 1));
    std::string what = "[[route]] '" + route.name + "'";
    TableReader named(t, what, d_);
    if (named.string("name") && route.name.empty()) {
      named.error("name", "name must not be empty");
    }
    for (const Route& other : out.routes) {
      if (other.name == route.name)
        named.error("name", "route '" + route.name + "' is defined twice");
    }
    if (const toml::table* m = named.table("match")) read_match(*m, what, route.match);
    if (const toml::table* a = named.table("action")) {
      read_action(*a, what, route, upstreams, out.upstreams);
    } else if (!t.contains("action")) {
      named.error_here("[route.action] is required");
    }
    route.middleware = defaults_;
    if (const toml::table* m = named.table("middleware")) {
      route.middleware.overlay(read_middleware(*m, what + " middleware", d_));
    }
    named.finish();
    out.routes.push_back(std::move(route));
  }

  // gRPC needs HTTP/2 end to end: every backend of a grpc route's upstream must speak it.
  void check_grpc_upstream(TableReader& keys, const std::string& name,
                           const std::vector<Upstream>& upstream_configs) {
    for (const Upstream& u : upstream_configs) {
      if (u.name != name) continue;
      for (const Backend& b : u.backends) {
        if (b.http2) continue;
        keys.error("upstream",
                   "action type 'grpc' needs backends that speak HTTP/2 (grpc://, "
                   "grpcs://, h2:// or h2s://), but upstream '" +
                       name + "' has '" + b.url + "'");
        return;
      }
    }
  }

  void read_match(const toml::table& t, const std::string& what, RouteMatch& m) {
    TableReader r(t, what + " match", d_);
    if (auto host = r.string("host")) {
      std::string h = http::to_lower(*host);
      bool wildcard = h.size() > 2 && h.substr(0, 2) == "*.";
      if (!valid_host_name(wildcard ? std::string_view(h).substr(2) : std::string_view(h))) {
        r.error("host", "host must be a name or '*.domain'");
      } else {
        m.host = h;
      }
    }
    if (auto path = r.string("path")) {
      std::string_view p = *path;
      bool prefix = p.size() >= 2 && p.substr(p.size() - 2) == "/*";
      std::string_view fixed = prefix ? p.substr(0, p.size() - 2) : p;
      if (p.empty() || p.front() != '/' || fixed.find('*') != std::string_view::npos) {
        r.error("path", "path must start with '/' and may only end in '/*'");
      } else {
        m.path = *path;
      }
    }
    if (auto methods = r.strings("method")) {
      for (const std::string& method : *methods) {
        if (!syntax::is_token(method)) {
          r.error("method", "'" + method + "' is not an HTTP method");
        } else {
          m.methods.push_back(method);
        }
      }
    }
    if (auto type = r.string("content_type")) m.content_type = http::to_lower(*type);
    if (const toml::table* headers = r.table("headers")) {
      for (auto&& [name, value] : *headers) {
        auto v = value.value_exact<std::string>();
        if (!syntax::is_token(name.str()) || !v) {
          d_.error(value.source(),
                   what + " match.headers: each entry is name = \"value\" or \"*\"");
          continue;
        }
        m.headers.emplace_back(std::string(name.str()), *v);
      }
    }
    r.finish();
  }

  void read_action(const toml::table& t, const std::string& what, Route& route,
                   const std::vector<std::string_view>& upstreams,
                   const std::vector<Upstream>& upstream_configs) {
    TableReader r(t, what + " action", d_);
    static constexpr std::string_view kTypes[] = {"proxy",   "static",    "redirect",
                                                  "respond", "websocket", "grpc"};
    std::optional<std::string> type = r.string("type");
    if (!type && !t.contains("type")) {
      // Without `type`, a single [route.action.<type>] table says which it is.
      std::vector<std::string> tables;
      for (std::string_view candidate : kTypes) {
        if (t.get_as<toml::table>(candidate) != nullptr) {
          tables.push_back("[route.action." + std::string(candidate) + "]");
        }
      }
      if (tables.size() > 1) {
        std::string list = tables[0];
        for (std::size_t i = 1; i < tables.size(); ++i)
          list += ", " + tables[i];
        r.error_here("a route has one action, but " + list +
                     " are all given; keep one (or say which with type)");
        return;
      }
      if (tables.size() == 1) type = tables[0].substr(14, tables[0].size() - 15);
    }
    if (!type) {
      if (!t.contains("type")) r.error_here("type is required");
      return;
    }
    if (std::find(std::begin(kTypes), std::end(kTypes), *type) == std::end(kTypes)) {
      r.error("type", "unknown action type '" + *type + "'" + did_you_mean(*type, kTypes));
      return;
    }
    // The type's keys may sit directly in [route.action] or in [route.action.<type>].
    const toml::table* nested = t.get_as<toml::table>(*type);
    r.node(*type);
    TableReader keys(nested != nullptr ? *nested : t, what + " action", d_);
    keys.node("type");
    keys.node(*type);
    if (*type == "proxy" || *type == "websocket" || *type == "grpc") {
      route.kind = Route::Kind::kProxy;
      ProxyAction& p = route.proxy;
      p.websocket_only = *type == "websocket";
      p.grpc = *type == "grpc";
      if (auto u = keys.string("upstream")) {
        p.upstream = *u;
        if (std::find(upstreams.begin(), upstreams.end(), *u) == upstreams.end()) {
          keys.error("upstream", "unknown upstream '" + *u + "'" + did_you_mean(*u, upstreams));
        } else if (p.grpc) {
          check_grpc_upstream(keys, *u, upstream_configs);
        }
      } else {
        keys.error_here("upstream is required");
      }
      if (!p.websocket_only) {
        keys.alias("strip_prefix", "strip_path_prefix");
        keys.alias("add_prefix", "add_path_prefix");
        if (auto v = keys.string("strip_path_prefix")) p.strip_path_prefix = *v;
        if (auto v = keys.string("add_path_prefix")) p.add_path_prefix = *v;
        for (const std::string* prefix : {&p.strip_path_prefix, &p.add_path_prefix}) {
          if (!prefix->empty() && (prefix->front() != '/' || prefix->back() == '/')) {
            keys.error_here("path prefixes start with '/' and do not end with it ('" + *prefix +
                            "')");
          }
        }
        if (auto v = keys.boolean("preserve_host")) p.preserve_host = *v;
        if (auto v = keys.integer("connect_timeout_ms", 1, kMaxMs))
          p.connect_timeout = milliseconds(*v);
        if (auto v = keys.integer("read_timeout_ms", 1, kMaxMs)) p.read_timeout = milliseconds(*v);
      }
    } else if (*type == "static") {
      route.kind = Route::Kind::kStatic;
      StaticAction& s = route.static_files;
      if (auto root = keys.string("root")) {
        struct stat st {};
        if (::stat(root->c_str(), &st) != 0 || !S_ISDIR(st.st_mode)) {
          keys.error("root", "root '" + *root + "' is not a readable directory");
        }
        s.root = *root;
      } else {
        keys.error_here("root is required");
      }
      if (auto index = keys.strings("index")) s.index = *index;
      if (auto v = keys.boolean("directory_listing")) s.directory_listing = *v;
      if (auto v = keys.boolean("strip_prefix")) s.strip_prefix = *v;
      if (auto v = keys.string("spa_fallback")) s.spa_fallback = *v;
    } else if (*type == "redirect") {
      route.kind = Route::Kind::kRedirect;
      if (auto location = keys.string("location")) {
        if (!syntax::is_field_value(*location)) {
          keys.error("location", "location must not contain control characters");
        }
        route.redirect.location = *location;
      } else {
        keys.error_here("location is required");
      }
      if (auto status = keys.integer("status", 301, 308)) {
        if (*status == 304 || *status == 305 || *status == 306) {
          keys.error("status", "redirect status must be 301, 302, 303, 307 or 308");
        } else {
          route.redirect.status = static_cast<int>(*status);
        }
      }
    } else {
      route.kind = Route::Kind::kRespond;
      RespondAction& a = route.respond;
      if (auto status = keys.integer("status", 200, 599)) a.status = static_cast<int>(*status);
      if (auto body = keys.string("body")) a.body = *body;
      if (auto type2 = keys.string("content_type")) {
        if (!syntax::is_field_value(*type2)) keys.error("content_type", "invalid content_type");
        a.content_type = *type2;
      }
      if (const toml::table* headers = keys.table("headers")) {
        for (auto&& [name, value] : *headers) {
          auto v = value.value_exact<std::string>();
          if (!syntax::is_token(name.str()) || !v || !syntax::is_field_value(*v)) {
            d_.error(value.source(), what + " action.headers: each entry is name = \"value\"");
            continue;
          }
          a.headers.emplace_back(std::string(name.str()), *v);
        }
      }
    }
    keys.finish();
    if (nested != nullptr) {
      // Keys outside the nested table besides "type" and the nested table itself.
      // A plain key is one of the action's own, put in the wrong place; a table is unknown.
      TableReader outer(t, what + " action", d_);
      outer.node("type");
      outer.node(*type);
      for (auto&& [key, value] : t) {
        if (key.str() == "type" || key.str() == *type || value.is_table()) continue;
        outer.node(key.str());
        d_.error(key.source(), what + " action: '" + std::string(key.str()) +
                                   "' belongs in [route.action." + *type +
                                   "] with the action's other keys (not split across both)");
      }
      outer.finish();
    }
  }

  const MiddlewareConfig& defaults_;
  Diagnostics& d_;
};

}  // namespace

GatewayConfig load_gateway(const toml::table& document, const MiddlewareConfig& defaults,
                           Diagnostics& diagnostics) {
  return GatewayLoader(defaults, diagnostics).load(document);
}

HealthCheck load_health_check(const toml::table& table, const std::string& what,
                              Diagnostics& diagnostics) {
  static const MiddlewareConfig kNone;
  return GatewayLoader(kNone, diagnostics).health_check(table, what);
}

}  // namespace rws::config
