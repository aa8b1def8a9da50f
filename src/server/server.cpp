#include <csignal>
#include <thread>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/address.hpp>
#include <asio/post.hpp>
#include <asio/signal_set.hpp>
#include <asio/steady_timer.hpp>

#include <rws/server/server.hpp>

#include "core/log.hpp"
#include "h3/credentials.hpp"
#include "net/tls_context.hpp"
#include "server/builtin_endpoints.hpp"
#include "server/https_redirect.hpp"
#include "server/worker.hpp"

namespace rws::server {
namespace {

// After the drain period, closed connections get this long to unwind before workers stop.
constexpr std::chrono::seconds kForceStopGrace{2};

h1::SessionSettings session_settings(const ServerOptions& o) {
  h1::SessionSettings s;
  s.parser.max_head_bytes = o.max_header_size;
  s.parser.max_request_line = std::min(o.max_request_line, o.max_header_size);
  s.parser.max_fields = o.max_header_fields;
  s.chunked.max_trailer_bytes = o.max_header_size;
  s.chunked.max_trailer_fields = o.max_header_fields;
  s.max_body_size = o.max_body_size;
  s.header_timeout = o.header_timeout;
  s.idle_timeout = o.idle_timeout;
  s.body_timeout = o.body_timeout;
  s.write_timeout = o.idle_timeout;
  s.trusted_proxies = o.trusted_proxies;
  if (o.tls.enabled()) s.hsts = o.tls.hsts;
  return s;
}

net::TlsSettings tls_settings(const TlsOptions& o) {
  net::TlsSettings s;
  s.default_certificate = {"", o.cert_file, o.key_file};
  for (const VirtualHostCertificate& host : o.virtual_hosts) {
    s.virtual_hosts.push_back({host.domain, host.cert_file, host.key_file});
  }
  s.client_ca_file = o.client_ca_file;
  s.alpn = {"h2", "http/1.1"};
  return s;
}

// HTTP/3 runs beside TLS unless turned off (client certificates are checked by the QUIC
// handshake too, see h3/credentials.hpp).
bool serves_http3(const TlsOptions& o) {
  return o.enabled() && o.http3;
}

}  // namespace

struct Server::Impl {
  ServerOptions options;
  WorkerShared shared;
  std::vector<std::unique_ptr<Worker>> workers;
  std::uint16_t port = 0;

  asio::io_context control{1};
  asio::executor_work_guard<asio::io_context::executor_type> keep_running{control.get_executor()};
  asio::signal_set signals{control};
  asio::steady_timer drain_timer{control};
  asio::steady_timer force_timer{control};
  bool shutting_down = false;
  bool aborted = false;
  std::size_t exited = 0;

