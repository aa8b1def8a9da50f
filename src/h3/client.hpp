#pragma once
// An HTTP/3 client (RFC 9114) on ngtcp2 + nghttp3 + GnuTLS: one request on a QUIC connection of
// its own, for rws-client. ALPN "h3"; the server's certificate is verified against the system's
// trust store or a CA file (unless verification is turned off), for `server_name` (also sent
// as SNI when it is a host name).

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>

#include <rws/core/error.hpp>
#include <rws/http/headers.hpp>

namespace rws::h3 {

struct ClientTls {
  std::string server_name;  // host name or IP literal the certificate must be valid for
  std::string ca_file;      // empty: the system's trust store
  bool verify = true;
};

struct ClientRequest {
  std::string method = "GET";
  std::string authority;
  std::string path = "/";
  std::vector<std::pair<std::string, std::string>> fields;  // lower-case names
  std::optional<std::string> body;
};

struct ClientResponse {
  int status = 0;
  http::Headers headers;
  http::Headers trailers;
};

// Connects to `remote`, sends `request`, streams the response body into `sink` and closes the
// connection. Fails (upstream side) when the handshake, the certificate or the exchange fails,
// or when `timeout` passes first.
asio::awaitable<Result<ClientResponse>> fetch(const asio::ip::udp::endpoint& remote,
                                              const ClientTls& tls, const ClientRequest& request,
                                              const std::function<void(std::string_view)>& sink,
                                              std::chrono::milliseconds timeout);

}  // namespace rws::h3
