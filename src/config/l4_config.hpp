#pragma once
// The L4 listeners of rws.config.toml ([[tcp_proxy]], [[udp_proxy]]) as plain structs,
// validated. CONFIG.md is the contract; defaults below are its defaults.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "config/gateway_config.hpp"

namespace rws::config {

// A local address to bind: an IP literal (no host names) and a port; port 0 = any free port.
struct ListenAddress {
  std::string ip;  // "127.0.0.1", "::1" (without brackets)
  std::uint16_t port = 0;

  bool operator==(const ListenAddress&) const = default;
};

// [tcp_proxy.health_check]: a TCP connect probe per backend every `interval`; a backend is
// taken out after `unhealthy_threshold` failed probes in a row and back in after
// `healthy_threshold` successful ones.
struct TcpHealthCheck {
  seconds interval{10};
  milliseconds timeout{2000};
  unsigned healthy_threshold = 2;
  unsigned unhealthy_threshold = 3;

  bool operator==(const TcpHealthCheck&) const = default;
};

struct TcpProxyConfig {
  std::string name;
  ListenAddress listen;
  std::vector<Backend> backends;  // host:port, at least one
  Strategy strategy = Strategy::kRoundRobin;
  milliseconds connect_timeout{5000};
  seconds idle_timeout{300};
  std::optional<TcpHealthCheck> health_check;

  bool operator==(const TcpProxyConfig&) const = default;
};

struct UdpProxyConfig {
  std::string name;
  ListenAddress listen;
  std::vector<Backend> backends;  // host:port, at least one
  Strategy strategy = Strategy::kRoundRobin;
  milliseconds reply_timeout{5000};
  std::size_t buffer_size = 65536;
  seconds session_timeout{60};

  bool operator==(const UdpProxyConfig&) const = default;
};

struct L4Config {
  std::vector<TcpProxyConfig> tcp;
  std::vector<UdpProxyConfig> udp;

  bool empty() const { return tcp.empty() && udp.empty(); }
  bool operator==(const L4Config&) const = default;
};

}  // namespace rws::config
