// rws: the command-line server. Loads the configuration, then serves the static file tree (the
// default mode) until SIGTERM/SIGINT.

#include <sys/resource.h>

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <memory>
#include <string>
#include <vector>

#include <rws/app/app.hpp>
#include <rws/server/server.hpp>

#include "config/server_config.hpp"
#include "core/log.hpp"
#include "gateway/backend_metrics.hpp"
#include "gateway/gateway.hpp"
#include "gateway/middleware_chain.hpp"
#include "l4/l4_metrics.hpp"
#include "l4/l4_service.hpp"
#include "metrics/registry.hpp"

#ifndef RWS_VERSION
#define RWS_VERSION "unknown"
#endif

namespace {

// Every connection and every cached open file is a descriptor: use all the hard limit allows
// (the soft default of 1024 is far below what a server needs).
void raise_descriptor_limit() {
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &limit);
  }
}

// The server settings a reload cannot change (they shape listeners, workers and sessions made at
// start) that differ between the running and the re-read configuration.
std::string restart_only_changes(const rws::server::ServerOptions& running,
                                 const rws::config::ServerConfig& reread) {
  const rws::server::ServerOptions& file = reread.server;
  std::string changed;
  auto check = [&](bool differs, const char* key) {
    if (differs) changed += changed.empty() ? key : std::string(", ") + key;
  };
  check(running.ip != file.ip, "ip");
  check(running.port != file.port, "port");
  check(running.thread_count != file.thread_count, "thread_count");
  check(running.request_allocation_size != file.request_allocation_size,
        "request_allocation_size_in_bytes");
  check(running.max_header_size != file.max_header_size, "max_header_size");
  check(running.max_body_size != file.max_body_size, "max_body_size");
  check(running.max_connections != file.max_connections, "max_connections");
  check(running.header_timeout != file.header_timeout, "header_timeout_ms");
  check(running.idle_timeout != file.idle_timeout, "idle_timeout_ms");
  check(running.body_timeout != file.body_timeout, "body_timeout_ms");
  check(running.shutdown_timeout != file.shutdown_timeout, "shutdown_timeout_ms");
  check(running.access_log != file.access_log || running.access_log_file != file.access_log_file ||
            running.log_format != file.log_format ||
            running.access_log_max_bytes != file.access_log_max_bytes ||
            running.access_log_max_files != file.access_log_max_files,
        "access log settings");
  check(running.tls.enabled() != file.tls.enabled(), "TLS on/off");
  check(running.tls.http_redirect_port != file.tls.http_redirect_port, "http_redirect_port");
  check(running.tls.hsts != file.tls.hsts, "hsts");
  check(running.tls.http3_retry != file.tls.http3_retry, "http3_retry");
  check(static_cast<bool>(running.metrics) != reread.metrics.enabled ||
            (running.metrics && running.metrics_path != reread.metrics.path),
        "[metrics]");
  return changed;
}

// Whether the [[ws_proxy]] listeners of `reread` differ from the running ones (names and
// listen addresses, in order).
bool ws_proxy_listeners_changed(const rws::server::ServerOptions& running,
                                const rws::config::GatewayConfig& reread) {
  if (running.extra_listeners.size() != reread.ws_proxies.size()) return true;
  for (std::size_t i = 0; i < reread.ws_proxies.size(); ++i) {
    const rws::server::ExtraListener& l = running.extra_listeners[i];
    const rws::config::WsProxy& w = reread.ws_proxies[i];
    if (l.name != "ws_proxy " + w.name || l.ip != w.ip || l.port != w.port) return true;
  }
  return false;
}

