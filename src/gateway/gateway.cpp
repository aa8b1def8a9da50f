#include "gateway/gateway.hpp"

#include <random>
#include <stdexcept>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/executor_work_guard.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/status.hpp>

#include "app/static/static_files.hpp"
#include "core/log.hpp"
#include "gateway/middleware_chain.hpp"
#include "gateway/route_match.hpp"
#include "h1/response_parser.hpp"
#include "h1/serializer.hpp"
#include "h2/client_session.hpp"
#include "h3/client_session.hpp"
#include "http/path.hpp"
#include "proxy/balancer.hpp"
#include "proxy/proxy_service.hpp"
#include "proxy/upstream_connection.hpp"

namespace rws::gateway {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kDnsRefresh{30};

struct RouteEntry {
  RouteEntry(const config::Route& r) : name(r.name), match(r.match), kind(r.kind) {}
  std::string name;
  RouteMatch match;
  config::Route::Kind kind;
  config::RespondAction respond;
  config::RedirectAction redirect;
  std::shared_ptr<app::StaticFiles> files;
  bool strip_prefix = true;
  std::shared_ptr<proxy::ProxyService> proxy;
  std::unique_ptr<Chain> chain;  // the route's middleware around its action; null: none
};

// App state for the Context that middleware sees: the gateway has none.
const TypeMap kNoState;

http::Response plain(int status, std::string_view message) {
  return http::Response::text(status, std::string(message) + "\n");
}

bool is_ip_literal(const std::string& host) {
  std::error_code ec;
  asio::ip::make_address(host, ec);
  return !ec;
}

std::vector<asio::ip::tcp::endpoint> resolve(asio::io_context& io, const proxy::Backend& b) {
  std::vector<asio::ip::tcp::endpoint> out;
  if (is_ip_literal(b.host())) {
    out.emplace_back(asio::ip::make_address(b.host()), b.port());
    return out;
  }
  asio::ip::tcp::resolver resolver(io);
  std::error_code ec;
  auto results = resolver.resolve(b.host(), std::to_string(b.port()), ec);
  if (ec) throw std::runtime_error("cannot resolve backend " + b.url() + ": " + ec.message());
  for (const auto& r : results)
    out.push_back(r.endpoint());
  return out;
}

// $scheme $host $path $query $request_uri in a redirect location.
std::string expand_location(std::string_view location, const http::RequestHead& request,
                            std::string_view scheme) {
  std::string out;
  std::string host = host_without_port(request.authority);
  while (!location.empty()) {
    std::size_t dollar = location.find('$');
    out.append(location.substr(0, dollar));
    if (dollar == std::string_view::npos) break;
    location.remove_prefix(dollar);
    auto take = [&](std::string_view name, std::string_view value) {
      if (location.substr(0, name.size()) != name) return false;
      out.append(value);
      location.remove_prefix(name.size());
      return true;
    };
    if (!(take("$request_uri", request.target) || take("$scheme", scheme) || take("$host", host) ||
          take("$path", request.path) || take("$query", request.query))) {
      out += '$';
      location.remove_prefix(1);
    }
  }
  return out;
}

// A health probe of an HTTP/2 or HTTP/3 backend: GET <path> on a session (h2:: or
// h3::ClientSession) of its own, closed after.
template <class Session>
asio::awaitable<bool> probe_on(Session& session, const proxy::Backend& backend,
                               const config::HealthCheck& hc) {
  static constexpr std::pair<std::string_view, std::string_view> kFields[] = {
      {"user-agent", "rws-health-check"}};
  http::OutgoingRequest request{.method = "GET",
                                .scheme = backend.tls() ? "https" : "http",
                                .authority = backend.authority(),
                                .path = hc.path,
                                .fields = kFields,
                                .body = nullptr,
                                .content_length = std::nullopt};
  const http::ExchangeLimits limits{.read_timeout = hc.timeout, .write_timeout = hc.timeout};
  Result<http::Response> response = co_await session.exchange(std::move(request), limits, nullptr);
  session.close();
  if (!response) co_return false;
  const int code = response->head.status;
  co_return code >= hc.expect_min&& code <= hc.expect_max;
}

// One health probe: GET <path> with Connection: close; true when the status is expected.
asio::awaitable<bool> probe_once(std::shared_ptr<proxy::Backend> backend,
                                 std::shared_ptr<const proxy::UpstreamGroup> group,
                                 const config::HealthCheck& hc) {
  auto endpoints = backend->endpoints();
  if (!endpoints || endpoints->empty()) co_return false;
  if (backend->http3()) {
    const h3::ClientTarget target{
        .remote = asio::ip::udp::endpoint(endpoints->front().address(), endpoints->front().port()),
        .credentials = group->quic_tls,
        .server_name = std::string(group->tls_server_name(*backend)),
        .handshake_timeout = hc.timeout,
        .idle_timeout = std::chrono::seconds(60),
        .name = backend->url()};
    Result<std::shared_ptr<h3::ClientSession>> session =
        co_await h3::ClientSession::connect(target);
    if (!session) co_return false;
    co_return co_await probe_on(**session, *backend, hc);
  }
  const bool tls = backend->tls() && group->tls;
  // Named, not a conditional temporary in the co_await expression (GCC 12 releases those twice).
  std::shared_ptr<const net::TlsClientContext> tls_context =
      tls ? group->tls : std::shared_ptr<const net::TlsClientContext>();
  const std::string_view server_name = tls ? group->tls_server_name(*backend) : std::string_view{};
  const net::TlsClientContext::Alpn alpn =
      backend->http2() ? net::TlsClientContext::Alpn::kH2 : net::TlsClientContext::Alpn::kHttp11;
  auto conn = co_await proxy::UpstreamConnection::connect(
      *endpoints, hc.timeout, backend->url(), std::move(tls_context), server_name, alpn);
  if (!conn) co_return false;
  if (backend->http2()) {
    std::shared_ptr<h2::ClientSession> session = co_await h2::ClientSession::start(
        (*conn)->release_transport(), std::chrono::seconds(60), backend->url());
    co_return co_await probe_on(*session, *backend, hc);
  }
  http::Headers fields;
  fields.add("User-Agent", "rws-health-check");
  std::string request;
  h1::append_request_head(request, "GET", hc.path, backend->authority(), fields, std::nullopt,
                          false, "close");
  std::array<asio::const_buffer, 1> piece{asio::buffer(request)};
  std::error_code ec = co_await (*conn)->write(piece, hc.timeout);
  if (ec) co_return false;
  h1::ResponseParser parser;
  for (;;) {
    auto status = parser.parse((*conn)->input(), "GET");
    if (status == h1::ResponseParser::Status::kComplete) break;
    if (status == h1::ResponseParser::Status::kError) co_return false;
    ec = co_await (*conn)->read_more(hc.timeout);
    if (ec) co_return false;
  }
  int code = parser.head().status;
  co_return code >= hc.expect_min&& code <= hc.expect_max;
}

// The probe within the check's timeout (the maintenance thread has no deadline sweeper).
asio::awaitable<bool> probe(std::shared_ptr<proxy::Backend> backend,
                            std::shared_ptr<const proxy::UpstreamGroup> group,
                            const config::HealthCheck& hc) {
  using namespace asio::experimental::awaitable_operators;
  asio::steady_timer timer(co_await asio::this_coro::executor, hc.timeout);
  auto result = co_await (probe_once(backend, group, hc) || timer.async_wait(kUseTuple));
  co_return result.index() == 0 && std::get<0>(result);
}

}  // namespace

