#include "target_url.hpp"

#include <charconv>

namespace rws::client {

Expected<TargetUrl, std::string> parse_target_url(std::string_view url) {
  TargetUrl out;
  std::string_view rest;
  if (url.starts_with("http://")) {
    rest = url.substr(7);
  } else if (url.starts_with("https://")) {
    out.tls = true;
    out.port = 443;
    rest = url.substr(8);
  } else {
    return Unexpected("'" + std::string(url) + "' is not an http:// or https:// URL");
  }
  const std::size_t slash = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    out.target = std::string(rest.substr(slash));
    if (out.target.front() == '?') out.target.insert(0, "/");
  }
  std::string_view port;
  if (authority.starts_with('[')) {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos)
      return Unexpected(std::string("unterminated IPv6 address"));
    out.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return Unexpected(std::string("expected ':' after the IPv6 address"));
      port = after.substr(1);
    }
  } else {
    const std::size_t colon = authority.rfind(':');
    out.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (out.host.empty()) return Unexpected("no host in '" + std::string(url) + "'");
  if (!port.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (ec != std::errc() || end != port.data() + port.size() || value == 0 || value > 65535) {
      return Unexpected("invalid port '" + std::string(port) + "'");
    }
    out.port = static_cast<std::uint16_t>(value);
  }
  out.authority = std::string(authority);
  return out;
}

}  // namespace rws::client
