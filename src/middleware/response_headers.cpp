#include <memory>

#include <rws/middleware/response_headers.hpp>

namespace rws::middleware {

Middleware response_headers(ResponseHeaderOptions options) {
  auto edits = std::make_shared<const ResponseHeaderOptions>(std::move(options));
  return [edits](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    http::Response response = co_await next(request, context);
    http::Headers& headers = response.head.headers;
    for (const std::string& name : edits->remove)
      headers.remove(name);
    for (const auto& [name, value] : edits->set)
      headers.set(name, value);
    for (const auto& [name, value] : edits->add)
      headers.add(name, value);
    co_return response;
  };
}

}  // namespace rws::middleware
