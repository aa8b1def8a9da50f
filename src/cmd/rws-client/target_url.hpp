#pragma once
// The URL rws-client fetches: http:// or https://, a host name or IP literal ([v6] for IPv6), an
// optional port, and the rest as the request target.

#include <cstdint>
#include <string>
#include <string_view>

#include <rws/core/expected.hpp>

namespace rws::client {

struct TargetUrl {
  bool tls = false;
  std::string host;  // without brackets
  std::uint16_t port = 80;
  std::string target = "/";  // path and query, as given
  std::string authority;     // host[:port] as sent (brackets around IPv6, port when not default)
};

// The problem with `url` when it is not of that form.
Expected<TargetUrl, std::string> parse_target_url(std::string_view url);

}  // namespace rws::client
