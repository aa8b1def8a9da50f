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
namespace rws::http {
class Service;
}

namespace rws::server {

enum class AccessLogFormat { kCombined, kJson };

// A certificate chosen by SNI ([[virtual_host]]).
struct VirtualHostCertificate {
  std::string domain;  // "example.com" or "*.example.com" (one label), matched case-insensitively
  std::string cert_file;
  std::string key_file;
};

// TLS on the main listener. Enabled when cert_file is set; files are read when the server is
// constructed and again by Server::reload_tls().
struct TlsOptions {
  std::string cert_file;       // PEM chain, leaf first; serves unknown or missing SNI
  std::string key_file;        // PEM private key of cert_file
  std::string client_ca_file;  // set: clients must present a certificate signed by this CA
  std::vector<VirtualHostCertificate> virtual_hosts;
  // Strict-Transport-Security on every TLS response that has none; empty: not added.
  std::string hsts = "max-age=31536000";
  // A plain listener on this port answering 301 to https:// on the TLS port; 0: none.
  std::uint16_t http_redirect_port = 0;
  // Also serve HTTP/3 (QUIC) on the same address and port over UDP, and advertise it with
  // Alt-Svc. Not offered when client_ca_file is set (QUIC client certificates are not checked).
  bool http3 = true;
  // HTTP/3 address validation (RFC 9000 §8.1.2): a client's first Initial packet is answered
  // with a Retry, and the connection starts once the client echoes its token (one more round
  // trip; a client spoofing its address never gets that far).
  bool http3_retry = false;

  bool enabled() const noexcept { return !cert_file.empty(); }
};

// A plain HTTP/1.1 listener besides the main one, answered by a service of its own (a
// [[ws_proxy]]): every worker accepts on it (SO_REUSEPORT), never with TLS or HTTP/2.
struct ExtraListener {
  std::string name;  // for the log: "ws_proxy chat"
  std::string ip;    // IPv4 or IPv6 literal
  std::uint16_t port = 0;
  std::shared_ptr<http::Service> service;
};

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

  TlsOptions tls;
  std::vector<ExtraListener> extra_listeners;  // bound at start; a reload does not change them

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
  // Called on the server's control thread when a shutdown is asked (signal or shutdown()):
  // with false when the drain begins, with true when a second request skips the wait.
  std::function<void(bool immediate)> on_shutdown;
};

}  // namespace rws::server
