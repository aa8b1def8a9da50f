#include "config/ws_proxy_loader.hpp"

#include <string>

#include "config/gateway_loader.hpp"
#include "config/l4_loader.hpp"

namespace rws::config {
namespace {

constexpr std::int64_t kMaxMs = std::int64_t{24} * 3600 * 1000;

class WsProxyLoader {
 public:
  WsProxyLoader(const L4Config& l4, const std::vector<Upstream>& upstreams, Diagnostics& d)
      : l4_(l4), upstreams_(upstreams), d_(d) {}

  std::vector<WsProxy> load(const toml::table& document) {
    std::vector<WsProxy> out;
    const toml::node* node = document.get("ws_proxy");
    if (node == nullptr) return out;
    const toml::array* array = node->as_array();
    if (array == nullptr || !array->is_array_of_tables()) {
      d_.error(node->source(), "'ws_proxy' must be an array of tables ([[ws_proxy]])");
      return out;
    }
    for (const toml::node& item : *array)
      read(*item.as_table(), out);
    return out;
  }

 private:
  void read(const toml::table& t, std::vector<WsProxy>& out) {
    WsProxy p;
    TableReader r(t, "[[ws_proxy]] '" + t["name"].value_or<std::string>("") + "'", d_);
    r.alias("bind", "listen");
    read_name(r, p, out);
    read_listen(r, p, out);
    read_backends(r, p.upstream);
    if (auto v = r.integer("connect_timeout_ms", 1, kMaxMs)) {
      p.upstream.connect_timeout = milliseconds(*v);
    }
    if (auto v = r.integer("read_timeout_ms", 1, kMaxMs))
      p.upstream.read_timeout = milliseconds(*v);
    if (const toml::table* hc = r.table("health_check")) {
      p.upstream.health_check = load_health_check(*hc, r.what(), d_);
    }
    r.finish();
    p.upstream.name = "ws_proxy:" + p.name;
    out.push_back(std::move(p));
  }

  void read_name(TableReader& r, WsProxy& p, const std::vector<WsProxy>& earlier) {
    auto name = r.string("name");
    if (!name) {
      if (!r.raw().contains("name")) r.error_here("name is required");
      return;
    }
    p.name = *name;
    if (p.name.empty()) {
      r.error("name", "name must not be empty");
      return;
    }
    for (const WsProxy& other : earlier) {
      if (other.name == p.name) r.error("name", "ws_proxy '" + p.name + "' is defined twice");
    }
    for (const TcpProxyConfig& tcp : l4_.tcp) {
      if (tcp.name == p.name) r.error("name", "the name '" + p.name + "' is used by a tcp_proxy");
    }
    for (const UdpProxyConfig& udp : l4_.udp) {
      if (udp.name == p.name) r.error("name", "the name '" + p.name + "' is used by a udp_proxy");
    }
    for (const Upstream& u : upstreams_) {
      if (u.name == "ws_proxy:" + p.name) {
        r.error("name",
                "an [[upstream]] is named '" + u.name + "', the name of this ws_proxy's backends");
      }
    }
  }

  void read_listen(TableReader& r, WsProxy& p, const std::vector<WsProxy>& earlier) {
    const std::string_view key = r.raw().contains("listen") ? "listen" : "bind";
    auto text = r.string("listen");
    if (!text) {
      if (!r.raw().contains("listen") && !r.raw().contains("bind")) {
        r.error_here("listen is required");
      }
      return;
    }
    std::string problem;
    ListenAddress address = parse_listen_address(*text, problem);
    if (!problem.empty()) {
      r.error(key, "listen: " + problem);
      return;
    }
    p.ip = address.ip;
    p.port = address.port;
    if (p.port == 0) return;
    for (const WsProxy& other : earlier) {
      if (other.ip == p.ip && other.port == p.port) {
        r.error(key,
                "listen address '" + *text + "' is already used by ws_proxy '" + other.name + "'");
      }
    }
    for (const TcpProxyConfig& tcp : l4_.tcp) {
      if (tcp.listen == address) {
        r.error(key,
                "listen address '" + *text + "' is already used by tcp_proxy '" + tcp.name + "'");
      }
    }
  }

  // ws:// and wss:// URLs (wss: TLS to the backend, verified with the system's trust store) or
  // a bare host:port (plain).
  void read_backends(TableReader& r, Upstream& u) {
    auto list = r.strings("backends");
    if (!list) {
      if (!r.raw().contains("backends")) r.error_here("backends is required");
      return;
    }
    if (list->empty()) {
      r.error("backends", "backends must be a non-empty list");
      return;
    }
    for (const std::string& text : *list) {
      std::string problem;
      const std::size_t scheme = text.find("://");
      if (scheme != std::string::npos && text.compare(0, scheme, "ws") != 0 &&
          text.compare(0, scheme, "wss") != 0) {
        problem = "a ws_proxy backend is ws://, wss:// or host:port, not '" + text + "'";
      }
      Backend b;
      if (problem.empty()) b = parse_backend(text, problem);
      if (!problem.empty()) {
        r.error("backends", problem);
        continue;
      }
      u.backends.push_back(std::move(b));
    }
  }

  const L4Config& l4_;
  const std::vector<Upstream>& upstreams_;
  Diagnostics& d_;
};

}  // namespace

std::vector<WsProxy> load_ws_proxies(const toml::table& document, const L4Config& l4,
                                     const std::vector<Upstream>& upstreams,
                                     Diagnostics& diagnostics) {
  return WsProxyLoader(l4, upstreams, diagnostics).load(document);
}

}  // namespace rws::config