struct Snapshot {
  std::vector<RouteEntry> routes;
  std::unique_ptr<Chain> no_route;  // the default middleware around the 404; null: none
  std::map<std::string, std::shared_ptr<proxy::UpstreamGroup>> upstreams;
  // [[ws_proxy]] by name; their upstreams ("ws_proxy:NAME") are in `upstreams` too.
  std::map<std::string, std::shared_ptr<proxy::ProxyService>, std::less<>> ws_proxies;
  std::uint64_t generation = 0;
};

namespace {
asio::awaitable<void> check_loop(std::shared_ptr<proxy::Backend> backend,
                                 std::shared_ptr<const proxy::UpstreamGroup> group,
                                 config::HealthCheck hc, std::uint64_t generation,
                                 const std::atomic<std::uint64_t>& current) {
  thread_local std::mt19937 rng{std::random_device{}()};
  asio::steady_timer timer(co_await asio::this_coro::executor);
  // Start at a random point of the first interval, so probes of many backends spread out.
  auto jitter = [&](std::chrono::milliseconds span) {
    return std::chrono::milliseconds(span.count() > 0 ? rng() % span.count() : 0);
  };
  timer.expires_after(
      jitter(std::chrono::duration_cast<std::chrono::milliseconds>(hc.interval) / 10));
  for (;;) {
    co_await timer.async_wait(kUseTuple);
    if (current.load() != generation) co_return;
    const bool ok = co_await probe(backend, group, hc);
    if (current.load() != generation) co_return;
    if (ok) {
      backend->check_failures = 0;
      unsigned successes = ++backend->check_successes;
      if (!backend->healthy && successes >= hc.healthy_threshold) {
        backend->healthy = true;
        log::server().info("upstream '{}': backend {} is healthy again", backend->upstream(),
                           backend->url());
      }
    } else {
      backend->check_successes = 0;
      unsigned failures = ++backend->check_failures;
      if (backend->healthy && failures >= hc.unhealthy_threshold) {
        backend->healthy = false;
        log::server().warn("upstream '{}': backend {} failed {} health checks; taken out",
                           backend->upstream(), backend->url(), failures);
      }
    }
    auto interval = std::chrono::duration_cast<std::chrono::milliseconds>(hc.interval);
    timer.expires_after(interval + jitter(interval / 10));
  }
}

// The route's action. `path` is the request's normalized, percent-decoded path.
// An answer already made, as the awaitable a Service returns.
asio::awaitable<http::Response> ready(http::Response response) {
  co_return response;
}

asio::awaitable<http::Response> serve_static([[maybe_unused]] std::shared_ptr<const void> pin,
                                             const RouteEntry& route, http::Request request,
                                             std::string path) {
  if (request.head.method != "GET" && request.head.method != "HEAD") {
    http::Response r = plain(405, "Method Not Allowed: static files accept GET and HEAD");
    r.head.headers.add("Allow", "GET, HEAD");
    co_return r;
  }
  std::string sub = path;
  std::string_view prefix = route.match.path_prefix();
  // A rewrite may have moved the path out of the route's prefix: then there is none to strip.
  const bool under_prefix = path.compare(0, prefix.size(), prefix) == 0 &&
                            (path.size() == prefix.size() || path[prefix.size()] == '/');
  if (route.strip_prefix && !prefix.empty() && under_prefix) {
    sub = path.substr(prefix.size());
    if (sub.empty()) {  // "/static" for "/static/*": the tree's root, with its slash
      http::Response r = plain(301, "Moved Permanently");
      std::string location = http::percent_encode_path(path) + "/";
      if (!request.head.query.empty()) location += "?" + request.head.query;
      r.head.headers.add("Location", location);
      co_return r;
    }
  }
  co_return co_await route.files->serve(request.head, std::move(sub));
}

// The route's action. Not a coroutine itself: it hands the request straight to the one that
// answers (no frame, no move of the request per layer). `pin` keeps the snapshot `route`
// belongs to alive until the answer is complete (null when the caller already does).
asio::awaitable<http::Response> run_action(std::shared_ptr<const void> pin, const RouteEntry& route,
                                           http::Request&& request,
                                           const http::RequestContext& context, std::string path) {
  switch (route.kind) {
    case config::Route::Kind::kRespond: {
      http::Response r = http::Response::text(route.respond.status, route.respond.body,
                                              route.respond.content_type);
      for (const auto& [name, value] : route.respond.headers)
        r.head.headers.add(name, value);
      return ready(std::move(r));
    }
    case config::Route::Kind::kRedirect: {
      http::Response r = http::Response::empty(route.redirect.status);
      r.head.headers.add("Location", expand_location(route.redirect.location, request.head,
                                                     context.secure ? "https" : "http"));
      return ready(std::move(r));
    }
    case config::Route::Kind::kStatic:
      return serve_static(std::move(pin), route, std::move(request), std::move(path));
    case config::Route::Kind::kProxy:
      return route.proxy->handle(std::move(request), context, std::move(pin));
  }
  return ready(plain(500, "Internal Server Error: route without an action"));
}

// A route's middleware chain around its action; `pin` keeps the snapshot alive.
asio::awaitable<http::Response> run_chain([[maybe_unused]] std::shared_ptr<const void> pin,
                                          const Chain& chain, http::Request request,
                                          http::RequestContext& context) {
  Context app_context(request, context, kNoState);
  Next next(chain, 0);
  co_return co_await next(request, app_context);
}

}  // namespace

