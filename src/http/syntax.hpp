#pragma once
// Character classes and small grammar checks from RFC 9110 §5.6 and RFC 3986, as lookup tables.
// Pure functions, no allocation: used by every parser on the hot path.

#include <array>
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace rws::http::syntax {

namespace detail {
constexpr std::array<bool, 256> make_table(bool (*pred)(unsigned char)) {
  std::array<bool, 256> t{};
  for (int c = 0; c < 256; ++c)
    t[static_cast<std::size_t>(c)] = pred(static_cast<unsigned char>(c));
  return t;
}
constexpr bool alpha(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
constexpr bool digit(unsigned char c) {
  return c >= '0' && c <= '9';
}
constexpr bool in(unsigned char c, std::string_view set) {
  for (char s : set) {
    if (static_cast<unsigned char>(s) == c) return true;
  }
  return false;
}
// tchar = "!" / "#" / "$" / "%" / "&" / "'" / "*" / "+" / "-" / "." / "^" / "_" / "`" / "|" / "~"
//         / DIGIT / ALPHA
constexpr bool tchar(unsigned char c) {
  return alpha(c) || digit(c) || in(c, "!#$%&'*+-.^_`|~");
}
// field-vchar = VCHAR / obs-text, plus SP and HTAB inside a value.
constexpr bool field_char(unsigned char c) {
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}
// Characters allowed in a request-target: RFC 3986 pchar / "/" / "?" plus "%" for pct-encoded.
// unreserved = ALPHA DIGIT - . _ ~ ; sub-delims = ! $ & ' ( ) * + , ; =
constexpr bool target_char(unsigned char c) {
  return alpha(c) || digit(c) || in(c, "-._~!$&'()*+,;=:@/?%");
}
constexpr bool hexdig(unsigned char c) {
  return digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}
}  // namespace detail

inline constexpr std::array<bool, 256> kTchar = detail::make_table(detail::tchar);
inline constexpr std::array<bool, 256> kFieldChar = detail::make_table(detail::field_char);
inline constexpr std::array<bool, 256> kTargetChar = detail::make_table(detail::target_char);
inline constexpr std::array<bool, 256> kHexdig = detail::make_table(detail::hexdig);

constexpr bool is_tchar(char c) {
  return kTchar[static_cast<unsigned char>(c)];
}
constexpr bool is_hexdig(char c) {
  return kHexdig[static_cast<unsigned char>(c)];
}
constexpr bool is_ows(char c) {
  return c == ' ' || c == '\t';
}

constexpr int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// token = 1*tchar
constexpr bool is_token(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!is_tchar(c)) return false;
  }
  return true;
}

// A field value after OWS trimming: no CTLs except HTAB, no DEL; obs-text allowed.
constexpr bool is_field_value(std::string_view s) {
  std::size_t i = 0;
  if (!std::is_constant_evaluated()) {
    // Eight bytes at a time: a word without a byte below 0x20 or equal to 0x7f passes as a
    // whole (bytes above 0x7f are obs-text); one with such a byte (a HTAB, say) is looked at
    // byte by byte. Without such a byte no subtraction below borrows, so the test is exact.
    constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
    constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
    for (; i + 8 <= s.size(); i += 8) {
      std::uint64_t x;
      std::memcpy(&x, s.data() + i, 8);
      const std::uint64_t del = x ^ (0x7f * kOnes);
      const std::uint64_t below_space = (x - 0x20 * kOnes) & ~x;
      const std::uint64_t is_del = (del - kOnes) & ~del;
      if (((below_space | is_del) & kHigh) == 0) continue;
      for (std::size_t j = i; j < i + 8; ++j) {
        if (!kFieldChar[static_cast<unsigned char>(s[j])]) return false;
      }
    }
  }
  for (; i < s.size(); ++i) {
    if (!kFieldChar[static_cast<unsigned char>(s[i])]) return false;
  }
  return true;
}

constexpr std::string_view trim_ows(std::string_view s) {
  while (!s.empty() && is_ows(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && is_ows(s.back()))
    s.remove_suffix(1);
  return s;
}

// quoted-string = DQUOTE *( qdtext / quoted-pair ) DQUOTE. Returns the length of the
// quoted-string at the start of `s`, or 0 when `s` does not start with a valid one.
constexpr std::size_t quoted_string_length(std::string_view s) {
  if (s.empty() || s[0] != '"') return 0;
  for (std::size_t i = 1; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c == '"') return i + 1;
    if (c == '\\') {
      if (++i >= s.size()) return 0;
      auto q = static_cast<unsigned char>(s[i]);
      if (!(q == '\t' || (q >= 0x20 && q != 0x7f))) return 0;
      continue;
    }
    if (!(c == '\t' || (c >= 0x20 && c != 0x7f))) return 0;
  }
  return 0;
}

// Parses 1*DIGIT into `out` without overflow; false on anything else.
constexpr bool parse_decimal(std::string_view s, std::uint64_t& out) {
  if (s.empty() || s.size() > 19) return false;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  out = v;
  return true;
}

}  // namespace rws::http::syntax
