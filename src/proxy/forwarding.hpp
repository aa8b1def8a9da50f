#pragma once
// Header policy of a forwarding proxy (RFC 9110 §7.6): what crosses, what is removed, what is
// added. Pure functions over heads, unit-tested.

#include <string>
#include <string_view>

#include <rws/http/headers.hpp>
#include <rws/http/message_head.hpp>
#include <rws/http/tls_info.hpp>

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
  // The verified client certificate of a mutual TLS connection, sent to the backend as
  // X-Forwarded-Client-Cert; null: none (a client's own X-Forwarded-Client-Cert is always dropped).
  const http::ClientCertificate* client_cert = nullptr;
};

// The upstream request target, appended to `out`: `path` (as received, percent-encoded) with
// `strip` removed (when it is a whole-segment prefix) and `add` prepended, plus "?query". Never
// empty: a path stripped to nothing becomes "/".
void append_target(std::string& out, std::string_view path, std::string_view query,
                   std::string_view strip, std::string_view add);

// The pieces of the request policy, applied while serializing (upstream_request.hpp): the
// client is appended to X-Forwarded-For (one field, earlier values kept), X-Forwarded-Proto and
// X-Forwarded-Host are replaced, a Forwarded element (RFC 7239) and a Via entry naming the
// version the request was received in are appended.
// Whether `name` is in the fixed hop-by-hop set remove_hop_by_hop() removes.
bool is_fixed_hop_by_hop(std::string_view name, bool keep_upgrade) noexcept;
// Whether a Connection field of `headers` names `name` (with `keep_upgrade`, except "upgrade").
bool named_in_connection(const http::Headers& headers, std::string_view name,
                         bool keep_upgrade) noexcept;
// Appends the Forwarded element describing `client` ("for=...;proto=...[;host=...]").
void append_forwarded_element(std::string& out, const ForwardedFor& client);
// Appends the X-Forwarded-Client-Cert value for `cert` (Envoy's format):
// Hash=<sha256 hex>;Subject="<RFC 2253 DN>" with '"' and '\\' escaped.
void append_client_cert_element(std::string& out, const http::ClientCertificate& cert);
// Appends the Via entry of this proxy for a message received in `version` ("1.1 rws").
void append_via_entry(std::string& out, int version);

// Response side: hop-by-hop fields removed, Via appended for a response received in `version`.
void filter_response_fields(http::Headers& headers, int version = 11);

// Appends "<version> rws" to Via (RFC 9110 §7.6.3): "1.0", "1.1", "2", "3".
void append_via(http::Headers& headers, int version);

// Whether a request asks to switch protocols (Connection: upgrade with an Upgrade field).
bool is_upgrade_request(const http::RequestHead& head);

}  // namespace rws::proxy
