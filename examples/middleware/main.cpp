// Middleware: a timing header on every response, a bearer-token check on /admin, and a
// route-level middleware.
//
//   example_middleware [PORT]       token: $EXAMPLE_TOKEN (default "secret")
//   curl -i http://127.0.0.1:8080/                       → 200, X-Response-Time
//   curl -i http://127.0.0.1:8080/admin/stats            → 401
//   curl -i -H 'Authorization: Bearer secret' http://127.0.0.1:8080/admin/stats → 200

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <string>

#include <rws/rws.hpp>

namespace {

// Outermost: measures the whole exchange, including 404s and 401s.
asio::awaitable<rws::http::Response> timing(rws::http::Request& req, rws::Context& ctx,
                                            rws::Next next) {
  auto start = std::chrono::steady_clock::now();
  rws::http::Response response = co_await next(req, ctx);
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  response.head.headers.set("X-Response-Time", std::to_string(us) + "us");
  co_return response;
}

struct Admin {
  std::string token;
};

rws::Middleware require_token(std::string token) {
  return [token = std::move(token)](rws::http::Request& req, rws::Context& ctx,
                                    rws::Next next) -> asio::awaitable<rws::http::Response> {
    if (ctx.header("authorization") != "Bearer " + token) {
      rws::http::Response denied = rws::text("unauthorized\n", 401);
      denied.head.headers.add("WWW-Authenticate", "Bearer");
      co_return denied;  // short-circuit: the handler never runs
    }
    ctx.set(Admin{token});
    co_return co_await next(req, ctx);
  };
}

}  // namespace

int main(int argc, char** argv) {
  const char* env_token = std::getenv("EXAMPLE_TOKEN");
  auto requests = std::make_shared<std::atomic<int>>(0);

  rws::App app;
  app.use(timing);
  app.use([requests](rws::http::Request& req, rws::Context& ctx,
                     rws::Next next) -> asio::awaitable<rws::http::Response> {
    requests->fetch_add(1);
    co_return co_await next(req, ctx);
  });
  app.get("/", [](rws::Context&) { return rws::text("public\n"); });

  rws::Routes admin = app.group("/admin");
  admin.use(require_token(env_token ? env_token : "secret"));
  admin.get("/stats", [requests](rws::Context& ctx) {
    return rws::json({{"requests", requests->load()}, {"admin", ctx.get<Admin>() != nullptr}});
  });
  admin.get("/report", [](rws::Context&) { return rws::text("report\n"); })
      .use([](rws::http::Request& req, rws::Context& ctx,
              rws::Next next) -> asio::awaitable<rws::http::Response> {
        rws::http::Response r = co_await next(req, ctx);
        r.head.headers.set("Cache-Control", "no-store");
        co_return r;
      });

  rws::server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  return rws::run(app, options);
}
