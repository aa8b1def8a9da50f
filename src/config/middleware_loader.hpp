#pragma once

#include <toml++/toml.h>

#include "config/middleware_config.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {

// Reads a middleware table ([middleware] or [route.middleware]); `what` names it in messages.
// Middleware this version does not have is an error (a route must not run unprotected).
MiddlewareConfig read_middleware(const toml::table& table, const std::string& what,
                                 Diagnostics& diagnostics);

// The document's defaults for every route: the top-level [middleware] table, with [cors] as
// the default `cors` (setting CORS in both places is an error).
MiddlewareConfig load_middleware_defaults(const toml::table& document, Diagnostics& diagnostics);

}  // namespace rws::config
