#include "core/log.hpp"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <memory>

namespace rws::log {
namespace {

struct Loggers {
  std::shared_ptr<spdlog::sinks::stderr_sink_mt> sink =
      std::make_shared<spdlog::sinks::stderr_sink_mt>();
  spdlog::logger server{"server", sink};
  spdlog::logger http{"http", sink};
  spdlog::logger files{"files", sink};

  Loggers() {
    for (spdlog::logger* l : {&server, &http, &files}) {
      l->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ [%n] %v", spdlog::pattern_time_type::utc);
      l->set_level(spdlog::level::info);
      l->flush_on(spdlog::level::trace);
    }
  }
};

Loggers& loggers() {
  static Loggers instance;
  return instance;
}

}  // namespace

bool init(std::string_view level) {
  auto parsed = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when it was asked for.
  if (parsed == spdlog::level::off && level != "off") return false;
  for (spdlog::logger* l : {&loggers().server, &loggers().http, &loggers().files}) {
    l->set_level(parsed);
  }
  return true;
}

spdlog::logger& server() {
  return loggers().server;
}
spdlog::logger& http() {
  return loggers().http;
}
spdlog::logger& files() {
  return loggers().files;
}

}  // namespace rws::log
