#pragma once
// Runtime settings of an rws server: listeners, workers, limits and timeouts. Filled from
// defaults, environment, rws.config.toml and the command line by the config layer, or directly
// by a library user.

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <rws/http/cidr.hpp>

namespace rws::metrics {
class Registry;
}

namespace rws::server {

enum class AccessLogFormat { kCombined, kJson };

struct ServerOptions {
  std::string ip = "0.0.0.0";  // IPv4 or IPv6 literal; "::" listens on both families
  std::uint16_t port = 7878;   // 0: the kernel picks one (see Server::port())
  unsigned thread_count = 0;   // workers; 0: one per core

  std::size_t request_allocation_size = 64 * 1024;  // read buffer per active connection
  std::size_t max_header_size = 64 * 1024;          // request line + fields → 431
  std::size_t max_request_line = 16 * 1024;         // → 414
  std::size_t max_header_fields = 100;              // → 431
  std::uint64_t max_body_size = 0;                  // 0: unlimited → 413
  std::size_t max_connections = 0;                  // all workers together; 0: unlimited
  // Peers whose X-Forwarded-For / Forwarded name the client (http/client_address.hpp).
  std::vector<http::Cidr> trusted_proxies;

  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds body_timeout{60'000};
  std::chrono::milliseconds shutdown_timeout{30'000};

  // Access log: "" or "-" is standard output.
  bool access_log = true;
  std::string access_log_file;
  AccessLogFormat log_format = AccessLogFormat::kCombined;
  std::uint64_t access_log_max_bytes = 0;  // rotate beyond this size; 0: never
  unsigned access_log_max_files = 5;       // rotated files kept

  // Metrics: every exchange is counted in `metrics`, which GET/HEAD `metrics_path` serves in the
  // Prometheus text format before any route. Null: no metrics, and the path is an ordinary path.
  std::shared_ptr<metrics::Registry> metrics;
  std::string metrics_path = "/metrics";

  bool handle_signals = true;  // SIGTERM/SIGINT drain, SIGHUP reload, in Server::run()
  // Called on SIGHUP (after the access log is reopened), on the server's control thread.
  std::function<void()> on_reload;
};

}  // namespace rws::server
