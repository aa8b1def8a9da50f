#include "config/server_keys.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <rws/http/cidr.hpp>
#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws::config {
namespace {

using server::AccessLogFormat;
using std::chrono::milliseconds;

std::int64_t as_int(const Value& v) {
  return std::get<std::int64_t>(v);
}
const std::string& as_string(const Value& v) {
  return std::get<std::string>(v);
}

// Stores `path` in `out` when the file can be read (its content is checked when TLS is set up).
std::optional<std::string> readable_file(const std::string& path, std::string& out) {
  if (path.empty()) return "expected a file path";
  if (::access(path.c_str(), R_OK) != 0) {
    return "'" + path + "' cannot be read: " + std::strerror(errno);
  }
  out = path;
  return std::nullopt;
}

bool valid_ip(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

constexpr std::int64_t kMaxSize = std::int64_t{1} << 40;
constexpr std::int64_t kMaxMs = std::int64_t{24} * 3600 * 1000;

const std::array
    kKeys =
        {
            KeySpec{"ip", KeyType::kString, "address to listen on (IPv4 or IPv6; '::' for both)",
                    "-i", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      if (!valid_ip(as_string(v))) return "not an IPv4 or IPv6 address";
                      c.server.ip = as_string(v);
                      return std::nullopt;
                    }},
            KeySpec{"port", KeyType::kInteger, "TCP port (0: any free port)", "-p", 0, 65535,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.port = static_cast<std::uint16_t>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"thread_count", KeyType::kInteger, "worker threads (default: one per core)",
                    "-t", 1, 1024,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.thread_count = static_cast<unsigned>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"root", KeyType::kString,
                    "document root of the static file server (default: cwd)", "", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      if (as_string(v).empty()) return "must not be empty";
                      c.files.root = as_string(v);
                      return std::nullopt;
                    }},
            KeySpec{"request_allocation_size_in_bytes", KeyType::kInteger,
                    "read buffer per active connection, bytes", "-r", 1024, 64 << 20,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.request_allocation_size = static_cast<std::size_t>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"max_header_size", KeyType::kInteger,
                    "request line + header limit, bytes (431)", "", 1024, 16 << 20,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.max_header_size = static_cast<std::size_t>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"max_body_size", KeyType::kInteger, "request body limit, bytes (413); 0: none",
                    "", 0, kMaxSize,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.max_body_size = static_cast<std::uint64_t>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"max_connections", KeyType::kInteger, "open connections at once; 0: no limit",
                    "", 0, 10'000'000,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.max_connections = static_cast<std::size_t>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"trusted_proxies", KeyType::kStringList,
                    "proxies (CIDR blocks or addresses) whose X-Forwarded-For names the client", "",
                    0, 0,
                    [](ServerConfig& c,
                       const Value& v) -> std::
                                           optional<std::string> {
                                             c.server.trusted_proxies.clear();
                                             for (const std::string& text :
                                                  std::get<std::vector<std::string>>(v)) {
                                               std::optional<http::Cidr> block =
                                                   http::Cidr::parse(text);
                                               if (!block)
                                                 return "'" + text +
                                                        "' is not an IP address or CIDR block";
                                               c.server.trusted_proxies.push_back(*block);
                                             }
                                             return std::nullopt;
                                           }},
            KeySpec{"header_timeout_ms", KeyType::kInteger, "time to receive a request head (408)",
                    "", 1, kMaxMs,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.header_timeout = milliseconds(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"idle_timeout_ms", KeyType::kInteger, "keep-alive wait for the next request",
                    "", 1, kMaxMs,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.idle_timeout = milliseconds(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"body_timeout_ms", KeyType::kInteger,
                    "longest pause while receiving a body (408)", "", 1, kMaxMs,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.body_timeout = milliseconds(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{
                "shutdown_timeout_ms", KeyType::kInteger, "drain time on SIGTERM", "", 0, kMaxMs,
                [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                  c.server.shutdown_timeout = milliseconds(as_int(v));
                  return std::nullopt;
                }},
            KeySpec{"http_redirect_port", KeyType::kInteger,
                    "plain HTTP port answering 301 to https:// (needs TLS)", "", 1, 65535,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.tls.http_redirect_port = static_cast<std::uint16_t>(as_int(v));
                      return std::nullopt;
                    }},
            KeySpec{"tls_cert_file", KeyType::kString,
                    "certificate chain (PEM) for TLS; enables https", "-s", 0, 0,
                    [](ServerConfig& c, const Value& v) {
                      return readable_file(as_string(v), c.server.tls.cert_file);
                    }},
            KeySpec{
                "tls_key_file", KeyType::kString, "private key (PEM) of tls_cert_file", "-k", 0, 0,
                [](ServerConfig& c, const Value& v) {
                  return readable_file(as_string(v), c.server.tls.key_file);
                }},
            KeySpec{"tls_client_ca_file", KeyType::kString,
                    "CA (PEM) that client certificates must chain to (mutual TLS)", "", 0, 0,
                    [](ServerConfig& c, const Value& v) {
                      return readable_file(as_string(v), c.server.tls.client_ca_file);
                    }},
            KeySpec{"hsts", KeyType::kString,
                    "Strict-Transport-Security value on TLS responses (\"\": none)", "", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      if (!http::syntax::is_field_value(as_string(v))) {
                        return "not a valid header field value";
                      }
                      c.server.tls.hsts = as_string(v);
                      return std::nullopt;
                    }},
            KeySpec{"http3_retry", KeyType::kBool,
                    "HTTP/3: validate client addresses with Retry packets", "", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.tls.http3_retry = std::get<bool>(v);
                      return std::nullopt;
                    }},
            KeySpec{
                "spa_fallback", KeyType::kString,
                "file served for unmatched GET/HEAD paths without a '.' in the last segment", "", 0,
                0,
                [](ServerConfig& c, const Value& v) -> std::
                                                        optional<std::string> {
                                                          c.files.spa_fallback = as_string(v);
                                                          return std::nullopt;
                                                        }},
            KeySpec{"spa_fallback_exclude_prefixes", KeyType::kStringList,
                    "path prefixes never given the SPA fallback (comma-separated)", "", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      const auto& list = std::get<std::vector<std::string>>(v);
                      for (const std::string& p : list) {
                        if (p.empty() || p.front() != '/') return "each prefix must start with '/'";
                      }
                      c.files.spa_fallback_exclude_prefixes = list;
                      return std::nullopt;
                    }},
            KeySpec{"directory_listing", KeyType::kBool, "list directories without an index file",
                    "", 0, 0,
                    [](ServerConfig& c,
                       const Value& v) -> std::
                                           optional<std::string> {
                                             c.files.directory_listing = std::get<bool>(v);
                                             return std::nullopt;
                                           }},
            KeySpec{"log_format", KeyType::kString, "access log format: combined or json", "", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      if (as_string(v) == "combined") {
                        c.server.log_format = AccessLogFormat::kCombined;
                      } else if (as_string(v) == "json") {
                        c.server.log_format = AccessLogFormat::kJson;
                      } else {
                        return "expected 'combined' or 'json'";
                      }
                      return std::nullopt;
                    }},
            KeySpec{
                "access_log_file", KeyType::kString, "access log file ('-': standard output)", "",
                0, 0,
                [](ServerConfig& c, const Value& v) -> std::
                                                        optional<std::string> {
                                                          c.server.access_log_file = as_string(v);
                                                          return std::nullopt;
                                                        }},
            KeySpec{"access_log_max_mb", KeyType::kInteger,
                    "rotate the access log beyond this size; 0: never", "", 0, 1 << 20,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      c.server.access_log_max_bytes = static_cast<std::uint64_t>(as_int(v)) << 20;
                      return std::nullopt;
                    }},
            KeySpec{
                "access_log_max_files", KeyType::kInteger, "rotated access log files kept", "", 0,
                1000,
                [](ServerConfig& c, const Value& v) -> std::
                                                        optional<std::string> {
                                                          c.server.access_log_max_files =
                                                              static_cast<unsigned>(as_int(v));
                                                          return std::nullopt;
                                                        }},
            KeySpec{"log_level", KeyType::kString,
                    "error log level: trace, debug, info, warn, error, critical, off", "", 0, 0,
                    [](ServerConfig& c, const Value& v) -> std::optional<std::string> {
                      static constexpr std::string_view kLevels[] = {
                          "trace", "debug", "info", "warn", "error", "critical", "off"};
                      if (std::find(std::begin(kLevels), std::end(kLevels), as_string(v)) ==
                          std::end(kLevels)) {
                        return "expected one of trace, debug, info, warn, error, critical, off";
                      }
                      c.log_level = as_string(v);
                      return std::nullopt;
                    }},
};

