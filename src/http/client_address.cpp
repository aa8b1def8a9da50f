#include <algorithm>
#include <optional>

#include <rws/http/client_address.hpp>

#include "http/syntax.hpp"

namespace rws::http {
namespace {

// The node of a Forwarded `for=` value as a bare address: quotes, brackets and a port removed.
// nullopt for "unknown", obfuscated identifiers and anything else that is not an IP literal.
std::optional<std::string_view> forwarded_node(std::string_view value) {
  if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
    value = value.substr(1, value.size() - 2);
  if (!value.empty() && value.front() == '[') {
    const std::size_t close = value.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    value = value.substr(1, close - 1);
  } else if (std::count(value.begin(), value.end(), ':') == 1) {
    value = value.substr(0, value.find(':'));  // IPv4 with a port
  }
  if (!parse_ip(value)) return std::nullopt;
  return value;
}

// The `for=` node of one Forwarded element ("for=192.0.2.60;proto=http;by=203.0.113.43").
std::optional<std::string_view> forwarded_for(std::string_view element) {
  while (!element.empty()) {
    const std::size_t semi = element.find(';');
    std::string_view pair = syntax::trim_ows(element.substr(0, semi));
    element = semi == std::string_view::npos ? std::string_view{} : element.substr(semi + 1);
    const std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos) continue;
    if (iequals(syntax::trim_ows(pair.substr(0, eq)), "for"))
      return forwarded_node(syntax::trim_ows(pair.substr(eq + 1)));
  }
  return std::nullopt;
}

bool is_trusted(std::string_view address, const std::vector<Cidr>& trusted) {
  const auto ip = parse_ip(address);
  return ip && std::any_of(trusted.begin(), trusted.end(),
                           [&](const Cidr& block) { return block.contains(*ip); });
}

// The hops named by the fields, leftmost first; an element that is not an address is kept as
// nullopt (it ends the walk).
std::vector<std::optional<std::string_view>> listed_hops(const Headers& headers) {
  std::vector<std::optional<std::string_view>> hops;
  const bool use_xff = headers.contains("x-forwarded-for");
  for (const Field& field : headers) {
    if (!iequals(field.name, use_xff ? "x-forwarded-for" : "forwarded")) continue;
    std::string_view list = field.value;
    while (true) {
      const std::size_t comma = list.find(',');
      const std::string_view element = syntax::trim_ows(list.substr(0, comma));
      if (!element.empty()) {
        if (use_xff) {
          hops.push_back(parse_ip(element) ? std::optional(element) : std::nullopt);
        } else {
          hops.push_back(forwarded_for(element));
        }
      }
      if (comma == std::string_view::npos) break;
      list.remove_prefix(comma + 1);
    }
  }
  return hops;
}

}  // namespace

std::string client_address(std::string_view peer, const Headers& headers,
                           const std::vector<Cidr>& trusted) {
  if (trusted.empty() || !is_trusted(peer, trusted)) return std::string(peer);
  std::string_view client = peer;
  const auto hops = listed_hops(headers);
  for (auto hop = hops.rbegin(); hop != hops.rend(); ++hop) {
    if (!*hop) break;
    client = **hop;
    if (!is_trusted(client, trusted)) break;
  }
  return std::string(client);
}

}  // namespace rws::http
