#pragma once
// The checks and the regex engine of the rewrite rules, shared by the rewrite middleware (which
// applies them) and the config loader (which validates them at load, with positions): RE2
// substitutions with "$1" / "${name}" / "$$" templates, the checks that keep a rewritten
// request-target in origin form, and the header fields rules may not edit. No Asio.
//
// Paths here are in "canonical" form: percent_encode_path(normalize_path(raw)), i.e. the path
// the router matched, dot segments resolved, re-encoded (so it holds only target characters and
// valid %XX escapes, and never '?' or '#').

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rws/core/expected.hpp>

namespace re2 {
class RE2;
}  // namespace re2

namespace rws::http {

// A compiled `uri_regex` rule. Immutable after compile(); shared between threads.
class RegexRewrite {
 public:
  // Compiles `pattern` (RE2 syntax) and parses `replacement`: "$N" (N digits: group N, $0 is the
  // whole match), "${N}" or "${name}" (a numbered or named group), "$$" (a literal '$'); every
  // other byte is literal. Fails, with a message fit for a config error, on an invalid or empty
  // pattern, a reference to a group the pattern does not have, or a stray '$'.
  static Expected<RegexRewrite, std::string> compile(std::string_view pattern,
                                                     std::string_view replacement);

  // Replaces every non-overlapping match of the pattern in `text` (leftmost first; an empty
  // match advances one byte) and returns the result; `matched` tells whether anything matched
  // (when nothing did, the result equals `text`).
  std::string apply(std::string_view text, bool& matched) const;

  // The literal parts of the replacement (for the loader's check that they are target
  // characters).
  std::string literal_text() const;

 private:
  struct Piece {
    std::string literal;  // used when group < 0
    int group = -1;
  };

  std::shared_ptr<const re2::RE2> re_;
  std::vector<Piece> pieces_;
  int max_group_ = 0;  // highest group the replacement uses
};

// Why `target` is not an origin-form request target rws would send ("" when it is): it must
// start with '/', hold only request-target characters (RFC 3986 pchar, '/', '?'), have valid
// %XX escapes, and its path must normalize without leaving the root. A '?' starts the query.
std::string origin_form_problem(std::string_view target);

// Why `prefix` cannot be a path prefix of uri_strip_prefix / uri_add_prefix ("" when it can):
// an origin-form path without query that is not "/" and does not end with '/'.
std::string path_prefix_problem(std::string_view prefix);

// `path` (a raw, percent-encoded path) in canonical form; false when it cannot be normalized.
bool canonical_path(std::string_view path, std::string& out);

// Why a request rule may not edit the field `name` ("" when it may): not a token, or a field
// the proxy writes itself (Host, the framing fields and the other hop-by-hop fields).
std::string request_field_problem(std::string_view name);
// Why a response rule may not edit the field `name` ("" when it may): not a token, or a field
// the server writes itself (Content-Length, Transfer-Encoding, Connection, Date).
std::string response_field_problem(std::string_view name);

}  // namespace rws::http