const auto kKeyNames = [] {
  std::array<std::string_view, kKeys.size()> names{};
  for (std::size_t i = 0; i < kKeys.size(); ++i)
    names[i] = kKeys[i].name;
  return names;
}();

constexpr KeyAlias kAliases[] = {
    {"request-allocation-size-in-bytes", "request_allocation_size_in_bytes"},
};

}  // namespace

std::span<const KeySpec> server_keys() {
  return kKeys;
}
std::span<const std::string_view> server_key_names() {
  return kKeyNames;
}
std::span<const KeyAlias> key_aliases() {
  return kAliases;
}

const KeySpec* find_key(std::string_view name) {
  for (const KeySpec& k : kKeys) {
    if (k.name == name) return &k;
  }
  return nullptr;
}

std::optional<Value> parse_text(const KeySpec& key, std::string_view text) {
  switch (key.type) {
    case KeyType::kString:
      return Value(std::string(text));
    case KeyType::kInteger: {
      std::string_view t = http::syntax::trim_ows(text);
      if (t.empty() || t.size() > 18) return std::nullopt;
      std::int64_t v = 0;
      for (char c : t) {
        if (c < '0' || c > '9') return std::nullopt;
        v = v * 10 + (c - '0');
      }
      return Value(v);
    }
    case KeyType::kBool: {
      std::string_view t = http::syntax::trim_ows(text);
      for (std::string_view yes : {"true", "1", "yes", "on"}) {
        if (http::iequals(t, yes)) return Value(true);
      }
      for (std::string_view no : {"false", "0", "no", "off"}) {
        if (http::iequals(t, no)) return Value(false);
      }
      return std::nullopt;
    }
    case KeyType::kStringList: {
      std::vector<std::string> items;
      while (!text.empty()) {
        std::size_t comma = text.find(',');
        std::string_view item = http::syntax::trim_ows(text.substr(0, comma));
        if (!item.empty()) items.emplace_back(item);
        text = comma == std::string_view::npos ? std::string_view() : text.substr(comma + 1);
      }
      return Value(std::move(items));
    }
  }
  return std::nullopt;
}

std::string expected_description(const KeySpec& key) {
  switch (key.type) {
    case KeyType::kInteger:
      return "an integer between " + std::to_string(key.min) + " and " + std::to_string(key.max);
    case KeyType::kBool:
      return "true or false";
    case KeyType::kStringList:
      return "a list of strings";
    case KeyType::kString:
      break;
  }
  return "a string";
}

std::optional<std::string> apply_value(ServerConfig& config, const KeySpec& key, const Value& v) {
  if (key.type == KeyType::kInteger) {
    std::int64_t n = std::get<std::int64_t>(v);
    if (n < key.min || n > key.max) return "expected " + expected_description(key);
  }
  return key.apply(config, v);
}

std::string env_name(std::string_view key) {
  std::string out = "RWS_CONFIG_";
  for (char c : key)
    out += (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c;
  return out;
}

std::string flag_name(std::string_view key) {
  std::string out = "--";
  for (char c : key)
    out += c == '_' ? '-' : c;
  return out;
}

}  // namespace rws::config
