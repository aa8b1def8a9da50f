#pragma once
// A worker: one thread running one io_context with its own listening sockets (SO_REUSEPORT),
// buffer pool, connection registry and access log. A connection never leaves its worker.
//
// Lifecycle: construct, listen(), start(); then drain() stops accepting and lets connections
// finish, abort() closes them, and the thread ends by itself once nothing is left to do
// (stop() forces that). drain/abort/stop may be called from any thread.

#include <atomic>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

#include <rws/server/options.hpp>

#include "h1/server_session.hpp"
#include "h3/endpoint.hpp"
#include "metrics/registry.hpp"
#include "net/buffer.hpp"
#include "net/connection_registry.hpp"
#include "net/tls_transport.hpp"
#include "server/access_log.hpp"
#include "server/exchange_fanout.hpp"
#include "server/https_redirect.hpp"

namespace rws::server {

// State shared by all workers of one server; owned by the server.
struct WorkerShared {
  h1::SessionSettings settings;
  std::shared_ptr<http::Service> service;
  // The main listener speaks TLS with this context when set; replaced on certificate reload
  // (connections keep the one they started with).
  std::atomic<std::shared_ptr<const net::TlsContext>> tls;
  // The same certificates for HTTP/3 (GnuTLS); null: no HTTP/3.
  h3::CredentialsSlot h3_tls;
  bool h3_retry = false;  // TlsOptions::http3_retry
  // Every worker's HTTP/3 endpoint by worker index, for routing by connection ID.
  h3::EndpointTable h3_endpoints;
  // The service of the plain http_redirect_port listener (null: no such listener).
  std::shared_ptr<HttpsRedirect> redirect_service;
  // The services of ServerOptions::extra_listeners, in their order.
  std::vector<std::shared_ptr<http::Service>> extra_services;
  std::atomic<bool> draining{false};
  std::atomic<std::size_t> connections{0};
  std::atomic<std::size_t> h2_connections{0};  // of `connections`, those speaking HTTP/2
  std::size_t max_connections = 0;
  std::atomic<std::uint64_t> next_connection_id{1};
  std::shared_ptr<AccessLogSink> access_log;  // null: no access log
  AccessLogFormat log_format = AccessLogFormat::kCombined;
  std::shared_ptr<metrics::Registry> metrics;  // null: no metrics
};

class Worker {
 public:
  Worker(WorkerShared& shared, std::size_t read_buffer_size);
  ~Worker();

  // kExtra: plain HTTP/1.1 answered by shared.extra_services[extra].
  enum class Listener { kMain, kHttpsRedirect, kExtra };
  // Adds a listening socket on `endpoint` (throws std::system_error); returns its local port.
  std::uint16_t listen(const asio::ip::tcp::endpoint& endpoint, Listener kind = Listener::kMain,
                       std::size_t extra = 0);
  // Adds the HTTP/3 UDP endpoint on `endpoint` as entry `index` of shared.h3_endpoints (sized
  // by the caller; throws std::system_error); returns its port.
  std::uint16_t listen_h3(const asio::ip::udp::endpoint& endpoint, std::size_t index);
  // Starts the thread; `on_exit` runs on it once the io_context has no more work.
  void start(std::function<void()> on_exit);
  void join();

  void drain();
  void abort();
  void stop();

 private:
  struct Acceptor {
    std::unique_ptr<asio::ip::tcp::acceptor> socket;
    Listener kind;
    std::size_t extra;
  };
  asio::awaitable<void> accept_loop(const Acceptor& acceptor);
  asio::awaitable<void> sweep_loop();
  void spawn_session(asio::ip::tcp::socket socket, const Acceptor& acceptor);
  // Cleartext: HTTP/2 when the connection starts with its preface, else HTTP/1.1.
  asio::awaitable<void> serve_plain(asio::ip::tcp::socket socket, std::uint64_t id);
  asio::awaitable<void> serve_h2(std::unique_ptr<net::Transport> transport, std::uint64_t id);
  // The TLS handshake (bounded by header_timeout), then the session ALPN chose.
  asio::awaitable<void> serve_tls(std::unique_ptr<net::TlsTransport> transport, std::uint64_t id);

  WorkerShared& shared_;
  asio::io_context io_{1};
  std::vector<Acceptor> acceptors_;
  net::BufferPool buffers_;
  net::ConnectionRegistry registry_;
  std::unique_ptr<AccessLog> access_log_;
  std::unique_ptr<ExchangeFanOut> both_logs_;  // access log and metrics, when both are on
  std::unique_ptr<h1::SessionEnv> env_;
  std::unique_ptr<h1::SessionEnv> redirect_env_;             // for http_redirect_port connections
  std::vector<std::unique_ptr<h1::SessionEnv>> extra_envs_;  // one per shared.extra_services
  std::unique_ptr<h3::Endpoint> h3_;                         // HTTP/3, when TLS is on
  bool draining_ = false;  // this worker's view, on its own thread
  std::thread thread_;
};

}  // namespace rws::server
