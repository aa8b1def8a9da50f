#pragma once
// App: the application a library user builds — routes, middleware, state — and the Service the
// server runs.
//
//   rws::App app;
//   app.get("/hello/:name", [](rws::Context& ctx) {
//     return rws::text("hello " + std::string(ctx.param("name")) + "\n");
//   });
//   rws::server::Server server(options, app.service());
//
// Lifecycle: register routes, groups, hosts, middleware and state; the first request (or
// freeze()) builds every middleware chain once and makes the App read-only. Registering after
// that throws std::logic_error. A frozen App is safe to use from every worker thread.
//
// Routing: per host (exact, or "*.example.com"; others use the default routes), on the
// normalized, percent-decoded path. Literal segments beat ":param"/"{param}", which beat a
// trailing "*wildcard". HEAD runs the GET route when there is no HEAD route; OPTIONS without a
// route answers 204 with Allow; a path with routes for other methods answers 405 with Allow;
// anything else 404.

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <rws/app/handler.hpp>
#include <rws/app/state.hpp>
#include <rws/app/static_options.hpp>
#include <rws/app/websocket.hpp>
#include <rws/http/service.hpp>

namespace rws {

class App;
namespace detail {
struct AppCore;
struct AppCoreHolder {
  AppCoreHolder();
  ~AppCoreHolder();
  std::unique_ptr<AppCore> core;
};
}  // namespace detail

// A registered route, to add route-level middleware: app.get(...).use(require_login).
class RouteRef {
 public:
  RouteRef(detail::AppCore& core, std::size_t route) : core_(&core), route_(route) {}
  RouteRef& use(Middleware middleware);

 private:
  detail::AppCore* core_;
  std::size_t route_;
};

// Where routes are registered: the App itself, a group (a path prefix with its own
// middleware), or a host. Groups nest; a group's middleware wraps the routes of the group and
// of its subgroups, whenever they were registered.
class Routes {
 public:
  template <class F>
  RouteRef get(std::string_view pattern, F handler) {
    return route("GET", pattern, make_handler(std::move(handler)));
  }
  template <class F>
  RouteRef post(std::string_view pattern, F handler) {
    return route("POST", pattern, make_handler(std::move(handler)));
  }
  template <class F>
  RouteRef put(std::string_view pattern, F handler) {
    return route("PUT", pattern, make_handler(std::move(handler)));
  }
  template <class F>
  RouteRef patch(std::string_view pattern, F handler) {
    return route("PATCH", pattern, make_handler(std::move(handler)));
  }
  template <class F>
  RouteRef del(std::string_view pattern, F handler) {
    return route("DELETE", pattern, make_handler(std::move(handler)));
  }
  template <class F>
  RouteRef options(std::string_view pattern, F handler) {
    return route("OPTIONS", pattern, make_handler(std::move(handler)));
  }
  template <class F>
  RouteRef head(std::string_view pattern, F handler) {
    return route("HEAD", pattern, make_handler(std::move(handler)));
  }
  // Any method token. Throws std::invalid_argument for a bad pattern or a duplicate route.
  RouteRef route(std::string_view method, std::string_view pattern, Handler handler);
  // A WebSocket endpoint (a GET route answering the upgrade, see rws/app/websocket.hpp).
  RouteRef ws(std::string_view pattern, WebSocketHandler handler, WebSocketOptions options = {});

  // Middleware for every route of this group (for the App: every request, also 404/405).
  Routes& use(Middleware middleware);
  // A nested group under `prefix` ("/api/v1").
  Routes group(std::string_view prefix);
  // Serves the directory tree of `options.root` under `prefix` ("/" for everything not routed
  // otherwise): GET and HEAD of "prefix" and "prefix/*". Throws std::system_error when the root
  // cannot be opened.
  void static_files(std::string_view prefix, StaticOptions options);

 protected:
  friend class App;
  Routes(detail::AppCore& core, std::size_t router, std::size_t group)
      : core_(&core), router_(router), group_(group) {}

  detail::AppCore* core_;
  std::size_t router_;
  std::size_t group_;
};

class App : private detail::AppCoreHolder, public Routes, public http::Service {
 public:
  App();
  ~App() override;
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Routes used only when the request's host (without port, case-insensitive) is `host`, or
  // ends with ".example.com" for "*.example.com". Exact hosts win over wildcards, longer
  // wildcards over shorter; requests for other hosts use the App's own routes.
  Routes host(std::string_view host);

  // Shared state and services, looked up by type with ctx.state<T>().
  template <class T>
  T& state(T value) {
    return mutable_state().emplace<T>(std::move(value));
  }
  template <class T>
  T& provide(std::shared_ptr<T> service) {
    return mutable_state().put<T>(std::move(service));
  }

  // Builds the middleware chains; implicit on the first request.
  void freeze();

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

  // A non-owning shared_ptr for APIs that take one (e.g. server::Server); the App must outlive
  // its use.
  std::shared_ptr<http::Service> service() {
    return std::shared_ptr<http::Service>(std::shared_ptr<void>(), this);
  }

 private:
  TypeMap& mutable_state();
};

}  // namespace rws
