#include <cctype>
#include <charconv>

#include <rws/redis/url.hpp>

namespace rws::redis {
namespace {

constexpr std::string_view kScheme = "redis://";
constexpr std::int64_t kMaxDb = 1'000'000;  // Redis's `databases` is far smaller in practice

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes `in`; false on a malformed escape.
bool percent_decode(std::string_view in, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    if (i + 2 >= in.size()) return false;
    const int hi = hex_value(in[i + 1]);
    const int lo = hex_value(in[i + 2]);
    if (hi < 0 || lo < 0) return false;
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool is_host_name(std::string_view host) {
  for (char c : host) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_') {
      return false;
    }
  }
  return !host.empty();
}

bool is_ipv6(std::string_view host) {
  for (char c : host) {
    if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
  }
  return host.find(':') != std::string_view::npos;
}

template <class T>
bool parse_number(std::string_view text, T& out) {
  if (text.empty()) return false;
  for (char c : text) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc() && end == text.data() + text.size();
}

}  // namespace

std::string RedisUrl::address() const {
  const std::string h = host.find(':') == std::string::npos ? host : "[" + host + "]";
  return h + ":" + std::to_string(port);
}

std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error) {
  if (text.starts_with("rediss://")) {
    error = "rediss:// (TLS) is not supported; use redis://";
    return std::nullopt;
  }
  if (!text.starts_with(kScheme)) {
    error = "must start with redis://";
    return std::nullopt;
  }
  std::string_view rest = text.substr(kScheme.size());
  if (rest.find_first_of("?#") != std::string_view::npos) {
    error = "query and fragment are not supported";
    return std::nullopt;
  }
  RedisUrl url;
  std::string_view db;
  if (const std::size_t slash = rest.find('/'); slash != std::string_view::npos) {
    db = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    if (!db.empty() && (!parse_number(db, url.db) || url.db > kMaxDb)) {
      error = "the database after '/' must be a number from 0 to " + std::to_string(kMaxDb);
      return std::nullopt;
    }
  }
  if (const std::size_t at = rest.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = rest.substr(0, at);
    rest = rest.substr(at + 1);
    const std::size_t colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      error = "the part before '@' must be [username]:password";
      return std::nullopt;
    }
    if (!percent_decode(userinfo.substr(0, colon), url.username) ||
        !percent_decode(userinfo.substr(colon + 1), url.password)) {
      error = "malformed percent-encoding in the credentials";
      return std::nullopt;
    }
    if (url.password.empty()) {
      error = "the password before '@' is empty";
      return std::nullopt;
    }
  }
  std::string_view host = rest;
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    const std::size_t close = rest.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated '[' in the host";
      return std::nullopt;
    }
    host = rest.substr(1, close - 1);
    std::string_view after = rest.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') {
        error = "unexpected text after ']'";
        return std::nullopt;
      }
      port = after.substr(1);
      if (port.empty()) {
        error = "empty port after ':'";
        return std::nullopt;
      }
    }
    if (!is_ipv6(host)) {
      error = "'" + std::string(host) + "' is not an IPv6 address";
      return std::nullopt;
    }
  } else if (const std::size_t colon = rest.find(':'); colon != std::string_view::npos) {
    host = rest.substr(0, colon);
    port = rest.substr(colon + 1);
    if (port.empty()) {
      error = "empty port after ':'";
      return std::nullopt;
    }
  }
  if (host.empty()) {
    error = "the host is missing";
    return std::nullopt;
  }
  if (rest.front() != '[' && !is_host_name(host)) {
    error = "'" + std::string(host) + "' is not a host name or address";
    return std::nullopt;
  }
  if (!port.empty()) {
    unsigned value = 0;
    if (!parse_number(port, value) || value == 0 || value > 65535) {
      error = "the port must be a number from 1 to 65535";
      return std::nullopt;
    }
    url.port = static_cast<std::uint16_t>(value);
  }
  url.host = std::string(host);
  return url;
}

}  // namespace rws::redis
