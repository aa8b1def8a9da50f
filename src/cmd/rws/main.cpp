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
#include "gateway/gateway.hpp"

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

// SIGHUP in gateway mode: re-read and validate everything; publish only a fully valid result.
void reload_gateway(const std::vector<std::string>& args, rws::gateway::Gateway& gateway) {
  rws::config::LoadResult loaded =
      rws::config::load_server_config(args, [](const char* name) { return std::getenv(name); });
  for (const std::string& w : loaded.warnings)
    rws::log::server().warn("reload: {}", w);
  if (!loaded.errors.empty()) {
    for (const std::string& e : loaded.errors)
      rws::log::server().error("reload: {}", e);
    rws::log::server().error("reload failed: the current configuration stays");
    return;
  }
  if (!loaded.config.gateway) {
    rws::log::server().error(
        "reload failed: the file no longer configures routes; the current configuration stays");
    return;
  }
  try {
    gateway.reload(*loaded.config.gateway);
    rws::log::server().info("configuration reloaded: {} route(s), {} upstream(s)",
                            loaded.config.gateway->routes.size(),
                            loaded.config.gateway->upstreams.size());
  } catch (const std::exception& e) {
    rws::log::server().error("reload failed: {}; the current configuration stays", e.what());
  }
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
  if (!loaded.errors.empty()) return 2;

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
    } else {
      // The default mode is an App whose only route is the static file tree.
      app.static_files("/", config.files);
      app.freeze();
      service = app.service();
    }
    if (loaded.check_only) {
      std::printf("rws: configuration OK%s%s\n", config.config_file.empty() ? "" : ": ",
                  config.config_file.c_str());
      return 0;
    }
    if (gateway) {
      config.server.on_reload = [args, gateway] { reload_gateway(args, *gateway); };
    }
    rws::server::Server server(config.server, std::move(service));
    server.listen();
    if (gateway) {
      rws::log::server().info("gateway: {} route(s), {} upstream(s) from {}",
                              config.gateway->routes.size(), config.gateway->upstreams.size(),
                              config.config_file);
    } else {
      rws::log::server().info("serving {}", config.files.root);
    }
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "rws: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
