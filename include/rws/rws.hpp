#pragma once
// Everything a library user needs: the App (routing, middleware, state), the request helpers,
// responses (text, JSON, files, streams, SSE, cookies), the in-process TestClient and the server.
//
//   #include <rws/rws.hpp>
//   int main() {
//     rws::App app;
//     app.get("/", [](rws::Context&) { return rws::text("hello\n"); });
//     rws::server::ServerOptions options;
//     options.port = 8080;
//     return rws::run(app, options);
//   }

#include <rws/app/app.hpp>
#include <rws/app/context.hpp>
#include <rws/app/cookie.hpp>
#include <rws/app/error.hpp>
#include <rws/app/extract.hpp>
#include <rws/app/form.hpp>
#include <rws/app/handler.hpp>
#include <rws/app/json.hpp>
#include <rws/app/response.hpp>
#include <rws/app/sse.hpp>
#include <rws/app/test_client.hpp>
#include <rws/app/validate.hpp>
#include <rws/app/websocket.hpp>
#include <rws/middleware/compress.hpp>
#include <rws/middleware/cors.hpp>
#include <rws/middleware/ip_filter.hpp>
#include <rws/middleware/limits.hpp>
#include <rws/middleware/request_id.hpp>
#include <rws/middleware/response_headers.hpp>
#include <rws/middleware/security.hpp>
#include <rws/server/options.hpp>
#include <rws/server/server.hpp>

namespace rws {

// Listens (printing "listening on http://HOST:PORT" to stderr) and serves `app` until
// SIGTERM/SIGINT; returns the process exit status (1 when the port cannot be bound).
int run(App& app, const server::ServerOptions& options);

}  // namespace rws
