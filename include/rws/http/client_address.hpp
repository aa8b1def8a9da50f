#pragma once
// The client's address behind trusted reverse proxies (an rws server key: trusted_proxies).
//
// A request whose connection comes from a trusted proxy names earlier hops in X-Forwarded-For
// (or, when that field is absent, in the `for=` parameters of Forwarded, RFC 7239). Walking that
// list from the right, trusted addresses are skipped; the first address that is not trusted is
// the client. When every listed hop is trusted, the leftmost one is. An element that is not an
// IP address (garbage, "unknown", an obfuscated identifier) ends the walk: the hop after it — the
// last one vouched for by a trusted proxy — is the client. A connection from an untrusted peer is
// its own client, whatever its fields say.

#include <string>
#include <string_view>
#include <vector>

#include <rws/http/cidr.hpp>
#include <rws/http/headers.hpp>

namespace rws::http {

// `peer` is the connection's address as text. Returns the client address as text ("192.0.2.7",
// "2001:db8::1", no brackets or port).
std::string client_address(std::string_view peer, const Headers& headers,
                           const std::vector<Cidr>& trusted);

}  // namespace rws::http