Gateway::Gateway(const config::GatewayConfig& config)
    : keep_alive_(std::make_unique<asio::executor_work_guard<asio::io_context::executor_type>>(
          maintenance_.get_executor())) {
  std::shared_ptr<const Snapshot> first = build(config);
  publish(first);
  start_health_checks(*first);
  schedule_dns_refresh();
  maintenance_thread_ = std::thread([this] { maintenance_.run(); });
}

Gateway::~Gateway() {
  generation_.fetch_add(1);
  keep_alive_.reset();
  maintenance_.stop();
  if (maintenance_thread_.joinable()) maintenance_thread_.join();
}

void Gateway::reload(const config::GatewayConfig& config) {
  std::shared_ptr<const Snapshot> next = build(config);  // throws: the current one stays
  publish(next);
  asio::post(maintenance_, [this, next] { start_health_checks(*next); });
}

void Gateway::publish(std::shared_ptr<const Snapshot> next) {
  snapshot_.store(std::move(next));
  // A shard that takes a reference from here on gets `next`; the ones taken before are dropped,
  // so the previous snapshot lives on only in the requests that pinned it.
  shard_references_.for_each([](ShardReference& shard) {
    std::lock_guard lock(shard.mutex);
    shard.snapshot.reset();
  });
}

std::shared_ptr<const Snapshot> Gateway::current() const {
  ShardReference& shard = shard_references_.local();
  std::lock_guard lock(shard.mutex);
  if (!shard.snapshot) {
    // Aligned to a cache line, so that the control block shares its line with nothing else.
    struct alignas(core::kCacheLine) Holder {
      std::shared_ptr<const Snapshot> snapshot;
    };
    auto holder = std::make_shared<const Holder>(Holder{snapshot_.load()});
    shard.snapshot = std::shared_ptr<const Snapshot>(holder, holder->snapshot.get());
  }
  return shard.snapshot;
}

