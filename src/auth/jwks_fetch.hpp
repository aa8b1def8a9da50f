#pragma once
// A minimal blocking HTTP/1.1 GET for JWKS documents at setup time (config load or reload,
// never on a worker's event loop).

#include <chrono>
#include <string>

namespace rws::auth {

// The body of a 200 response to GET `url` (http:// or https://, default ports 80 and 443;
// Content-Length, chunked or close-delimited bodies up to 1 MiB). https:// verifies the server's
// certificate as TlsSocket does (system trust store, the URL's host). Anything else throws
// std::runtime_error naming the URL and the problem (for TLS, e.g. the verification failure).
std::string http_get(const std::string& url, std::chrono::milliseconds timeout);

}  // namespace rws::auth
