// Static files and an API in one application: the files of PUBLIC_DIR at "/", JSON under /api.
// API routes win over files; everything else is the static file server (validators, ranges,
// listings off, index.html).
//
//   example_static_and_api [PORT] [PUBLIC_DIR]     (defaults: 8080, ./public)

#include <chrono>
#include <cstdlib>
#include <string>

#include <rws/rws.hpp>

int main(int argc, char** argv) {
  rws::App app;
  app.get("/api/time", [](rws::Context&) {
    auto now = std::chrono::system_clock::now().time_since_epoch();
    return rws::json(
        {{"unix_ms", std::chrono::duration_cast<std::chrono::milliseconds>(now).count()}});
  });
  app.post("/api/echo",
           [](rws::http::Request& req, rws::Context&) -> asio::awaitable<rws::http::Response> {
             rws::Json body = co_await rws::read_json(req);
             co_return rws::json({{"echo", body}});
           });

  rws::StaticOptions files;
  files.root = argc > 2 ? argv[2] : "public";
  files.directory_listing = false;
  app.static_files("/", files);

  rws::server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  return rws::run(app, options);
}
