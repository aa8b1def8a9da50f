#pragma once
// Server: runs a Service on N shared-nothing workers until it is told to stop.
//
// Lifecycle: construct → listen() (binds; throws on failure) → run() (blocks). shutdown(), or
// SIGTERM/SIGINT when handle_signals is set, starts a graceful drain: listeners close, /readyz
// answers 503, in-flight requests finish (idle keep-alive connections close at once), and after
// shutdown_timeout the remaining connections are closed; run() then returns. A second signal
// skips the wait. SIGHUP reopens the access log and never stops the server. With tls.cert_file set
// the main listener speaks TLS; the constructor throws std::runtime_error naming a certificate or
// key that cannot be used. Constructing a Server sets SIGPIPE to be ignored for the whole process.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <rws/http/service.hpp>
#include <rws/server/options.hpp>

namespace rws::server {

// Loads the certificates and keys of `tls` as a server would; the error names the file and the
// problem. Nothing (std::nullopt) when TLS is off or everything loads.
std::optional<std::string> check_tls(const TlsOptions& tls);

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<http::Service> service);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds every worker's listening socket. Throws std::system_error naming the address.
  void listen();
  // The bound port (useful with port 0); valid after listen().
  std::uint16_t port() const;
  // Serves until shutdown completes. Call once, after listen().
  void run();
  // Starts the graceful drain; thread-safe and async-signal-unsafe (call from a thread).
  void shutdown();
  // Replaces the certificates (and client CA) for new connections; open connections keep the
  // old ones. On error (named file, what is wrong) nothing changes. Thread-safe.
  std::optional<std::string> reload_tls(const TlsOptions& tls);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace rws::server
