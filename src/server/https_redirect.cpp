#include "server/https_redirect.hpp"

namespace rws::server {
namespace {

bool host_name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '.' || c == '_';
}

bool ipv6_literal_char(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

// The host part of "host[:port]", or empty when it is not a plain name or bracketed IP literal.
std::string_view host_of(std::string_view authority) {
  std::string_view host;
  std::string_view rest;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos || close < 2) return {};
    for (char c : authority.substr(1, close - 1)) {
      if (!ipv6_literal_char(c)) return {};
    }
    host = authority.substr(0, close + 1);
    rest = authority.substr(close + 1);
  } else {
    const std::size_t colon = authority.find(':');
    host = authority.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view{} : authority.substr(colon);
    if (host.empty()) return {};
    for (char c : host) {
      if (!host_name_char(c)) return {};
    }
  }
  if (!rest.empty()) {  // ":port"
    if (rest.front() != ':') return {};
    for (char c : rest.substr(1)) {
      if (c < '0' || c > '9') return {};
    }
  }
  return host;
}

}  // namespace

std::string https_location(std::string_view authority, std::string_view target,
                           std::uint16_t tls_port) {
  std::string_view host = host_of(authority);
  if (host.empty()) return {};
  std::string location = "https://";
  location += host;
  if (tls_port != 443) location += ":" + std::to_string(tls_port);
  location += target.empty() || target.front() != '/' ? std::string_view("/") : target;
  return location;
}

asio::awaitable<http::Response> HttpsRedirect::handle(http::Request request,
                                                      http::RequestContext&) {
  const http::RequestHead& head = request.head;
  // Absolute-form targets ("http://host/p?q") redirect to their origin form.
  std::string target = head.target;
  if (target.empty() || target.front() != '/') {
    target = head.path;
    if (!head.query.empty()) target += "?" + head.query;
  }
  std::string location = https_location(head.authority, target, tls_port_);
  if (location.empty()) {
    co_return http::Response::text(400, "Bad Request: a Host is needed to redirect to https\n");
  }
  http::Response response = http::Response::text(301, "Moved Permanently\n");
  response.head.headers.add("Location", location);
  co_return response;
}

}  // namespace rws::server
