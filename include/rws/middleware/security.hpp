#pragma once
// Security response headers and the maintenance switch.
//
// security_headers adds each configured field to every response that does not already carry it
// (a handler's own value wins); an empty value means "do not send". Strict-Transport-Security
// is only sent on responses over TLS (RFC 6797 §7.2: never over plain HTTP).
//
// maintenance answers every request with 503, Retry-After and a short text body, without
// running the rest of the chain. The built-in /healthz and /readyz endpoints answer before any
// middleware, so load balancers keep seeing the instance.

#include <chrono>
#include <string>

#include <rws/app/handler.hpp>

namespace rws::middleware {

struct SecurityHeaderOptions {
  std::string content_type_options = "nosniff";
  std::string frame_options = "DENY";
  std::string referrer_policy = "strict-origin-when-cross-origin";
  std::string content_security_policy;  // none by default: it depends on the site
  std::string strict_transport_security = "max-age=31536000";
};

Middleware security_headers(SecurityHeaderOptions options);

struct MaintenanceOptions {
  std::chrono::seconds retry_after{0};  // 0: no Retry-After field
  std::string message = "Service temporarily unavailable for maintenance.";
};

Middleware maintenance(MaintenanceOptions options);

}  // namespace rws::middleware