Gateway::UpstreamTlsState& Gateway::tls_state_for(const config::Upstream& upstream) {
  UpstreamTlsState& state = upstream_tls_[upstream.name];
  if (state.settings != upstream.tls) {
    state = UpstreamTlsState{.settings = upstream.tls, .tcp = nullptr, .quic = nullptr};
  }
  return state;
}

std::shared_ptr<const net::TlsClientContext> Gateway::tls_context_for(
    const config::Upstream& upstream) {
  UpstreamTlsState& state = tls_state_for(upstream);
  if (state.tcp) return state.tcp;
  net::TlsClientSettings settings;
  settings.verify = upstream.tls.verify;
  settings.ca_file = upstream.tls.ca_file;
  settings.client_cert = upstream.tls.client_cert;
  settings.client_key = upstream.tls.client_key;
  auto context = net::TlsClientContext::load(settings);
  if (!context) {
    throw std::runtime_error("[[upstream]] '" + upstream.name + "' tls: " + context.error());
  }
  state.tcp = *context;
  return state.tcp;
}

std::shared_ptr<const h3::ClientCredentials> Gateway::quic_credentials_for(
    const config::Upstream& upstream) {
  UpstreamTlsState& state = tls_state_for(upstream);
  if (state.quic) return state.quic;
  h3::ClientTlsSettings settings;
  settings.verify = upstream.tls.verify;
  settings.ca_file = upstream.tls.ca_file;
  settings.client_cert = upstream.tls.client_cert;
  settings.client_key = upstream.tls.client_key;
  auto credentials = h3::ClientCredentials::load(settings);
  if (!credentials) {
    throw std::runtime_error("[[upstream]] '" + upstream.name +
                             "' tls (for h3:// backends): " + credentials.error());
  }
  state.quic = *credentials;
  return state.quic;
}

