#pragma once
// ProxyService: forwards requests to an upstream's backends over HTTP/1.1 and streams the answer
// back. The phases of one request:
//   select_backend   balancer pick among available backends (health, ejection, circuit)
//   connect          a pooled idle connection, else a new one (connect timeout)
//   send_request     head rewritten by the forwarding policy, then the body streamed as the
//                    backend reads it (Expect: 100-continue relayed)
//   read_response    1xx forwarded, 101 turns the connection into a tunnel, the final head
//                    filtered; the body is pulled from the backend as the client takes it
//   on_error         retry on another backend when it is safe (nothing reached the backend, or
//                    a stale pooled connection, or an idempotent request without a body), else
//                    502 (504 for timeouts)
//   on_complete      the connection goes back to the pool when the exchange ended cleanly
// Runs on the client connection's worker thread; backend state is shared (see Backend).

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include <rws/http/service.hpp>

#include "config/gateway_config.hpp"
#include "h3/client_credentials.hpp"
#include "net/tls_client_context.hpp"
#include "proxy/backend.hpp"
#include "proxy/balancer.hpp"

namespace rws::proxy {

class UpstreamConnection;

// An upstream as one snapshot sees it.
struct UpstreamGroup {
  config::Upstream config;
  std::vector<std::shared_ptr<Backend>> backends;
  std::unique_ptr<Balancer> balancer;
  // For the https:// / wss:// / h2s:// / grpcs:// backends ([upstream.tls]); null when there
  // are none.
  std::shared_ptr<const net::TlsClientContext> tls;
  // The same [upstream.tls] for the h3:// backends: QUIC's TLS runs on GnuTLS here, so it is
  // loaded a second time; null when there are none.
  std::shared_ptr<const h3::ClientCredentials> quic_tls;
  // The pool key of each TLS backend's connections, made once per snapshot by use_tls(): its
  // URL and the TLS context (connections made under other TLS settings are never reused).
  std::unordered_map<const Backend*, std::string> tls_pool_keys;

  // Sets `tls` for the TLS backends among `backends` (call after they are all added).
  void use_tls(std::shared_ptr<const net::TlsClientContext> context) {
    tls = std::move(context);
    for (const auto& b : backends) {
      if (b->tls()) tls_pool_keys[b.get()] = b->url() + " tls#" + std::to_string(tls->id());
    }
  }
  // The name sent as SNI and verified in the backend's certificate.
  std::string_view tls_server_name(const Backend& backend) const {
    return config.tls.sni.empty() ? std::string_view(backend.host()) : config.tls.sni;
  }

  const config::CircuitBreaker* breaker() const {
    return config.circuit_breaker ? &*config.circuit_breaker : nullptr;
  }
};

struct ProxyOptions {
  std::string strip_path_prefix;
  std::string add_path_prefix;
  bool preserve_host = false;
  std::optional<std::chrono::milliseconds> connect_timeout;
  std::optional<std::chrono::milliseconds> read_timeout;
  bool upgrade_only = false;  // websocket routes: other requests get 426
  // The status when no backend is live (circuit open, ejected, unhealthy): 502 for routes, 503
  // for [[ws_proxy]] listeners (CONFIG.md).
  int no_live_backend_status = 502;
  // grpc routes: failures are answered with a gRPC status (UNAVAILABLE when no backend could
  // answer, DEADLINE_EXCEEDED after grpc-timeout) instead of an HTTP error status.
  bool grpc = false;
};

// Forwards requests to one upstream group (the proxy action of a route).
class ProxyService {
 public:
  ProxyService(std::shared_ptr<UpstreamGroup> upstream, ProxyOptions options);

  // The backend's response (its body streaming from the backend as the client reads), or a
  // 502/504 (backend side) or 400/408/413 (client side) answer naming the problem. `pin` is
  // kept until the answer is complete (e.g. the gateway snapshot this service belongs to).
  asio::awaitable<http::Response> handle(http::Request request, const http::RequestContext& context,
                                         std::shared_ptr<const void> pin = nullptr);

 private:
  struct Attempt;
  // Streams the client's body to the backend. True when all of it went out, false when the
  // backend stopped reading; an error when the client's body failed.
  asio::awaitable<Result<bool>> send_body(UpstreamConnection& conn, http::Body& body, bool chunked,
                                          const std::string& backend);
  // `backend` and `request` are the caller's and outlive the call. Not a coroutine: it picks
  // the protocol's, so that each coroutine frame holds only its own protocol's state (the
  // HTTP/1.1 one must stay under the 1020 bytes Asio's per-thread cache recycles).
  asio::awaitable<Result<http::Response>> forward(Backend& backend, http::Request& request,
                                                  const http::RequestContext& context,
                                                  Attempt& attempt);
  asio::awaitable<Result<http::Response>> forward_over_h1(Backend& backend, http::Request& request,
                                                          const http::RequestContext& context,
                                                          Attempt& attempt);
  // HTTP/2 and HTTP/3 backends (h2_forward, h3_forward).
  asio::awaitable<Result<http::Response>> forward_multiplexed(Backend& backend,
                                                              http::Request& request,
                                                              const http::RequestContext& context,
                                                              Attempt& attempt);
  // A new connection to `backend` (TLS when `tls`). Not a coroutine: the TLS context is picked
  // here, outside any co_await expression (GCC 12 releases a conditionally built shared_ptr
  // temporary in one twice), and forward_over_h1's frame stays small.
  asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> connect(
      Backend& backend, const std::vector<asio::ip::tcp::endpoint>& endpoints,
      const std::string& pool_key, bool tls) const;
  // The answer to a request that no backend answered, from the last error (null: no backend
  // was live).
  http::Response failure_response(const Error* last_error, const Attempt& attempt) const;

  std::shared_ptr<UpstreamGroup> upstream_;
  ProxyOptions options_;
};

}  // namespace rws::proxy
