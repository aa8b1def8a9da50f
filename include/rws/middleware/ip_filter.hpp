#pragma once
// Client address filter: allow and deny lists of IPv4/IPv6 CIDR blocks (or single addresses).
// Deny wins over allow; with an allow list, an address on neither list is denied. Denied
// requests get 403. The address is the client's: the peer, or behind trusted_proxies the one they
// forwarded for.

#include <vector>

#include <rws/app/handler.hpp>
#include <rws/http/cidr.hpp>

namespace rws::middleware {

struct IpFilterOptions {
  std::vector<http::Cidr> allow;
  std::vector<http::Cidr> deny;
};

Middleware ip_filter(IpFilterOptions options);

}  // namespace rws::middleware