std::shared_ptr<const Snapshot> Gateway::build(const config::GatewayConfig& config) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->generation = generation_.load() + 1;
  rate_limiters_.begin();
  caches_.begin();
  std::map<std::pair<std::string, std::string>, std::shared_ptr<proxy::Backend>> used;
  auto add_upstream = [&](const config::Upstream& u) {
    auto group = std::make_shared<proxy::UpstreamGroup>();
    group->config = u;
    for (const config::Backend& b : u.backends) {
      std::pair<std::string, std::string> key{u.name, b.url};
      std::shared_ptr<proxy::Backend> backend;
      {
        std::lock_guard lock(registry_mutex_);
        auto it = registry_.find(key);
        if (it != registry_.end()) backend = it->second;
      }
      if (backend) {
        backend->set_weight(b.weight);
      } else {
        backend = std::make_shared<proxy::Backend>(u.name, b);
        backend->set_endpoints(resolve(maintenance_, *backend));
      }
      used[key] = backend;
      group->backends.push_back(backend);
    }
    group->balancer = proxy::Balancer::make(u.strategy, group->backends);
    if (std::any_of(u.backends.begin(), u.backends.end(),
                    [](const config::Backend& b) { return b.tls; })) {
      group->use_tls(tls_context_for(u));
    }
    if (std::any_of(u.backends.begin(), u.backends.end(),
                    [](const config::Backend& b) { return b.http3; })) {
      group->quic_tls = quic_credentials_for(u);
    }
    snapshot->upstreams[u.name] = std::move(group);
  };
  for (const config::Upstream& u : config.upstreams)
    add_upstream(u);
  for (const config::WsProxy& w : config.ws_proxies) {
    if (snapshot->upstreams.contains(w.upstream.name)) {
      throw std::runtime_error("[[ws_proxy]] '" + w.name + "': an [[upstream]] is named '" +
                               w.upstream.name + "', the name of this ws_proxy's backends");
    }
    add_upstream(w.upstream);
    proxy::ProxyOptions options;
    options.upgrade_only = true;
    options.no_live_backend_status = 503;
    snapshot->ws_proxies[w.name] = std::make_shared<proxy::ProxyService>(
        snapshot->upstreams[w.upstream.name], std::move(options));
  }
  if (std::vector<Middleware> defaults =
          make_middleware(config.defaults, &rate_limiters_, "", &caches_);
      !defaults.empty()) {
    snapshot->no_route = std::make_unique<Chain>();
    snapshot->no_route->middleware = std::move(defaults);
    snapshot->no_route->handler = [](http::Request&, Context&) -> asio::awaitable<http::Response> {
      co_return plain(404, "Not Found: no route matches");
    };
  }
  snapshot->routes.reserve(config.routes.size());
  for (const config::Route& r : config.routes) {
    RouteEntry entry(r);
    switch (r.kind) {
      case config::Route::Kind::kRespond:
        entry.respond = r.respond;
        break;
      case config::Route::Kind::kRedirect:
        entry.redirect = r.redirect;
        break;
      case config::Route::Kind::kStatic: {
        StaticOptions options;
        options.root = r.static_files.root;
        options.index_files = r.static_files.index;
        options.directory_listing = r.static_files.directory_listing;
        options.spa_fallback = r.static_files.spa_fallback;
        entry.strip_prefix = r.static_files.strip_prefix;
        if (entry.strip_prefix) options.url_prefix = std::string(entry.match.path_prefix());
        try {
          entry.files = std::make_shared<app::StaticFiles>(std::move(options));
        } catch (const std::exception& e) {
          throw std::runtime_error("route '" + r.name + "': " + e.what());
        }
        break;
      }
      case config::Route::Kind::kProxy: {
        proxy::ProxyOptions options;
        options.strip_path_prefix = r.proxy.strip_path_prefix;
        options.add_path_prefix = r.proxy.add_path_prefix;
        options.preserve_host = r.proxy.preserve_host;
        options.connect_timeout = r.proxy.connect_timeout;
        options.read_timeout = r.proxy.read_timeout;
        options.upgrade_only = r.proxy.websocket_only;
        options.grpc = r.proxy.grpc;
        auto it = snapshot->upstreams.find(r.proxy.upstream);
        if (it == snapshot->upstreams.end()) {
          throw std::runtime_error("route '" + r.name + "': unknown upstream '" + r.proxy.upstream +
                                   "'");
        }
        entry.proxy = std::make_shared<proxy::ProxyService>(it->second, std::move(options));
        break;
      }
    }
    snapshot->routes.push_back(std::move(entry));
    std::vector<Middleware> middleware =
        make_middleware(r.middleware, &rate_limiters_, r.name, &caches_);
    if (!middleware.empty()) {
      // The routes vector was reserved: this entry stays where it is for the snapshot's life.
      const RouteEntry* action = &snapshot->routes.back();
      auto chain = std::make_unique<Chain>();
      chain->middleware = std::move(middleware);
      chain->handler = [action](http::Request& request,
                                Context& context) -> asio::awaitable<http::Response> {
        std::string path;  // again: middleware may have rewritten the target
        if (http::PathError e = http::normalize_path(request.head.path, path);
            e != http::PathError::kNone) {
          co_return plain(400, "Bad Request: " + std::string(http::describe(e)));
        }
        co_return co_await run_action(nullptr, *action, std::move(request), context.connection(),
                                      std::move(path));
      };
      snapshot->routes.back().chain = std::move(chain);
    }
  }
  {
    // Backends no longer configured drop out; the others keep their state.
    std::lock_guard lock(registry_mutex_);
    registry_ = std::move(used);
  }
  rate_limiters_.commit();
  caches_.commit();
  return snapshot;
}

