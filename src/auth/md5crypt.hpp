#pragma once
// The MD5-based crypt of FreeBSD/Apache ("$1$" / "$apr1$"), for htpasswd entries.

#include <string>
#include <string_view>

namespace rws::auth {

// The full hash string `magic` + salt + "$" + 22 characters, where `salt` is the part of
// `salt` before any '$', at most 8 characters. `magic` is "$apr1$" or "$1$".
std::string md5crypt(std::string_view password, std::string_view salt, std::string_view magic);

}  // namespace rws::auth
