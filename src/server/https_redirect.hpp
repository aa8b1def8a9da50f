#pragma once
// The service of the http_redirect_port listener: every request gets 301 to the same host and
// target on https:// (the TLS port, left out when it is 443). The host comes from the request's
// authority (port dropped, IPv6 literals keep their brackets); a request without a usable host
// gets 400, so nothing a client sends can steer the Location elsewhere than its own host.

#include <cstdint>

#include <rws/http/service.hpp>

namespace rws::server {

class HttpsRedirect final : public http::Service {
 public:
  explicit HttpsRedirect(std::uint16_t tls_port) : tls_port_(tls_port) {}
  // Before serving starts (the port may be known only once bound).
  void set_tls_port(std::uint16_t port) noexcept { tls_port_ = port; }
  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

 private:
  std::uint16_t tls_port_;
};

// The Location for `authority` ("host[:port]") and `target`; empty when the authority is not a
// host name or IP literal.
std::string https_location(std::string_view authority, std::string_view target,
                           std::uint16_t tls_port);

}  // namespace rws::server
