#include "gateway/route_match.hpp"

#include <algorithm>

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws::gateway {

std::string host_without_port(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return http::to_lower(host);
}

RouteMatch::RouteMatch(const config::RouteMatch& m) : methods_(m.methods), headers_(m.headers) {
  if (m.host) {
    host_wildcard_ = m.host->size() > 2 && m.host->substr(0, 2) == "*.";
    host_ = host_wildcard_ ? m.host->substr(1) : *m.host;
  }
  if (m.path) {
    const std::string& p = *m.path;
    if (p.size() >= 2 && p.substr(p.size() - 2) == "/*") {
      prefix_ = true;
      path_ = p.substr(0, p.size() - 2);  // "/x" ("" for "/*")
    } else {
      path_exact_ = p;
    }
  }
  if (m.content_type) {
    content_type_prefix_ = !m.content_type->empty() && m.content_type->back() == '*';
    content_type_ = content_type_prefix_ ? m.content_type->substr(0, m.content_type->size() - 1)
                                         : *m.content_type;
  }
}

bool RouteMatch::matches(const http::RequestHead& request, std::string_view host,
                         std::string_view path) const {
  if (host_) {
    if (host_wildcard_) {
      if (host.size() <= host_->size() ||
          host.compare(host.size() - host_->size(), host_->size(), *host_) != 0) {
        return false;
      }
    } else if (host != *host_) {
      return false;
    }
  }
  if (path_exact_ && path != *path_exact_) return false;
  if (prefix_) {
    if (path.substr(0, path_.size()) != path_) return false;
    if (path.size() > path_.size() && path[path_.size()] != '/') return false;  // "/xy" ≠ "/x/*"
  }
  if (!methods_.empty() &&
      std::find(methods_.begin(), methods_.end(), request.method) == methods_.end()) {
    return false;
  }
  if (content_type_) {
    std::string type = http::to_lower(request.headers.get("content-type"));
    if (content_type_prefix_) {
      if (type.compare(0, content_type_->size(), *content_type_) != 0) return false;
    } else {
      std::string_view media =
          http::syntax::trim_ows(std::string_view(type).substr(0, type.find(';')));
      if (media != *content_type_) return false;
    }
  }
  for (const auto& [name, value] : headers_) {
    const std::string* actual = request.headers.find(name);
    if (actual == nullptr) return false;
    if (value != "*" && *actual != value) return false;
  }
  return true;
}

}  // namespace rws::gateway
