#include <cstdio>

#include <rws/rws.hpp>

namespace rws {

int run(App& app, const server::ServerOptions& options) {
  try {
    app.freeze();
    server::Server server(options, app.service());
    server.listen();
    server.run();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
  return 0;
}

}  // namespace rws
