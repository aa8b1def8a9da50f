#include <algorithm>
#include <atomic>
#include <deque>
#include <mutex>
#include <stdexcept>
#include <system_error>

#include <asio/error.hpp>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>

#include "app/router.hpp"
#include "app/static/static_files.hpp"
#include "core/log.hpp"
#include "http/path.hpp"
#include "http/syntax.hpp"

namespace rws {
namespace {

// The answer for an exception that escaped `what` ("handler", "middleware"): a logged 500. A
// cancellation (a timeout middleware gave up on the chain) is rethrown instead: the cancelled
// chain unwinds with no answer and no error. Called from a catch block.
http::Response internal_error(const http::Request& request, const char* what,
                              const std::exception& e) {
  if (const auto* system = dynamic_cast<const std::system_error*>(&e);
      system != nullptr && system->code() == asio::error::operation_aborted) {
    throw;
  }
  log::http().error("{} for {} {} threw: {}", what, request.head.method, request.head.target,
                    e.what());
  return http::Response::text(500, "Internal Server Error\n");
}

}  // namespace

namespace detail {

struct AppCore {
  struct Group {
    std::string prefix;
    std::size_t parent;
    std::vector<Middleware> middleware;
  };
  struct Route {
    std::size_t group;
    std::vector<std::string> param_names;
    std::vector<Middleware> own;
    Handler handler;
    Chain chain;
  };
  struct Host {
    std::string name;  // lower case; "*.example.com" kept with the '*'
    std::size_t router;
    std::size_t group;  // the host's own root group
  };

  std::vector<app_detail::Router> routers;  // [0]: routes for every other host
  std::vector<Host> hosts;
  std::vector<Group> groups;  // [0]: the App itself (its middleware wraps every request)
  std::deque<Route> routes;   // stable addresses: contexts point at param_names
  TypeMap state;
  Chain global;
  std::once_flag freeze_once;
  std::atomic<bool> frozen{false};

  AppCore() {
    routers.emplace_back();
    groups.push_back(Group{"", 0, {}});
  }

  void check_open() const {
    if (frozen.load(std::memory_order_acquire)) {
      throw std::logic_error("the App is frozen: register routes before serving");
    }
  }

