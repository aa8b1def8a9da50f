#include "gateway/middleware_chain.hpp"

#include <stdexcept>

#include <rws/middleware/cors.hpp>
#include <rws/middleware/ip_filter.hpp>
#include <rws/middleware/limits.hpp>
#include <rws/middleware/request_id.hpp>
#include <rws/middleware/response_headers.hpp>
#include <rws/middleware/rewrite.hpp>

#include "gateway/rewrite_options.hpp"

namespace rws::gateway {
namespace {

std::vector<http::Cidr> cidrs(const std::vector<std::string>& texts) {
  std::vector<http::Cidr> out;
  for (const std::string& text : texts) {
    std::optional<http::Cidr> cidr = http::Cidr::parse(text);
    if (!cidr) throw std::invalid_argument("invalid CIDR '" + text + "'");  // validated before
    out.push_back(*cidr);
  }
  return out;
}

}  // namespace

std::vector<Middleware> make_middleware(const config::MiddlewareConfig& config) {
  std::vector<Middleware> chain;
  if (config.request_id_header) {
    chain.push_back(middleware::request_id({*config.request_id_header}));
  }
  if (config.headers) {
    chain.push_back(middleware::response_headers(
        {config.headers->set, config.headers->add, config.headers->remove}));
  }
  if (config.ip_filter) {
    chain.push_back(
        middleware::ip_filter({cidrs(config.ip_filter->allow), cidrs(config.ip_filter->deny)}));
  }
  if (config.cors) {
    const config::CorsConfig& c = *config.cors;
    chain.push_back(
        middleware::cors({c.allow_all, c.allow_origins, c.allow_methods, c.allow_headers,
                          c.allow_credentials, c.expose_headers, c.max_age}));
  }
  if (config.max_body_size && *config.max_body_size > 0) {
    chain.push_back(middleware::max_body_size(*config.max_body_size));
  }
  if (config.timeout) chain.push_back(middleware::timeout(*config.timeout));
  if (config.rewrite && !(config.rewrite->request.empty() && config.rewrite->response.empty())) {
    chain.push_back(middleware::rewrite(rewrite_options(*config.rewrite)));  // validated at load
  }
  return chain;
}

}  // namespace rws::gateway
