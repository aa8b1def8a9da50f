#pragma once
// Request paths: percent-decoding (RFC 3986 §2.1) and dot-segment normalization (§5.2.4),
// done in that order so that encoded dots and slashes cannot smuggle a "..".

#include <string>
#include <string_view>

namespace rws::http {

enum class PathError {
  kNone,
  kNotAbsolute,  // does not start with "/"
  kBadEncoding,  // "%" not followed by two hex digits
  kNul,          // a decoded NUL byte
  kBackslash,    // a decoded "\": refused rather than guessed at (Windows-style traversal)
  kEscapesRoot,  // ".." would climb above "/"
};

// Decodes every %XX escape of `in` into `out`. Fails on malformed escapes; a decoded NUL is
// reported as kNul. ("+" is not a space in paths.)
PathError percent_decode(std::string_view in, std::string& out);

// A short explanation of `e` for error responses ("path escapes the root").
std::string_view describe(PathError e) noexcept;

// Decodes `raw` (an origin-form path) and normalizes it: empty and "." segments are dropped, ".."
// removes the previous segment. The result starts with "/", has no "//", and ends with "/" when
// `raw` named a directory (trailing "/", "/." or "/.."). E.g. "/a/./b/../c%20d" → "/a/c d".
PathError normalize_path(std::string_view raw, std::string& out);

// Percent-encodes the bytes of a decoded path that may not appear raw in a URI path.
std::string percent_encode_path(std::string_view decoded);

}  // namespace rws::http
