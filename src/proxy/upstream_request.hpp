#pragma once
// The request head a backend receives, written in one pass from the client's head with the
// forwarding policy of forwarding.hpp applied: no copy of the head, no per-field string.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rws/http/message_head.hpp>

#include "proxy/forwarding.hpp"

namespace rws::proxy {

struct UpstreamHead {
  std::string_view host;                        // the Host field sent
  std::string_view strip_prefix;                // append_target()'s `strip`
  std::string_view add_prefix;                  // append_target()'s `add`
  std::optional<std::uint64_t> content_length;  // Content-Length sent, if any
  bool chunked = false;                         // Transfer-Encoding: chunked sent
  bool upgrade = false;                         // keeps Upgrade and sends Connection: upgrade
  bool expect_continue = false;  // sends Expect: 100-continue (the client's is dropped)
};

// Appends to `out`: "METHOD TARGET HTTP/1.1" (the target rewritten, "*" kept), Host, the
// client's fields except hop-by-hop ones (remove_hop_by_hop), Expect, Host and framing ones,
// with X-Forwarded-For/-Proto/-Host, Forwarded and Via set by the request policy of forwarding.hpp
// (in place of the client's first such field, else after the client's fields, in that order),
// X-Forwarded-Client-Cert for a verified client certificate (a client's own is dropped), then
// Expect, the framing fields and Connection. Fields that are not safe to send (name not a
// token, a control character in the value) are dropped; returns how many were.
std::size_t append_upstream_request_head(std::string& out, const http::RequestHead& in,
                                         const UpstreamHead& head, const ForwardedFor& client);

}  // namespace rws::proxy
