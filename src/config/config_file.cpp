#include "config/config_file.hpp"

#include <toml++/toml.h>

#include <map>

#include "config/gateway_loader.hpp"
#include "config/l4_loader.hpp"
#include "config/middleware_loader.hpp"
#include "config/server_keys.hpp"
#include "config/suggest.hpp"
#include "config/virtual_host_loader.hpp"
#include "config/ws_proxy_loader.hpp"

namespace rws::config {
namespace {

// Tables of CONFIG.md that belong to capabilities not built yet.
constexpr std::string_view kLaterSections[] = {"acme", "admin"};
// Read by the gateway, middleware and virtual host loaders.
constexpr std::string_view kGatewaySections[] = {"route", "upstream", "cors", "middleware",
                                                 "virtual_host"};
// Read by the L4 and ws_proxy loaders.
constexpr std::string_view kL4Sections[] = {"tcp_proxy", "udp_proxy", "ws_proxy"};

class FileReader {
 public:
  FileReader(const std::string& path, ServerConfig& config, std::vector<std::string>& errors,
             std::vector<std::string>& warnings)
      : path_(path), config_(config), errors_(errors), warnings_(warnings) {}

  void read_table(const toml::table& table, bool top_level) {
    for (auto&& [key, node] : table) {
      std::string_view name = key.str();
      if (top_level && name == "server") {
        if (const toml::table* server = node.as_table()) {
          read_table(*server, false);
        } else {
          error(key.source(), "'server' must be a table");
        }
        continue;
      }
      if (top_level && name == "metrics") {
        read_metrics(key, node);
        continue;
      }
      if (top_level && std::find(std::begin(kGatewaySections), std::end(kGatewaySections), name) !=
                           std::end(kGatewaySections)) {
        continue;
      }
      if (top_level && std::find(std::begin(kL4Sections), std::end(kL4Sections), name) !=
                           std::end(kL4Sections)) {
        continue;
      }
      if (top_level && std::find(std::begin(kLaterSections), std::end(kLaterSections), name) !=
                           std::end(kLaterSections)) {
        error(key.source(),
              "[" + std::string(name) + "] is not supported by this version of rws yet");
        continue;
      }
      read_key(key, node);
    }
  }

 private:
  void read_metrics(const toml::key& key, const toml::node& node) {
    static constexpr std::string_view kKeys[] = {"enabled", "path"};
    const toml::table* table = node.as_table();
    if (table == nullptr) {
      error(key.source(), "'metrics' must be a table");
      return;
    }
    for (auto&& [k, value] : *table) {
      const std::string_view name = k.str();
      if (name == "enabled") {
        if (auto v = value.value_exact<bool>()) {
          config_.metrics.enabled = *v;
        } else {
          error(value.source(), "[metrics] enabled: expected true or false");
        }
      } else if (name == "path") {
        auto v = value.value_exact<std::string>();
        if (!v || v->empty() || v->front() != '/') {
          error(value.source(), "[metrics] path: expected a string starting with '/'");
        } else {
          config_.metrics.path = *v;
        }
      } else {
        error(k.source(),
              "[metrics]: unknown key '" + std::string(name) + "'" + did_you_mean(name, kKeys));
      }
    }
  }

  void read_key(const toml::key& key, const toml::node& node) {
    std::string_view name = key.str();
    for (const KeyAlias& a : key_aliases()) {
      if (a.alias == name) {
        warn(key.source(), "'" + std::string(a.alias) + "' is deprecated; use '" +
                               std::string(a.canonical) + "'");
        name = a.canonical;
      }
    }
    const KeySpec* spec = find_key(name);
    if (spec == nullptr) {
      error(key.source(),
            "unknown key '" + std::string(name) + "'" + did_you_mean(name, server_key_names()));
      return;
    }
    if (auto [it, inserted] = seen_.emplace(spec->name, position(key.source())); !inserted) {
      error(key.source(), std::string(spec->name) + " is already set at " + it->second);
      return;
    }
    std::optional<Value> value = convert(*spec, node);
    if (!value) {
      error(node.source(), std::string(spec->name) + ": expected " + expected_description(*spec));
      return;
    }
    if (auto problem = apply_value(config_, *spec, *value)) {
      error(node.source(), std::string(spec->name) + ": " + *problem);
    }
  }

  static std::optional<Value> convert(const KeySpec& spec, const toml::node& node) {
    switch (spec.type) {
      case KeyType::kInteger:
        if (auto v = node.value_exact<std::int64_t>()) return Value(*v);
        break;
      case KeyType::kBool:
        if (auto v = node.value_exact<bool>()) return Value(*v);
        break;
      case KeyType::kString:
        if (auto v = node.value_exact<std::string>()) return Value(*v);
        break;
      case KeyType::kStringList: {
        const toml::array* array = node.as_array();
        if (array == nullptr) break;
        std::vector<std::string> items;
        for (const toml::node& item : *array) {
          auto s = item.value_exact<std::string>();
          if (!s) return std::nullopt;
          items.push_back(*s);
        }
        return Value(std::move(items));
      }
    }
    return std::nullopt;
  }

  std::string position(const toml::source_region& where) const {
    return path_ + ":" + std::to_string(where.begin.line) + ":" +
           std::to_string(where.begin.column);
  }
  void error(const toml::source_region& where, const std::string& message) {
    errors_.push_back(position(where) + ": " + message);
  }
  void warn(const toml::source_region& where, const std::string& message) {
    warnings_.push_back(position(where) + ": " + message);
  }

  const std::string& path_;
  ServerConfig& config_;
  std::vector<std::string>& errors_;
  std::vector<std::string>& warnings_;
  std::map<std::string_view, std::string> seen_;
};

}  // namespace

void apply_config_file(const std::string& path, ServerConfig& config,
                       std::vector<std::string>& errors, std::vector<std::string>& warnings) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const toml::source_position& at = e.source().begin;
    errors.push_back(path + ":" + std::to_string(at.line) + ":" + std::to_string(at.column) + ": " +
                     std::string(e.description()));
    return;
  }
  FileReader(path, config, errors, warnings).read_table(table, true);
  Diagnostics diagnostics(path, errors, warnings);
  config.middleware = load_middleware_defaults(table, diagnostics);
  if (const toml::node* hosts = table.get("virtual_host")) {
    config.server.tls.virtual_hosts = load_virtual_hosts(*hosts, diagnostics);
  }
  if (is_gateway_document(table)) {
    config.gateway = load_gateway(table, config.middleware, diagnostics);
    config.l4 = load_l4(table, diagnostics);
    config.gateway->ws_proxies =
        load_ws_proxies(table, config.l4, config.gateway->upstreams, diagnostics);
  }
}

}  // namespace rws::config
