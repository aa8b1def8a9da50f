#include "config/l4_loader.hpp"

#include <arpa/inet.h>

#include <charconv>
#include <map>

#include "config/gateway_loader.hpp"
#include "config/suggest.hpp"

namespace rws::config {
namespace {

constexpr std::int64_t kMaxMs = std::int64_t{24} * 3600 * 1000;
constexpr std::int64_t kMaxSecs = std::int64_t{7} * 24 * 3600;

bool is_ip(const std::string& text, bool v6) {
  unsigned char out[16];
  return ::inet_pton(v6 ? AF_INET6 : AF_INET, text.c_str(), out) == 1;
}

// The keys both kinds of listener share.
struct Common {
  std::string name;
  ListenAddress listen;
  std::vector<Backend> backends;
  Strategy strategy = Strategy::kRoundRobin;
};

class L4Loader {
 public:
  explicit L4Loader(Diagnostics& d) : d_(d) {}

  L4Config load(const toml::table& document) {
    L4Config out;
    for_each_table(document, "tcp_proxy", [&](const toml::table& t) { read_tcp(t, out); });
    for_each_table(document, "udp_proxy", [&](const toml::table& t) { read_udp(t, out); });
    return out;
  }

 private:
  template <class F>
  void for_each_table(const toml::table& document, std::string_view section, F f) {
    const toml::node* node = document.get(section);
    if (node == nullptr) return;
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      d_.error(node->source(), "'" + std::string(section) + "' must be an array of tables ([[" +
                                   std::string(section) + "]])");
      return;
    }
    for (const toml::node& item : *array)
      f(*item.as_table());
  }

  void read_tcp(const toml::table& t, L4Config& out) {
    TcpProxyConfig p;
    TableReader r(t, "[[tcp_proxy]] '" + t["name"].value_or<std::string>("") + "'", d_);
    Common c = read_common(r, "tcp");
    if (auto v = r.integer("connect_timeout_ms", 1, kMaxMs)) p.connect_timeout = milliseconds(*v);
    if (auto v = r.integer("idle_timeout_secs", 1, kMaxSecs)) p.idle_timeout = seconds(*v);
    if (const toml::table* hc = r.table("health_check")) p.health_check = read_health(*hc, r);
    r.finish();
    p.name = std::move(c.name);
    p.listen = std::move(c.listen);
    p.backends = std::move(c.backends);
    p.strategy = c.strategy;
    out.tcp.push_back(std::move(p));
  }

  void read_udp(const toml::table& t, L4Config& out) {
    UdpProxyConfig p;
    TableReader r(t, "[[udp_proxy]] '" + t["name"].value_or<std::string>("") + "'", d_);
    r.alias("read_timeout_ms", "reply_timeout_ms");
    Common c = read_common(r, "udp");
    if (auto v = r.integer("reply_timeout_ms", 1, kMaxMs)) p.reply_timeout = milliseconds(*v);
    // 65507 is the largest IPv4 UDP payload; 65536 (the default) covers it.
    if (auto v = r.integer("buffer_size", 512, 65536)) p.buffer_size = static_cast<std::size_t>(*v);
    if (auto v = r.integer("session_timeout_secs", 1, kMaxSecs)) p.session_timeout = seconds(*v);
    r.finish();
    p.name = std::move(c.name);
    p.listen = std::move(c.listen);
    p.backends = std::move(c.backends);
    p.strategy = c.strategy;
    out.udp.push_back(std::move(p));
  }

  Common read_common(TableReader& r, std::string_view protocol) {
    Common c;
    r.alias("bind", "listen");
    r.alias("load_balancing", "strategy");
    if (auto name = r.string("name")) {
      c.name = *name;
      if (c.name.empty()) {
        r.error("name", "name must not be empty");
      } else if (auto [it, inserted] = names_.emplace(c.name, r.what()); !inserted) {
        r.error("name", "the name '" + c.name + "' is already used by " + it->second);
      }
    } else if (!r.raw().contains("name")) {
      r.error_here("name is required");
    }
    if (auto text = r.string("listen")) {
      std::string problem;
      c.listen = parse_listen_address(*text, problem);
      if (!problem.empty()) {
        error_at_listen(r, "listen: " + problem);
      } else if (c.listen.port != 0) {
        std::string key =
            std::string(protocol) + " " + c.listen.ip + " " + std::to_string(c.listen.port);
        if (auto [it, inserted] = addresses_.emplace(key, r.what()); !inserted) {
          error_at_listen(r, "listen address '" + *text + "' is already used by " + it->second);
        }
      }
    } else if (!r.raw().contains("listen") && !r.raw().contains("bind")) {
      r.error_here("listen is required");
    }
    if (auto list = r.strings("backends")) {
      for (const std::string& text : *list) {
        std::string problem;
        if (text.find("://") != std::string::npos) {
          problem = "an L4 backend is \"host:port\", without a scheme";
        }
        Backend b;
        if (problem.empty()) b = parse_backend(text, problem);
        if (!problem.empty()) {
          r.error("backends", "backend '" + text + "': " + problem);
        } else {
          c.backends.push_back(std::move(b));
        }
      }
      if (list->empty()) r.error("backends", "backends must list at least one \"host:port\"");
    } else if (!r.raw().contains("backends")) {
      r.error_here("backends is required");
    }
    if (auto s = r.string("strategy")) c.strategy = read_strategy(r, *s);
    return c;
  }