void Gateway::for_each_backend(const std::function<void(const proxy::Backend&)>& visit) const {
  std::lock_guard lock(registry_mutex_);
  for (const auto& [key, backend] : registry_)
    visit(*backend);
}

void Gateway::start_health_checks(const Snapshot& snapshot) {
  generation_.store(snapshot.generation);
  for (const auto& [name, group] : snapshot.upstreams) {
    if (!group->config.health_check) continue;
    for (const auto& backend : group->backends) {
      asio::co_spawn(
          maintenance_,
          check_loop(backend, group, *group->config.health_check, snapshot.generation, generation_),
          asio::detached);
    }
  }
}

void Gateway::schedule_dns_refresh() {
  asio::co_spawn(
      maintenance_,
      [this]() -> asio::awaitable<void> {
        asio::steady_timer timer(maintenance_);
        asio::ip::tcp::resolver resolver(maintenance_);
        for (;;) {
          timer.expires_after(kDnsRefresh);
          auto [ec] = co_await timer.async_wait(kUseTuple);
          if (ec) co_return;
          std::vector<std::shared_ptr<proxy::Backend>> backends;
          {
            std::lock_guard lock(registry_mutex_);
            for (const auto& [key, b] : registry_) {
              if (!is_ip_literal(b->host())) backends.push_back(b);
            }
          }
          for (const auto& b : backends) {
            auto [rec, results] =
                co_await resolver.async_resolve(b->host(), std::to_string(b->port()), kUseTuple);
            if (rec) {
              log::server().warn("re-resolving backend {}: {} (keeping the old addresses)",
                                 b->url(), rec.message());
              continue;
            }
            std::vector<asio::ip::tcp::endpoint> endpoints;
            for (const auto& r : results)
              endpoints.push_back(r.endpoint());
            b->set_endpoints(std::move(endpoints));
          }
        }
      },
      asio::detached);
}

asio::awaitable<http::Response> Gateway::handle(http::Request request,
                                                http::RequestContext& context) {
  // Not a coroutine: the matched route's action (or chain) answers, holding the snapshot this
  // request started with until it is done.
  std::shared_ptr<const Snapshot> snapshot = current();
  std::string path;
  if (http::PathError e = http::normalize_path(request.head.path, path);
      e != http::PathError::kNone) {
    return ready(plain(400, "Bad Request: " + std::string(http::describe(e))));
  }
  const std::string host = host_without_port(request.head.authority);
  for (const RouteEntry& route : snapshot->routes) {
    if (!route.match.matches(request.head, host, path)) continue;
    if (context.notes != nullptr) context.notes->route = route.name;
    if (route.chain)
      return run_chain(std::move(snapshot), *route.chain, std::move(request), context);
    return run_action(std::move(snapshot), route, std::move(request), context, std::move(path));
  }
  if (snapshot->no_route) {
    const Chain& chain = *snapshot->no_route;
    return run_chain(std::move(snapshot), chain, std::move(request), context);
  }
  return ready(plain(404, "Not Found: no route matches"));
}

asio::awaitable<http::Response> Gateway::handle_ws_proxy(const std::string& name,
                                                         http::Request request,
                                                         http::RequestContext& context) {
  std::shared_ptr<const Snapshot> snapshot = current();
  if (context.notes != nullptr) context.notes->route = "ws_proxy:" + name;
  auto it = snapshot->ws_proxies.find(name);
  if (it == snapshot->ws_proxies.end()) {
    co_return plain(503, "Service Unavailable: ws_proxy '" + name + "' is no longer configured");
  }
  std::shared_ptr<proxy::ProxyService> service = it->second;
  co_return co_await service->handle(std::move(request), context, std::move(snapshot));
}

namespace {

class WsProxyListener final : public http::Service {
 public:
  WsProxyListener(std::shared_ptr<Gateway> gateway, std::string name)
      : gateway_(std::move(gateway)), name_(std::move(name)) {}

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override {
    return gateway_->handle_ws_proxy(name_, std::move(request), context);
  }

 private:
  std::shared_ptr<Gateway> gateway_;
  std::string name_;
};

}  // namespace

std::shared_ptr<http::Service> make_ws_proxy_service(std::shared_ptr<Gateway> gateway,
                                                     std::string name) {
  return std::make_shared<WsProxyListener>(std::move(gateway), std::move(name));
}

}  // namespace rws::gateway
