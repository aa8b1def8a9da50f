#pragma once
// [[virtual_host]]: SNI certificates. Each entry needs `domain` (an exact host name, or
// "*.suffix" covering one label), `cert_file` and `key_file` (readable). Domains are unique
// (case-insensitive). Whether the files hold a usable certificate and key is checked when TLS
// is set up (server::check_tls), which names the file.

#include <toml++/toml.h>

#include <vector>

#include <rws/server/options.hpp>

#include "config/toml_reader.hpp"

namespace rws::config {

std::vector<server::VirtualHostCertificate> load_virtual_hosts(const toml::node& node,
                                                               Diagnostics& diagnostics);

}  // namespace rws::config
