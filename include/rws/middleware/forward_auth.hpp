#pragma once
// Forward authentication (like Traefik's ForwardAuth / nginx auth_request): before the rest of
// the chain runs, a GET with the client's request fields (minus hop-by-hop and framing ones) and
// X-Forwarded-Method/-Proto/-Host/-Uri/-For goes to an auth service.
//
//   2xx                  → the request continues, with the auth response's `copy_headers`
//                          fields set on it; client-sent fields of those names are always removed
//                          (even when the auth response lacks them), so they cannot be spoofed.
//   any other status     → returned to the client as is (status, fields minus hop-by-hop, body up
//                          to kMaxAuthBody); the request goes no further.
//   unreachable          → 502;  malformed or oversized response → 502;
//   nothing within `timeout` (connect to the end of the body) → 504.
//
// Every auth request uses a new connection (Connection: close); there is no keep-alive pool.
// The exchange is asynchronous on the worker's executor.

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

#include <asio/ip/tcp.hpp>

#include <rws/app/handler.hpp>

namespace rws::middleware {

struct ForwardAuthOptions {
  std::vector<asio::ip::tcp::endpoint> endpoints;  // the auth service, tried in order
  std::string host;                                // Host field sent ("name[:port]")
  std::string target;                              // request-target sent ("/auth", "/a?x=1")
  std::vector<std::string> copy_headers;           // field names copied on 2xx
  std::chrono::milliseconds timeout{5000};
};

// Largest auth response body passed to the client; a longer one is a 502.
inline constexpr std::size_t kMaxAuthBody = 64 * 1024;

Middleware forward_auth(ForwardAuthOptions options);

}  // namespace rws::middleware
