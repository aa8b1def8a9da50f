#pragma once
// [route.match] compiled once per snapshot: every condition is checked against the request
// without building strings (the host and the normalized path are computed once per request).

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rws/http/message_head.hpp>

#include "config/gateway_config.hpp"

namespace rws::gateway {

class RouteMatch {
 public:
  explicit RouteMatch(const config::RouteMatch& match);

  // `host`: lower case, without port. `path`: normalized and percent-decoded.
  bool matches(const http::RequestHead& request, std::string_view host,
               std::string_view path) const;
  // For path-prefix routes ("/x/*"), the matched prefix ("/x"); "" otherwise.
  std::string_view path_prefix() const { return prefix_ ? std::string_view(path_) : ""; }

 private:
  std::optional<std::string> host_;  // exact, or ".example.com" for "*.example.com"
  bool host_wildcard_ = false;
  std::optional<std::string> path_exact_;
  std::string path_;  // prefix without the "/*"
  bool prefix_ = false;
  std::vector<std::string> methods_;
  std::optional<std::string> content_type_;
  bool content_type_prefix_ = false;
  std::vector<std::pair<std::string, std::string>> headers_;
};

// The host part of an authority, lower case ("API.example.com:8080" → "api.example.com").
std::string host_without_port(std::string_view authority);

}  // namespace rws::gateway
