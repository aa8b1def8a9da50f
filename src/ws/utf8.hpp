#pragma once
// Incremental UTF-8 validation (RFC 3629): strict, so overlong encodings, surrogates
// (U+D800–U+DFFF) and code points above U+10FFFF are invalid. Input may be fed in arbitrary
// pieces, a code point split between them included; an invalid byte is reported as soon as it
// is seen.

#include <cstdint>
#include <string_view>

namespace rws::ws {

class Utf8Validator {
 public:
  // False as soon as the bytes so far cannot start a valid UTF-8 text; then stays false.
  bool feed(std::string_view bytes) noexcept;
  // True when everything fed is valid and does not end inside a code point.
  bool complete() const noexcept { return state_ == kAccept; }
  void reset() noexcept { state_ = kAccept; }

 private:
  static constexpr std::uint8_t kAccept = 0;
  static constexpr std::uint8_t kReject = 1;
  std::uint8_t state_ = kAccept;
  // While inside a code point: continuation bytes still expected, and the allowed range of the
  // next one (narrower than 80–BF right after some lead bytes).
  std::uint8_t pending_ = 0;
  std::uint8_t next_lo_ = 0x80;
  std::uint8_t next_hi_ = 0xBF;
};

// Whether `text` is entirely valid UTF-8.
bool is_valid_utf8(std::string_view text) noexcept;

}  // namespace rws::ws
