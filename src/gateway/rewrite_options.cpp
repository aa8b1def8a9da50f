#include "gateway/rewrite_options.hpp"

#include <stdexcept>

namespace rws::gateway {

middleware::RewriteOptions rewrite_options(const config::RewriteConfig& config) {
  namespace rule = middleware::rewrite_rule;
  using Type = config::RewriteRule::Type;
  middleware::RewriteOptions out;
  for (const config::RewriteRule& r : config.request) {
    switch (r.type) {
      case Type::kHeaderSet:
        out.request.emplace_back(rule::HeaderSet{r.name, r.value});
        break;
      case Type::kHeaderAdd:
        out.request.emplace_back(rule::HeaderAdd{r.name, r.value});
        break;
      case Type::kHeaderRemove:
        out.request.emplace_back(rule::HeaderRemove{r.name});
        break;
      case Type::kUriSet:
        out.request.emplace_back(rule::UriSet{r.value});
        break;
      case Type::kUriStripPrefix:
        out.request.emplace_back(rule::UriStripPrefix{r.prefix});
        break;
      case Type::kUriAddPrefix:
        out.request.emplace_back(rule::UriAddPrefix{r.prefix});
        break;
      case Type::kUriRegex:
        out.request.emplace_back(rule::UriRegex{r.pattern, r.replacement});
        break;
      default:
        throw std::invalid_argument("rewrite: a response rule among the request rules");
    }
  }
  for (const config::RewriteRule& r : config.response) {
    switch (r.type) {
      case Type::kHeaderSet:
        out.response.emplace_back(rule::HeaderSet{r.name, r.value});
        break;
      case Type::kHeaderAdd:
        out.response.emplace_back(rule::HeaderAdd{r.name, r.value});
        break;
      case Type::kHeaderRemove:
        out.response.emplace_back(rule::HeaderRemove{r.name});
        break;
      case Type::kStatusSet:
        out.response.emplace_back(rule::StatusSet{r.code, r.reason});
        break;
      case Type::kBodyReplace:
        out.response.emplace_back(rule::BodyReplace{r.from, r.to});
        break;
      default:
        throw std::invalid_argument("rewrite: a request rule among the response rules");
    }
  }
  return out;
}

}  // namespace rws::gateway
