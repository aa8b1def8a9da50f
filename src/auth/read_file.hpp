#pragma once
// Whole-file reads for credential files (htpasswd, PEM keys), done once at setup.

#include <string>

namespace rws::auth {

// The contents of the regular file at `path` (at most 16 MiB); throws std::runtime_error
// "PATH: cannot read: reason" otherwise.
std::string read_credential_file(const std::string& path);

}  // namespace rws::auth
