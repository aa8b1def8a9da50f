#pragma once
// field-line = field-name ":" OWS field-value OWS (RFC 9112 §5), shared by the head parser and
// the chunked trailer section.

#include <string_view>

#include "http/syntax.hpp"

namespace rws::h1 {

// Splits a field line (without its CRLF) into name and trimmed value. On failure returns false
// and sets `error` to a static explanation.
inline bool split_field_line(std::string_view line, std::string_view& name, std::string_view& value,
                             std::string_view& error) {
  namespace syntax = http::syntax;
  if (!line.empty() && syntax::is_ows(line.front())) {
    error = "obsolete line folding";
    return false;
  }
  std::size_t colon = line.find(':');
  if (colon == std::string_view::npos) {
    error = "header field without colon";
    return false;
  }
  name = line.substr(0, colon);
  if (!syntax::is_token(name)) {
    error = !name.empty() && syntax::is_ows(name.back()) ? "whitespace before colon in header field"
                                                         : "invalid header field name";
    return false;
  }
  value = syntax::trim_ows(line.substr(colon + 1));
  if (!syntax::is_field_value(value)) {
    error = "invalid character in header field value";
    return false;
  }
  return true;
}

}  // namespace rws::h1
