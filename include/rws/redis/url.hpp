#pragma once
// The address of a Redis server, as written in configuration:
//
//   redis://[[username]:password@]host[:port][/db]
//
// host is a name, an IPv4 address or a bracketed IPv6 address; port defaults to 6379 and db to
// 0. username and password may be percent-encoded (a password holding '@', ':' or '/' must be).
// A password without a username is sent as `AUTH password`, with one as `AUTH username
// password`. Only plain TCP: `rediss://` (TLS) and unix sockets are refused.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rws::redis {

struct RedisUrl {
  std::string host;  // a name or a numeric address (IPv6 without brackets)
  std::uint16_t port = 6379;
  std::string username;  // empty: none
  std::string password;  // empty: no AUTH
  std::int64_t db = 0;   // SELECTed after connecting when not 0

  bool operator==(const RedisUrl&) const = default;
  // "host:port" (IPv6 bracketed), for messages; never the credentials.
  std::string address() const;
};

// The URL's parts, or nullopt with `error` saying what is wrong (without the password).
std::optional<RedisUrl> parse_redis_url(std::string_view text, std::string& error);

}  // namespace rws::redis
