#pragma once

#include <toml++/toml.h>

#include <optional>
#include <string>

#include "config/middleware_config.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {

// Reads `auth = { type = …, … }` and sets the credentials up: reads the secret's environment
// variable, parses the htpasswd file, loads the public key or fetches the JWKS (blocking, at
// most 5 s; the verifier then refetches it every 5 minutes). Anything that cannot be set up is
// an error at the key concerned; nullopt then.
std::optional<AuthConfig> read_auth(const toml::table& table, const std::string& what,
                                    Diagnostics& diagnostics);

}  // namespace rws::config
