#include <algorithm>
#include <memory>

#include <rws/middleware/ip_filter.hpp>

namespace rws::middleware {

Middleware ip_filter(IpFilterOptions options) {
  auto lists = std::make_shared<const IpFilterOptions>(std::move(options));
  return [lists](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    std::optional<std::array<std::uint8_t, 16>> ip = http::parse_ip(context.client_address());
    auto in = [&](const std::vector<http::Cidr>& list) {
      return ip && std::any_of(list.begin(), list.end(),
                               [&](const http::Cidr& c) { return c.contains(*ip); });
    };
    const bool denied = !ip || in(lists->deny) || (!lists->allow.empty() && !in(lists->allow));
    if (denied) {
      co_return http::Response::text(403, "Forbidden: client address " +
                                              std::string(context.client_address()) +
                                              " is not allowed\n");
    }
    co_return co_await next(request, context);
  };
}

}  // namespace rws::middleware