  void watch_signals();
  void begin_shutdown();
  void abort_connections();
  void on_worker_exit();
};

Server::Server(ServerOptions options, std::shared_ptr<http::Service> service)
    : impl_(std::make_unique<Impl>()) {
  // sendfile() to a connection the peer has reset raises SIGPIPE, whose default action kills
  // the process; a server must get EPIPE instead. (Process-wide, as with every server.)
  std::signal(SIGPIPE, SIG_IGN);
  Impl& s = *impl_;
  s.options = std::move(options);
  if (s.options.thread_count == 0) {
    s.options.thread_count = std::max(1u, std::thread::hardware_concurrency());
  }
  s.shared.settings = session_settings(s.options);
  s.shared.metrics = s.options.metrics;
  s.shared.service = std::make_shared<BuiltinEndpoints>(
      std::move(service), s.shared.draining, s.options.metrics, s.options.metrics_path,
      s.shared.connections, s.shared.h2_connections);
  s.shared.max_connections = s.options.max_connections;
  if (s.options.tls.enabled()) {
    auto tls = net::TlsContext::load(tls_settings(s.options.tls));
    if (!tls) throw std::runtime_error(tls.error());
    s.shared.tls.store(std::move(*tls));
    if (serves_http3(s.options.tls)) {
      auto h3 = h3::Credentials::load(tls_settings(s.options.tls));
      if (!h3) throw std::runtime_error(h3.error());
      s.shared.h3_tls.store(std::move(*h3));
      s.shared.h3_retry = s.options.tls.http3_retry;
    }
    if (s.options.tls.http_redirect_port != 0) {
      // The TLS port is known once bound; listen() sets it.
      s.shared.redirect_service = std::make_shared<HttpsRedirect>(s.options.port);
    }
  }
  for (const ExtraListener& extra : s.options.extra_listeners)
    s.shared.extra_services.push_back(extra.service);
  s.shared.log_format = s.options.log_format;
  if (s.options.access_log) {
    s.shared.access_log = std::make_shared<AccessLogSink>(
        s.options.access_log_file, s.options.access_log_max_bytes, s.options.access_log_max_files);
  }
  const std::size_t buffer_size = std::max<std::size_t>(s.options.request_allocation_size, 1024);
  for (unsigned i = 0; i < s.options.thread_count; ++i) {
    s.workers.push_back(std::make_unique<Worker>(s.shared, buffer_size));
  }
}

Server::~Server() {
  for (auto& w : impl_->workers)
    w->stop();
  for (auto& w : impl_->workers)
    w->join();
}

void Server::listen() {
  Impl& s = *impl_;
  std::error_code ec;
  asio::ip::address address = asio::ip::make_address(s.options.ip, ec);
  if (ec) throw std::system_error(ec, "invalid listen address '" + s.options.ip + "'");
  asio::ip::tcp::endpoint endpoint(address, s.options.port);
  for (auto& worker : s.workers) {
    // The first bind may pick the port (port 0); the others share it through SO_REUSEPORT.
    endpoint.port(worker->listen(endpoint));
  }
  s.port = endpoint.port();
  if (s.shared.h3_tls.load()) {
    // UDP on the TCP port that was bound; every worker shares it through SO_REUSEPORT.
    asio::ip::udp::endpoint udp(address, s.port);
    s.shared.h3_endpoints.assign(s.workers.size(), nullptr);
    for (std::size_t i = 0; i < s.workers.size(); ++i)
      s.workers[i]->listen_h3(udp, i);
    s.shared.settings.alt_svc = "h3=\":" + std::to_string(s.port) + "\"; ma=86400";
  }
  if (s.shared.redirect_service) {
    s.shared.redirect_service->set_tls_port(s.port);
    asio::ip::tcp::endpoint plain(address, s.options.tls.http_redirect_port);
    for (auto& worker : s.workers) {
      worker->listen(plain, Worker::Listener::kHttpsRedirect);
    }
  }
  for (std::size_t i = 0; i < s.options.extra_listeners.size(); ++i) {
    const ExtraListener& extra = s.options.extra_listeners[i];
    asio::ip::address ip = asio::ip::make_address(extra.ip, ec);
    if (ec) throw std::system_error(ec, extra.name + ": invalid listen address '" + extra.ip + "'");
    asio::ip::tcp::endpoint at(ip, extra.port);
    try {
      for (auto& worker : s.workers)
        at.port(worker->listen(at, Worker::Listener::kExtra, i));
    } catch (const std::system_error& e) {
      throw std::system_error(e.code(), extra.name + ": cannot listen on " + extra.ip + ":" +
                                            std::to_string(extra.port));
    }
    const std::string host =
        extra.ip.find(':') != std::string::npos ? "[" + extra.ip + "]" : extra.ip;
    log::server().info("{} listening on {}:{}", extra.name, host, at.port());
  }
}

std::optional<std::string> Server::reload_tls(const TlsOptions& tls) {
  Impl& s = *impl_;
  if (!s.shared.tls.load()) return "TLS is not enabled on this server; restart to enable it";
  if (!tls.enabled()) return "TLS cannot be turned off by a reload; restart to serve plain HTTP";
  auto context = net::TlsContext::load(tls_settings(tls));
  if (!context) return context.error();
  std::shared_ptr<const h3::Credentials> h3;
  if (s.shared.h3_tls.load() && serves_http3(tls)) {
    auto loaded = h3::Credentials::load(tls_settings(tls));
    if (!loaded) return loaded.error();
    h3 = std::move(*loaded);
  }
  s.shared.tls.store(std::move(*context));
  if (s.shared.h3_tls.load()) s.shared.h3_tls.store(std::move(h3));
  return std::nullopt;
}

std::optional<std::string> check_tls(const TlsOptions& tls) {
  if (!tls.enabled()) return std::nullopt;
  auto context = net::TlsContext::load(tls_settings(tls));
  if (!context) return context.error();
  if (serves_http3(tls)) {
    auto h3 = h3::Credentials::load(tls_settings(tls));
    if (!h3) return h3.error();
  }
  return std::nullopt;
}

std::uint16_t Server::port() const {
  return impl_->port;
}

void Server::run() {
  Impl& s = *impl_;
  if (s.options.handle_signals) s.watch_signals();
  for (auto& worker : s.workers) {
    worker->start([&s] { asio::post(s.control, [&s] { s.on_worker_exit(); }); });
  }
  std::string host =
      s.options.ip.find(':') != std::string::npos ? "[" + s.options.ip + "]" : s.options.ip;
  log::server().info("listening on {}://{}:{} with {} worker(s)",
                     s.options.tls.enabled() ? "https" : "http", host, s.port, s.workers.size());
  if (s.shared.h3_tls.load()) log::server().info("HTTP/3 on udp://{}:{}", host, s.port);
  if (s.shared.redirect_service) {
    log::server().info("redirecting http://{}:{} to https", host, s.options.tls.http_redirect_port);
  }
  s.control.run();
  for (auto& worker : s.workers)
    worker->join();
  log::server().info("stopped");
}

void Server::shutdown() {
  asio::post(impl_->control, [s = impl_.get()] { s->begin_shutdown(); });
}

void Server::Impl::watch_signals() {
  signals.add(SIGINT);
  signals.add(SIGTERM);
  signals.add(SIGHUP);
  signals.async_wait([this](const std::error_code& ec, int signal) {
    if (ec) return;
    if (signal == SIGHUP) {
      if (shared.access_log) shared.access_log->reopen();
      if (options.on_reload) {
        log::server().info("SIGHUP: reloading the configuration");
        options.on_reload();
      } else {
        log::server().info("SIGHUP: access log reopened; nothing else to reload");
      }
    } else {
      log::server().info("{}: shutting down", signal == SIGINT ? "SIGINT" : "SIGTERM");
      begin_shutdown();
    }
    watch_signals();
  });
}

void Server::Impl::begin_shutdown() {
  if (shutting_down) {
    abort_connections();  // asked twice: do not wait for the drain
    if (options.on_shutdown) options.on_shutdown(true);
    return;
  }
  shutting_down = true;
  if (options.on_shutdown) options.on_shutdown(false);
  shared.draining.store(true);
  log::server().info("draining {} connection(s), waiting up to {} ms", shared.connections.load(),
                     options.shutdown_timeout.count());
  for (auto& w : workers)
    w->drain();
  drain_timer.expires_after(options.shutdown_timeout);
  drain_timer.async_wait([this](const std::error_code& ec) {
    if (!ec) abort_connections();
  });
}

void Server::Impl::abort_connections() {
  if (aborted) return;
  aborted = true;
  log::server().info("closing {} remaining connection(s)", shared.connections.load());
  for (auto& w : workers)
    w->abort();
  force_timer.expires_after(kForceStopGrace);
  force_timer.async_wait([this](const std::error_code& ec) {
    if (ec) return;
    for (auto& w : workers)
      w->stop();
  });
}

void Server::Impl::on_worker_exit() {
  if (++exited < workers.size()) return;
  std::error_code ec;
  signals.cancel(ec);
  drain_timer.cancel();
  force_timer.cancel();
  keep_running.reset();
}

}  // namespace rws::server
