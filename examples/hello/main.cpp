// Hello world: the smallest rws application.
//
//   example_hello [PORT]        (default 8080; 0 picks a free port, printed on stderr)
//   curl http://127.0.0.1:8080/hello/ada

#include <cstdlib>
#include <string>

#include <rws/rws.hpp>

int main(int argc, char** argv) {
  rws::App app;
  app.get("/", [](rws::Context&) { return rws::text("Hello, world!\n"); });
  app.get("/hello/:name", [](rws::Context& ctx) {
    return rws::text("Hello, " + std::string(ctx.param("name")) + "!\n");
  });

  rws::server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  return rws::run(app, options);
}
