#pragma once
// Sans-I/O HTTP/1.1 response serialization (RFC 9112 §4, §6, §7.1).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <rws/http/headers.hpp>
#include <rws/http/message_head.hpp>

namespace rws::h1 {

// The message-level fields the session decides; handler fields with these names are replaced.
struct ResponseFraming {
  std::optional<std::uint64_t> content_length;  // emits Content-Length when set
  bool chunked = false;                         // emits Transfer-Encoding: chunked
  std::string_view connection;                  // "close", "keep-alive" or "" (none)
  std::string_view date;                        // IMF-fixdate; Date unless the handler set one
  std::string_view server;                      // Server unless the handler set one; "" = none
};

// Appends the status line, the handler's fields and the framing fields, and the empty line.
// Fields whose name is not a token or whose value holds CR, LF, NUL or other controls are
// dropped (response splitting defence); returns how many were dropped.
std::size_t append_response_head(std::string& out, const http::ResponseHead& head,
                                 const ResponseFraming& framing);

// Appends a request line "METHOD TARGET HTTP/1.1", `head`'s fields except framing ones (and
// except Host, written first from `host`), then Content-Length or Transfer-Encoding: chunked as
// `content_length`/`chunked` say, and the empty line. Unsafe fields are dropped (counted).
std::size_t append_request_head(std::string& out, std::string_view method, std::string_view target,
                                std::string_view host, const http::Headers& headers,
                                std::optional<std::uint64_t> content_length, bool chunked,
                                std::string_view connection = {});

// "HTTP/1.1 100 Continue\r\n\r\n"
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

// chunk-size CRLF for a data chunk of `size` (> 0) bytes.
void append_chunk_header(std::string& out, std::size_t size);
// last-chunk, the trailer fields (invalid ones dropped) and the final CRLF.
void append_last_chunk(std::string& out, const http::Headers& trailers);

}  // namespace rws::h1
