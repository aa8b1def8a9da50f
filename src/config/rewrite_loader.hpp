#pragma once

#include <toml++/toml.h>

#include <string>

#include "config/rewrite_config.hpp"
#include "config/toml_reader.hpp"

namespace rws::config {

// Reads the `rewrite` key of a middleware table: { request = [rule..], response = [rule..] }.
// A rule names its type either as its only key (`{ header_set = { name = "X", value = "1" } }`,
// the [[…rewrite.request]] form with a [….header_set] sub-table) or with `type` next to the
// type's fields (`{ type = "header_set", name = "X", value = "1" }`), like [route.action].
// Every problem is reported at its position; historical type names are accepted with a warning.
RewriteConfig read_rewrite(const toml::node& node, const std::string& what,
                           Diagnostics& diagnostics);

}  // namespace rws::config
