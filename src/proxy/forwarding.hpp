#pragma once
// Header policy of a forwarding proxy (RFC 9110 §7.6): what crosses, what is removed, what is
// added. Pure functions over heads, unit-tested.

#include <string>
#include <string_view>

#include <rws/http/headers.hpp>
#include <rws/http/message_head.hpp>

namespace rws::proxy {

// Removes the hop-by-hop fields (Connection, every field it names, Keep-Alive,
// Proxy-Connection, TE, Transfer-Encoding, Upgrade, Content-Length — the proxy frames the
// message itself). With `keep_upgrade`, Upgrade survives (a WebSocket handshake).
void remove_hop_by_hop(http::Headers& headers, bool keep_upgrade = false);

struct ForwardedFor {
  std::string_view client_ip;  // peer address of the downstream connection
  std::string_view proto;      // "http" / "https"
  std::string_view host;       // the Host the client asked for
  int version = 11;            // HTTP version of the request received (10, 11, 20, 30)
};

// Appends the client to X-Forwarded-For (one field: earlier values kept, the client last), sets
// X-Forwarded-Proto and X-Forwarded-Host, appends a Forwarded element (RFC 7239) and a Via
// entry naming the version the request was received in.
void add_forwarding_fields(http::Headers& headers, const ForwardedFor& client);

// The upstream request target: `path` (as received, percent-encoded) with `strip` removed
// (when it is a whole-segment prefix) and `add` prepended, plus "?query".
std::string rewrite_target(std::string_view path, std::string_view query, std::string_view strip,
                           std::string_view add);

// Response side: hop-by-hop fields removed, Via appended for a response received in `version`.
void filter_response_fields(http::Headers& headers, int version = 11);

// Appends "<version> rws" to Via (RFC 9110 §7.6.3): "1.0", "1.1", "2", "3".
void append_via(http::Headers& headers, int version);

// Whether a request asks to switch protocols (Connection: upgrade with an Upgrade field).
bool is_upgrade_request(const http::RequestHead& head);

}  // namespace rws::proxy
