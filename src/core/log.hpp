#pragma once
// Error/diagnostic logging: one spdlog logger per subsystem, all writing to stderr through one
// shared sink. Access logs are separate (server/access_log.hpp). Never log secrets
// (authorization, cookies, tokens) and never log from codecs.

#include <spdlog/logger.h>

#include <string_view>

namespace rws::log {

// Creates the loggers at `level` ("trace", "debug", "info", "warn", "error", "critical", "off").
// Returns false for an unknown level name. Safe to call again to change the level.
bool init(std::string_view level);

spdlog::logger& server();  // startup, workers, signals, drain
spdlog::logger& http();    // connections and exchanges
spdlog::logger& files();   // static file service

}  // namespace rws::log
