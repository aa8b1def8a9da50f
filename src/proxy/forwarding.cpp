#include "proxy/forwarding.hpp"

#include <vector>

#include "http/syntax.hpp"

namespace rws::proxy {
namespace syntax = http::syntax;

void remove_hop_by_hop(http::Headers& headers, bool keep_upgrade) {
  // Fields named by Connection are hop-by-hop too (RFC 9110 §7.6.1).
  std::vector<std::string> named;
  std::string connection = headers.joined("connection");
  std::string_view rest = connection;
  while (!rest.empty()) {
    std::size_t comma = rest.find(',');
    std::string_view token = syntax::trim_ows(rest.substr(0, comma));
    if (!token.empty() && !(keep_upgrade && http::iequals(token, "upgrade"))) {
      named.emplace_back(token);
    }
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
  }
  for (const std::string& name : named)
    headers.remove(name);
  for (std::string_view name : {"connection", "keep-alive", "proxy-connection", "te",
                                "transfer-encoding", "content-length"}) {
    headers.remove(name);
  }
  if (!keep_upgrade) headers.remove("upgrade");
}

void add_forwarding_fields(http::Headers& headers, const ForwardedFor& client) {
  std::string xff = headers.joined("x-forwarded-for");
  headers.set("X-Forwarded-For", xff.empty() ? std::string(client.client_ip)
                                             : xff + ", " + std::string(client.client_ip));
  headers.set("X-Forwarded-Proto", client.proto);
  if (!client.host.empty()) headers.set("X-Forwarded-Host", client.host);

  std::string element = "for=";
  if (client.client_ip.find(':') != std::string_view::npos) {
    element += "\"[" + std::string(client.client_ip) + "]\"";
  } else {
    element += client.client_ip;
  }
  element += ";proto=";
  element += client.proto;
  if (!client.host.empty()) {
    bool token = syntax::is_token(client.host);
    element += ";host=";
    element += token ? std::string(client.host) : "\"" + std::string(client.host) + "\"";
  }
  std::string forwarded = headers.joined("forwarded");
  headers.set("Forwarded", forwarded.empty() ? element : forwarded + ", " + element);

  append_via(headers, client.version);
}

std::string rewrite_target(std::string_view path, std::string_view query, std::string_view strip,
                           std::string_view add) {
  std::string_view rest = path;
  if (!strip.empty() && rest.substr(0, strip.size()) == strip &&
      (rest.size() == strip.size() || rest[strip.size()] == '/')) {
    rest.remove_prefix(strip.size());
  }
  std::string target(add);
  if (rest.empty() || rest.front() != '/') target += '/';
  target += rest;
  if (!query.empty()) {
    target += '?';
    target += query;
  }
  return target;
}

void filter_response_fields(http::Headers& headers, int version) {
  remove_hop_by_hop(headers);
  append_via(headers, version);
}

void append_via(http::Headers& headers, int version) {
  // HTTP/1.x keeps its minor version; HTTP/2 and HTTP/3 have none.
  std::string entry = version >= 20
                          ? std::to_string(version / 10)
                          : std::to_string(version / 10) + "." + std::to_string(version % 10);
  entry += " rws";
  std::string via = headers.joined("via");
  headers.set("Via", via.empty() ? entry : via + ", " + entry);
}

bool is_upgrade_request(const http::RequestHead& head) {
  return http::list_contains(head.headers.joined("connection"), "upgrade") &&
         head.headers.contains("upgrade");
}

}  // namespace rws::proxy
