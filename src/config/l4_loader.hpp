#pragma once

#include <toml++/toml.h>

#include <string>
#include <string_view>

#include "config/l4_config.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {

// Reads and validates [[tcp_proxy]] and [[udp_proxy]]; every problem is reported to
// `diagnostics`. Names are unique over both kinds; two listeners of one protocol may not share
// an address (port 0 excepted).
L4Config load_l4(const toml::table& document, Diagnostics& diagnostics);

// Parses a listen address "ip:port" or "[v6]:port" (IP literals only, port 0-65535). Empty
// `error` on success.
ListenAddress parse_listen_address(std::string_view text, std::string& error);

}  // namespace rws::config