  // The position of whichever spelling (listen or its alias bind) is present.
  void error_at_listen(TableReader& r, const std::string& message) {
    r.error(r.raw().contains("listen") ? "listen" : "bind", message);
  }

  Strategy read_strategy(TableReader& r, std::string value) {
    if (value == "least_connections") {
      d_.warn(r.node("strategy")->source(),
              "strategy 'least_connections' is deprecated; use 'least_conn'");
      value = "least_conn";
    }
    static const std::map<std::string, Strategy, std::less<>> kStrategies = {
        {"round_robin", Strategy::kRoundRobin},
        {"least_conn", Strategy::kLeastConn},
        {"ip_hash", Strategy::kIpHash},
        {"random", Strategy::kRandom}};
    auto it = kStrategies.find(value);
    if (it != kStrategies.end()) return it->second;
    std::vector<std::string_view> names;
    for (const auto& [k, v] : kStrategies)
      names.emplace_back(k);
    r.error("strategy", "unknown strategy '" + value + "'" + did_you_mean(value, names) +
                            "; L4 listeners offer round_robin, least_conn, random, ip_hash");
    return Strategy::kRoundRobin;
  }

  TcpHealthCheck read_health(const toml::table& t, const TableReader& parent) {
    TcpHealthCheck hc;
    TableReader r(t, parent.what() + " health_check", d_);
    if (auto v = r.integer("interval_secs", 1, kMaxSecs)) hc.interval = seconds(*v);
    if (auto v = r.integer("timeout_ms", 1, kMaxMs)) hc.timeout = milliseconds(*v);
    if (auto v = r.integer("healthy_threshold", 1, 100)) {
      hc.healthy_threshold = static_cast<unsigned>(*v);
    }
    if (auto v = r.integer("unhealthy_threshold", 1, 100)) {
      hc.unhealthy_threshold = static_cast<unsigned>(*v);
    }
    r.finish();
    return hc;
  }

  Diagnostics& d_;
  std::map<std::string, std::string> names_;      // name → the listener that has it
  std::map<std::string, std::string> addresses_;  // "tcp ip port" → the listener that has it
};

}  // namespace

ListenAddress parse_listen_address(std::string_view text, std::string& error) {
  ListenAddress out;
  std::string_view port;
  if (!text.empty() && text.front() == '[') {
    std::size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      error = "expected \"[v6-address]:port\", not '" + std::string(text) + "'";
      return out;
    }
    out.ip = std::string(text.substr(1, close - 1));
    port = text.substr(close + 2);
    if (!is_ip(out.ip, true)) {
      error = "'" + out.ip + "' is not an IPv6 address";
      return out;
    }
  } else {
    std::size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) {
      error = "expected \"ip:port\" or \"[v6-address]:port\", not '" + std::string(text) + "'";
      return out;
    }
    out.ip = std::string(text.substr(0, colon));
    port = text.substr(colon + 1);
    if (!is_ip(out.ip, false)) {
      error = "'" + out.ip + "' is not an IPv4 address (IPv6 goes in brackets; no host names)";
      return out;
    }
  }
  unsigned value = 0;
  auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
  if (port.empty() || ec != std::errc() || end != port.data() + port.size() || value > 65535) {
    error = "invalid port '" + std::string(port) + "'";
    return out;
  }
  out.port = static_cast<std::uint16_t>(value);
  return out;
}

L4Config load_l4(const toml::table& document, Diagnostics& diagnostics) {
  return L4Loader(diagnostics).load(document);
}

}  // namespace rws::config
