#include <algorithm>

#include <rws/app/context.hpp>

namespace rws {

std::string_view Context::param(std::string_view name) const {
  if (param_names_ != nullptr) {
    auto it = std::find(param_names_->begin(), param_names_->end(), name);
    if (it != param_names_->end()) {
      return param_values_[static_cast<std::size_t>(it - param_names_->begin())];
    }
  }
  throw std::out_of_range("the route has no parameter '" + std::string(name) + "'");
}

const QueryMap& Context::query() {
  if (!query_) {
    std::optional<QueryMap> parsed = parse_urlencoded(request_.head.query);
    if (!parsed) throw HttpError(400, "malformed percent-encoding in the query string");
    query_ = std::move(*parsed);
  }
  return *query_;
}

std::optional<std::string_view> Context::cookie(std::string_view name) const {
  for (const http::Field& f : request_.head.headers) {
    if (!http::iequals(f.name, "cookie")) continue;
    for (const auto& [k, v] : parse_cookie_header(f.value)) {
      if (k == name) return v;
    }
  }
  return std::nullopt;
}

}  // namespace rws