  void freeze();
  const app_detail::Router& router_for(std::string_view authority) const;
  asio::awaitable<http::Response> dispatch(http::Request& request, Context& context);
};

AppCoreHolder::AppCoreHolder() : core(std::make_unique<AppCore>()) {}
AppCoreHolder::~AppCoreHolder() = default;

namespace {

http::Response plain(int status, std::string_view message) {
  return http::Response::text(status, std::string(message) + "\n");
}

// "GET, HEAD, POST, ..." for the methods a path has (HEAD with GET, OPTIONS always).
std::string allow_header(const std::vector<std::string_view>& methods) {
  static constexpr std::string_view kOrder[] = {"GET",   "HEAD",   "POST",   "PUT",
                                                "PATCH", "DELETE", "OPTIONS"};
  std::vector<std::string_view> all(methods);
  if (std::find(all.begin(), all.end(), "GET") != all.end()) all.emplace_back("HEAD");
  all.emplace_back("OPTIONS");
  auto rank = [](std::string_view m) {
    auto it = std::find(std::begin(kOrder), std::end(kOrder), m);
    return static_cast<std::size_t>(it - std::begin(kOrder));
  };
  std::sort(all.begin(), all.end(), [&](std::string_view a, std::string_view b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  all.erase(std::unique(all.begin(), all.end()), all.end());
  std::string out;
  for (std::string_view m : all) {
    if (!out.empty()) out += ", ";
    out += m;
  }
  return out;
}

std::string host_of(std::string_view authority) {
  std::string_view host = authority;
  if (!host.empty() && host.front() == '[') {
    host = host.substr(0, host.find(']') + 1);
  } else if (std::size_t colon = host.rfind(':'); colon != std::string_view::npos) {
    host = host.substr(0, colon);
  }
  return http::to_lower(host);
}

}  // namespace

void AppCore::freeze() {
  for (Route& route : routes) {
    std::vector<std::size_t> chain_groups;
    for (std::size_t g = route.group; g != 0; g = groups[g].parent)
      chain_groups.push_back(g);
    route.chain.middleware.clear();
    for (auto it = chain_groups.rbegin(); it != chain_groups.rend(); ++it) {
      const auto& mw = groups[*it].middleware;
      route.chain.middleware.insert(route.chain.middleware.end(), mw.begin(), mw.end());
    }
    route.chain.middleware.insert(route.chain.middleware.end(), route.own.begin(), route.own.end());
    route.chain.handler = route.handler;
  }
  global.middleware = groups[0].middleware;
  global.handler = [this](http::Request& request, Context& context) {
    return dispatch(request, context);
  };
  // Longer wildcard hosts first, so "*.a.example.com" wins over "*.example.com".
  std::stable_sort(hosts.begin(), hosts.end(),
                   [](const Host& a, const Host& b) { return a.name.size() > b.name.size(); });
  frozen.store(true, std::memory_order_release);
}

const app_detail::Router& AppCore::router_for(std::string_view authority) const {
  if (hosts.empty()) return routers[0];
  std::string host = host_of(authority);
  for (const Host& h : hosts) {
    if (h.name.front() != '*' && h.name == host) return routers[h.router];
  }
  for (const Host& h : hosts) {
    if (h.name.front() != '*') continue;
    std::string_view suffix = std::string_view(h.name).substr(1);  // ".example.com"
    if (host.size() > suffix.size() &&
        host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0) {
      return routers[h.router];
    }
  }
  return routers[0];
}

asio::awaitable<http::Response> AppCore::dispatch(http::Request& request, Context& context) {
  std::string path;
  if (http::PathError e = http::normalize_path(request.head.path, path);
      e != http::PathError::kNone) {
    co_return plain(400, "Bad Request: " + std::string(http::describe(e)));
  }
  std::vector<std::string_view> segments = app_detail::split_path(path);
  app_detail::Router::Match match =
      router_for(request.head.authority).match(segments, request.head.method);
  switch (match.outcome) {
    case app_detail::Router::Outcome::kFound: {
      const Route& route = routes[match.route];
      context.set_params(&route.param_names, std::move(match.params));
      co_return co_await Next(route.chain, 0)(request, context);
    }
    case app_detail::Router::Outcome::kNoMethod: {
      http::Response r =
          request.head.method == "OPTIONS"
              ? http::Response::empty(204)
              : plain(405, "Method Not Allowed: " + request.head.method + " is not allowed here");
      r.head.headers.add("Allow", allow_header(match.methods));
      co_return r;
    }
    case app_detail::Router::Outcome::kNotFound:
      break;
  }
  co_return plain(404, "Not Found");
}

}  // namespace detail

asio::awaitable<http::Response> Next::operator()(http::Request& request, Context& context) const {
  if (index_ < chain_->middleware.size()) {
    const Next next(*chain_, index_ + 1);
    co_return co_await chain_->middleware[index_](request, context, next);
  }
  http::Response response;
  try {
    response = co_await chain_->handler(request, context);
  } catch (HttpError& e) {
    response = e.take_response();
  } catch (const std::exception& e) {
    response = internal_error(request, "handler", e);
  }
  co_return response;
}

RouteRef& RouteRef::use(Middleware middleware) {
  core_->check_open();
  core_->routes[route_].own.push_back(std::move(middleware));
  return *this;
}

RouteRef Routes::route(std::string_view method, std::string_view pattern, Handler handler) {
  core_->check_open();
  if (!http::syntax::is_token(method)) {
    throw std::invalid_argument("'" + std::string(method) + "' is not an HTTP method token");
  }
  std::string full = core_->groups[group_].prefix + std::string(pattern);
  if (full.empty()) full = "/";
  app_detail::Pattern parsed = app_detail::Pattern::parse(full);
  std::size_t index = core_->routes.size();
  core_->routers[router_].add(parsed, method, index);
  core_->routes.push_back(
      detail::AppCore::Route{group_, std::move(parsed.param_names), {}, std::move(handler), {}});
  return RouteRef(*core_, index);
}

RouteRef Routes::ws(std::string_view pattern, WebSocketHandler handler, WebSocketOptions options) {
  return get(pattern, [handler = std::move(handler), options = std::move(options)](Context& ctx) {
    return websocket(ctx, handler, options);
  });
}

Routes& Routes::use(Middleware middleware) {
  core_->check_open();
  core_->groups[group_].middleware.push_back(std::move(middleware));
  return *this;
}

Routes Routes::group(std::string_view prefix) {
  core_->check_open();
  if (!prefix.empty() && (prefix.front() != '/' || prefix.back() == '/')) {
    throw std::invalid_argument("group prefix '" + std::string(prefix) +
                                "' must start with '/' and not end with it");
  }
  std::string full = core_->groups[group_].prefix + std::string(prefix);
  core_->groups.push_back(detail::AppCore::Group{std::move(full), group_, {}});
  return Routes(*core_, router_, core_->groups.size() - 1);
}

void Routes::static_files(std::string_view prefix, StaticOptions options) {
  core_->check_open();
  std::string mount = core_->groups[group_].prefix + std::string(prefix);
  while (!mount.empty() && mount.back() == '/')
    mount.pop_back();
  options.url_prefix = mount;
  auto files = std::make_shared<app::StaticFiles>(std::move(options));
  route(
      "GET", std::string(prefix == "/" ? "" : prefix) + "/*path",
      [files, mount](http::Request& request, Context& context) -> asio::awaitable<http::Response> {
        std::string_view rest = context.param("path");
        const std::string& raw = request.head.path;
        if (rest.empty() && !mount.empty() && (raw.empty() || raw.back() != '/')) {
          std::string location = http::percent_encode_path(mount) + "/";
          if (!request.head.query.empty()) location += "?" + request.head.query;
          co_return redirect(location, 301);
        }
        std::string path = "/" + std::string(rest);
        co_return co_await files->serve(request.head, std::move(path));
      });
}

App::App() : Routes(*core, 0, 0) {}
App::~App() = default;

Routes App::host(std::string_view host) {
  core->check_open();
  std::string name = http::to_lower(host);
  if (name.empty() || (name.front() == '*' && (name.size() < 3 || name[1] != '.'))) {
    throw std::invalid_argument("host '" + std::string(host) + "' must be a name or '*.domain'");
  }
  for (const detail::AppCore::Host& h : core->hosts) {
    if (h.name == name) return Routes(*core, h.router, h.group);  // same host, same routes
  }
  core->routers.emplace_back();
  core->groups.push_back(detail::AppCore::Group{"", 0, {}});
  core->hosts.push_back(
      detail::AppCore::Host{name, core->routers.size() - 1, core->groups.size() - 1});
  return Routes(*core, core->routers.size() - 1, core->groups.size() - 1);
}

TypeMap& App::mutable_state() {
  core->check_open();
  return core->state;
}

void App::freeze() {
  std::call_once(core->freeze_once, [this] { core->freeze(); });
}

asio::awaitable<http::Response> App::handle(http::Request request,
                                            http::RequestContext& connection) {
  freeze();
  Context context(request, connection, core->state);
  http::Response response;
  try {
    response = co_await Next(core->global, 0)(request, context);
  } catch (HttpError& e) {
    response = e.take_response();
  } catch (const std::exception& e) {
    response = internal_error(request, "middleware", e);
  }
  co_return response;
}

}  // namespace rws
