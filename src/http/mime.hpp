#pragma once
// Media types for the static file server: maps a file name's extension to the Content-Type value
// sent with it. Pure functions over a compile-time table; no allocation, no locks, callable from
// any thread. Every returned string_view points into static storage and lives for the program.

#include <span>
#include <string_view>

namespace rws::http {

// Sent for unknown or missing extensions: browsers download it instead of guessing.
inline constexpr std::string_view kDefaultMimeType = "application/octet-stream";

// Returns the full Content-Type value for `path`, e.g. "text/html; charset=utf-8" for
// "/site/Index.HTML". `path` is a file-system path or an already-decoded URL path without query or
// fragment. The extension is what follows the last '.' of the last '/'-separated segment, ignoring
// the segment's leading dots, and is matched ASCII case-insensitively. So ".bashrc", "README",
// "file." and "/v1.2/readme" have no extension, "a.tar.gz" is gzip and ".eslintrc.json" is JSON.
// Unknown or missing extensions give kDefaultMimeType.
std::string_view mime_type_for_path(std::string_view path) noexcept;

// True when `content_type` (a media type, optionally with parameters, any case) is text a browser
// renders or scripts read as characters, which is exactly when mime_type_for_path appends
// "; charset=utf-8". The rule:
//   - every text/* type;
//   - every type whose subtype has the +json or +xml structured suffix (RFC 6839), such as
//     image/svg+xml, application/ld+json, application/manifest+json;
//   - application/json, application/xml, application/javascript, application/ecmascript,
//     application/sql, application/yaml, application/toml and application/x-ndjson.
// Other types (images, archives, application/rtf, application/x-subrip, ...) get no charset: they
// are binary, or their bytes do not promise UTF-8.
bool is_text_mime(std::string_view content_type) noexcept;

namespace detail {
struct MimeEntry {
  std::string_view extension;     // lower-case, without the dot
  std::string_view content_type;  // full Content-Type value, charset included when textual
};
// The table behind mime_type_for_path, sorted by extension with no duplicates. Exposed for tests.
std::span<const MimeEntry> mime_table() noexcept;
}  // namespace detail

}  // namespace rws::http
