#pragma once
// Handlers and middleware.
//
//   Handler:    (Request&, Context&) → asio::awaitable<Response>
//   Middleware: (Request&, Context&, Next) → asio::awaitable<Response>
//
// Middleware runs in onion order: code before `co_await next(req, ctx)` sees the request on the
// way in (and may answer without calling next), code after it sees the response on the way out.
// make_handler also accepts plain functions returning a Response, and callables taking only
// (Context&).

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>

#include <rws/app/context.hpp>
#include <rws/http/request.hpp>
#include <rws/http/response.hpp>

namespace rws {

using Handler = std::function<asio::awaitable<http::Response>(http::Request&, Context&)>;

class Next;
using Middleware = std::function<asio::awaitable<http::Response>(http::Request&, Context&, Next)>;

// A middleware chain ending in a handler; built once (when the App is frozen), not per request.
struct Chain {
  std::vector<Middleware> middleware;
  Handler handler;
};

// The rest of the chain after the running middleware. Copyable and cheap; valid while the
// chain (owned by the App) lives. Exceptions thrown by the final handler come back as the
// responses they stand for (HttpError → its status, anything else → a logged 500), so every
// middleware sees a response.
class Next {
 public:
  Next(const Chain& chain, std::size_t index) : chain_(&chain), index_(index) {}
  asio::awaitable<http::Response> operator()(http::Request& request, Context& context) const;

 private:
  const Chain* chain_;
  std::size_t index_;
};

namespace detail {
template <class R>
constexpr bool is_awaitable_response = std::is_same_v<R, asio::awaitable<http::Response>>;
}  // namespace detail

template <class F>
Handler make_handler(F f) {
  if constexpr (std::is_invocable_v<F&, http::Request&, Context&>) {
    using R = std::invoke_result_t<F&, http::Request&, Context&>;
    if constexpr (detail::is_awaitable_response<R>) {
      return Handler(std::move(f));
    } else {
      static_assert(std::is_convertible_v<R, http::Response>,
                    "a handler must return asio::awaitable<rws::http::Response> or a Response");
      return [f = std::move(f)](http::Request& r,
                                Context& c) mutable -> asio::awaitable<http::Response> {
        co_return f(r, c);
      };
    }
  } else {
    static_assert(std::is_invocable_v<F&, Context&>,
                  "a handler takes (rws::http::Request&, rws::Context&) or (rws::Context&)");
    using R = std::invoke_result_t<F&, Context&>;
    if constexpr (detail::is_awaitable_response<R>) {
      return [f = std::move(f)](http::Request&, Context& c) mutable { return f(c); };
    } else {
      return [f = std::move(f)](http::Request&,
                                Context& c) mutable -> asio::awaitable<http::Response> {
        co_return f(c);
      };
    }
  }
}

}  // namespace rws
