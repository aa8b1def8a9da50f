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
// Connections to the auth service are kept alive: each worker keeps up to `max_idle` idle ones
// (closed after `idle_timeout` unused) and a check takes one of them before opening a new one. A
// pooled connection the service has closed meanwhile fails before any response byte; the check
// then goes out once more on a new connection (a bodiless GET is safe to resend). A response
// with `Connection: close` (or delimited by the close) is not reused. The exchange is
// asynchronous on the worker's executor.
//
// With `tls` (an https:// address), connections are TLS: the service's certificate must chain to
// the system's trust store (OpenSSL's default paths; SSL_CERT_FILE / SSL_CERT_DIR override them)
// and be valid for `server_name`, also sent as SNI when it is a DNS name. A failed handshake
// (an untrusted certificate included) is a 502. forward_auth() throws std::runtime_error when
// the TLS context cannot be set up.
//
// With `resolve_host` set, the service's addresses are resolved again in the background when a
// new connection is needed and `resolve_every` has passed since the last resolution
// (`endpoints` are the first ones); without, `endpoints` are fixed.

#include <chrono>
#include <cstddef>
#include <cstdint>
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
  std::string resolve_host;  // a DNS name to re-resolve (with `port`); empty for an IP literal
  std::uint16_t port = 80;
  bool tls = false;         // https
  std::string server_name;  // with tls: the name (or IP literal) the certificate is checked for
  std::chrono::milliseconds resolve_every{30000};
  unsigned max_idle = 16;  // idle connections kept per worker; 0: one connection per check
  std::chrono::seconds idle_timeout{30};
};

// Largest auth response body passed to the client; a longer one is a 502.
inline constexpr std::size_t kMaxAuthBody = 64 * 1024;

Middleware forward_auth(ForwardAuthOptions options);

}  // namespace rws::middleware
