#include "proxy/forwarding.hpp"

#include <vector>

#include "http/syntax.hpp"

namespace rws::proxy {
namespace syntax = http::syntax;
namespace {

// Calls `fn(token)` for each non-empty element of the comma-separated lists of every Connection
// field until it returns true; returns whether one did.
template <class Fn>
bool any_connection_token(const http::Headers& headers, bool keep_upgrade, Fn fn) {
  for (const http::Field& f : headers) {
    if (!http::iequals(f.name, "connection")) continue;
    std::string_view rest = f.value;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view token = syntax::trim_ows(rest.substr(0, comma));
      if (!token.empty() && !(keep_upgrade && http::iequals(token, "upgrade")) && fn(token)) {
        return true;
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
  }
  return false;
}

// Replaces every field called `name` with one holding their joined value, ", ", then `last`.
void append_to_list(http::Headers& headers, std::string_view name, std::string_view last) {
  const std::size_t n = headers.count(name);
  if (n == 0) {
    headers.add(name, last);
    return;
  }
  std::string value = n == 1 ? std::string(headers.get(name)) : headers.joined(name);
  if (!value.empty()) value += ", ";
  value += last;
  headers.set(name, value);
}

}  // namespace

bool is_fixed_hop_by_hop(std::string_view name, bool keep_upgrade) noexcept {
  // By length, then (where two names share one, and for the common "User-Agent") by the first
  // letter, so that most fields need no full comparison.
  switch (name.size()) {
    case 2:
      return http::iequals(name, "te");
    case 7:
      return !keep_upgrade && http::iequals(name, "upgrade");
    case 10:
      switch (name[0] | 0x20) {
        case 'c':
          return http::iequals(name, "connection");
        case 'k':
          return http::iequals(name, "keep-alive");
        default:
          return false;
      }
    case 14:
      return http::iequals(name, "content-length");
    case 16:
      return http::iequals(name, "proxy-connection");
    case 17:
      return http::iequals(name, "transfer-encoding");
    default:
      return false;
  }
}

bool named_in_connection(const http::Headers& headers, std::string_view name,
                         bool keep_upgrade) noexcept {
  return any_connection_token(headers, keep_upgrade,
                              [&](std::string_view token) { return http::iequals(token, name); });
}

void remove_hop_by_hop(http::Headers& headers, bool keep_upgrade) {
  // Fields named by Connection are hop-by-hop too (RFC 9110 §7.6.1). Usually they name only
  // fixed ones ("keep-alive", "close"): then one pass removes everything.
  const bool names_others = any_connection_token(headers, keep_upgrade, [&](std::string_view t) {
    if (is_fixed_hop_by_hop(t, keep_upgrade)) return false;
    for (const http::Field& f : headers) {
      if (http::iequals(f.name, t)) return true;
    }
    return false;
  });
  if (names_others) {
    std::vector<std::string> named;
    any_connection_token(headers, keep_upgrade, [&](std::string_view t) {
      named.emplace_back(t);
      return false;
    });
    for (const std::string& name : named)
      headers.remove(name);
  }
  headers.remove_if(
      [&](const http::Field& f) { return is_fixed_hop_by_hop(f.name, keep_upgrade); });
}

void append_client_cert_element(std::string& out, const http::ClientCertificate& cert) {
  out += "Hash=";
  out += cert.sha256_fingerprint;
  out += ";Subject=\"";
  for (char c : cert.subject) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
}

void append_forwarded_element(std::string& out, const ForwardedFor& client) {
  out += "for=";
  if (client.client_ip.find(':') != std::string_view::npos) {
    out += "\"[";
    out += client.client_ip;
    out += "]\"";
  } else {
    out += client.client_ip;
  }
  out += ";proto=";
  out += client.proto;
  if (!client.host.empty()) {
    const bool token = syntax::is_token(client.host);
    out += ";host=";
    if (!token) out += '"';
    out += client.host;
    if (!token) out += '"';
  }
}

void append_via_entry(std::string& out, int version) {
  // HTTP/1.x keeps its minor version; HTTP/2 and HTTP/3 have none.
  switch (version) {
    case 10:
      out += "1.0 rws";
      return;
    case 11:
      out += "1.1 rws";
      return;
    case 20:
      out += "2 rws";
      return;
    case 30:
      out += "3 rws";
      return;
    default:
      out += std::to_string(version / 10);
      if (version < 20) {
        out += '.';
        out += std::to_string(version % 10);
      }
      out += " rws";
  }
}

void append_target(std::string& out, std::string_view path, std::string_view query,
                   std::string_view strip, std::string_view add) {
  std::string_view rest = path;
  if (!strip.empty() && rest.substr(0, strip.size()) == strip &&
      (rest.size() == strip.size() || rest[strip.size()] == '/')) {
    rest.remove_prefix(strip.size());
  }
  out += add;
  if (rest.empty() || rest.front() != '/') out += '/';
  out += rest;
  if (!query.empty()) {
    out += '?';
    out += query;
  }
}

void filter_response_fields(http::Headers& headers, int version) {
  remove_hop_by_hop(headers);
  append_via(headers, version);
}

void append_via(http::Headers& headers, int version) {
  std::string entry;  // short enough for the small-string buffer: no allocation
  append_via_entry(entry, version);
  append_to_list(headers, "Via", entry);
}

bool is_upgrade_request(const http::RequestHead& head) {
  if (!head.headers.contains("upgrade")) return false;
  for (const http::Field& f : head.headers) {
    if (http::iequals(f.name, "connection") && http::list_contains(f.value, "upgrade")) return true;
  }
  return false;
}

}  // namespace rws::proxy