// SIGHUP: re-read and validate everything; publish only a fully valid result. Routes, upstreams
// and certificates change in place; other server settings need a restart (a warning says which).
// `gateway` is null in the static file server mode. L4 listeners ([[tcp_proxy]], [[udp_proxy]])
// follow the file (l4/l4_service.hpp); their new sockets are bound before anything is published.
// Returns whether anything was published.
bool reload(const std::vector<std::string>& args, rws::gateway::Gateway* gateway,
            const rws::server::ServerOptions& running, rws::l4::L4Service& l4,
            rws::server::Server& server) {
  rws::config::LoadResult loaded =
      rws::config::load_server_config(args, [](const char* name) { return std::getenv(name); });
  for (const std::string& w : loaded.warnings)
    rws::log::server().warn("reload: {}", w);
  auto fail = [](const std::string& why) {
    rws::log::server().error("reload failed: {}; the current configuration stays", why);
    return false;
  };
  if (!loaded.errors.empty()) {
    for (const std::string& e : loaded.errors)
      rws::log::server().error("reload: {}", e);
    return fail("the configuration has errors");
  }
  if (gateway && !loaded.config.gateway) return fail("the file no longer configures routes");
  if (!gateway && loaded.config.gateway) {
    return fail("the file now configures routes; restart to switch to the gateway mode");
  }
  if (gateway && ws_proxy_listeners_changed(running, *loaded.config.gateway)) {
    rws::log::server().warn(
        "reload: the set of [[ws_proxy]] names and listen addresses changed; their backends "
        "follow the file now, their listeners change at the next restart");
  }
  if (std::string changed = restart_only_changes(running, loaded.config); !changed.empty()) {
    rws::log::server().warn("reload: {} changed; server settings apply at the next restart",
                            changed);
  }
  const bool tls = running.tls.enabled() && loaded.config.server.tls.enabled();
  if (tls) {
    if (auto problem = rws::server::check_tls(loaded.config.server.tls)) return fail(*problem);
  }
  std::shared_ptr<rws::l4::L4Service::Update> l4_update;
  try {
    l4_update = l4.prepare(loaded.config.l4);
  } catch (const std::exception& e) {
    return fail(e.what());
  }
  if (gateway) {
    try {
      gateway->reload(*loaded.config.gateway);
    } catch (const std::exception& e) {
      return fail(e.what());
    }
    rws::log::server().info("configuration reloaded: {} route(s), {} upstream(s)",
                            loaded.config.gateway->routes.size(),
                            loaded.config.gateway->upstreams.size());
  }
  l4.apply(std::move(l4_update));
  if (tls) {
    if (auto problem = server.reload_tls(loaded.config.server.tls)) return fail(*problem);
    rws::log::server().info("certificates reloaded");
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  rws::config::LoadResult loaded =
      rws::config::load_server_config(args, [](const char* name) { return std::getenv(name); });
  if (loaded.show_help) {
    std::fputs(loaded.help_text.c_str(), stdout);
    return 0;
  }
  if (loaded.show_version) {
    std::printf("rws %s\n", RWS_VERSION);
    return 0;
  }
  for (const std::string& w : loaded.warnings)
    std::fprintf(stderr, "rws: warning: %s\n", w.c_str());
  for (const std::string& e : loaded.errors)
    std::fprintf(stderr, "rws: error: %s\n", e.c_str());
  // check-config answers 0/1 (valid or not); a server refusing to start exits with 2.
  if (!loaded.errors.empty()) return loaded.check_only ? 1 : 2;

  rws::config::ServerConfig& config = loaded.config;
  rws::log::init(config.log_level);
  raise_descriptor_limit();
  try {
    std::shared_ptr<rws::http::Service> service;
    std::shared_ptr<rws::gateway::Gateway> gateway;
    rws::App app;
    if (config.gateway) {
      gateway = std::make_shared<rws::gateway::Gateway>(*config.gateway);
      service = gateway;
      // [[ws_proxy]]: a listener each, proxying through the gateway's current configuration.
      for (const rws::config::WsProxy& w : config.gateway->ws_proxies) {
        config.server.extra_listeners.push_back(
            {"ws_proxy " + w.name, w.ip, w.port,
             rws::gateway::make_ws_proxy_service(gateway, w.name)});
      }
    } else {
      // The default mode is an App whose only route is the static file tree, inside the
      // middleware of [middleware] / [cors].
      for (rws::Middleware& m : rws::gateway::make_middleware(config.middleware))
        app.use(std::move(m));
      app.static_files("/", config.files);
      app.freeze();
      service = app.service();
    }
    if (auto problem = rws::server::check_tls(config.server.tls)) {
      std::fprintf(stderr, "rws: error: %s\n", problem->c_str());
      return loaded.check_only ? 1 : 2;
    }
    if (loaded.check_only) {
      std::printf("rws: configuration OK%s%s\n", config.config_file.empty() ? "" : ": ",
                  config.config_file.c_str());
      return 0;
    }
    // [[tcp_proxy]] / [[udp_proxy]] (none is fine: a reload may add some): bound after the HTTP
    // listeners (a failure stops the start); they drain with the HTTP server and stop after it.
    auto l4 = std::make_shared<rws::l4::L4Service>(config.l4);
    config.server.on_shutdown = [l4, timeout = config.server.shutdown_timeout](bool immediate) {
      if (immediate) {
        l4->abort();
      } else {
        l4->drain(timeout);
      }
    };
    // [metrics]: counted by the server, served on its path; the gateway adds its backend state.
    std::shared_ptr<rws::metrics::Registry> metrics;
    if (config.metrics.enabled) {
      metrics = std::make_shared<rws::metrics::Registry>();
      if (gateway) metrics->add_collector(rws::gateway::backend_state_collector(gateway));
      // In every gateway file: a reload may add L4 listeners to one that has none yet.
      if (gateway) metrics->add_collector(rws::l4::l4_collector(l4));
      config.server.metrics = metrics;
      config.server.metrics_path = config.metrics.path;
    }
    // The reload callback runs on the server's control thread, while `server` exists.
    rws::server::Server* running_server = nullptr;
    if (gateway || config.server.tls.enabled()) {  // a file with L4 listeners is a gateway file
      config.server.on_reload = [args, gateway, running = config.server, l4, metrics,
                                 &running_server] {
        const bool success = reload(args, gateway.get(), running, *l4, *running_server);
        if (metrics) metrics->count_reload(success);
      };
    }
    rws::server::Server server(config.server, std::move(service));
    running_server = &server;
    server.listen();
    l4->listen();
    l4->start();
    if (gateway) {
      rws::log::server().info("gateway: {} route(s), {} upstream(s) from {}",
                              config.gateway->routes.size(), config.gateway->upstreams.size(),
                              config.config_file);
    } else {
      rws::log::server().info("serving {}", config.files.root);
    }
    server.run();
    l4->drain(config.server.shutdown_timeout);  // begun by the shutdown already; idempotent
    l4->wait_drained();
    l4->stop();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rws: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
