#pragma once

#include <string>
#include <vector>

#include "config/server_config.hpp"

namespace rws::config {

// Applies the server keys of the TOML file at `path` (top level or inside [server]) to `config`.
// Every problem is appended to `errors` as "path:line:col: message"; deprecated spellings add a
// warning. Sections of features this build does not have are errors, never silently ignored.
void apply_config_file(const std::string& path, ServerConfig& config,
                       std::vector<std::string>& errors, std::vector<std::string>& warnings);

}  // namespace rws::config
