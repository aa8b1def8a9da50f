#include "ws/utf8.hpp"

namespace rws::ws {

namespace {
constexpr std::uint8_t kInside = 2;
}  // namespace

// Table 3-7 of the Unicode standard ("well-formed UTF-8 byte sequences"): the lead byte fixes
// the length and the range of the second byte; the others are 80–BF.
bool Utf8Validator::feed(std::string_view bytes) noexcept {
  for (char ch : bytes) {
    if (state_ == kReject) return false;
    auto b = static_cast<std::uint8_t>(ch);
    if (state_ == kInside) {
      if (b < next_lo_ || b > next_hi_) {
        state_ = kReject;
        return false;
      }
      next_lo_ = 0x80;
      next_hi_ = 0xBF;
      if (--pending_ == 0) state_ = kAccept;
      continue;
    }
    if (b < 0x80) continue;
    state_ = kInside;
    if (b >= 0xC2 && b <= 0xDF) {
      pending_ = 1;
    } else if (b == 0xE0) {
      // a lower second byte would be overlong
      pending_ = 2;
      next_lo_ = 0xA0;
    } else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) {
      pending_ = 2;
    } else if (b == 0xED) {
      // a higher second byte would encode a surrogate
      pending_ = 2;
      next_hi_ = 0x9F;
    } else if (b == 0xF0) {
      // a lower second byte would be overlong
      pending_ = 3;
      next_lo_ = 0x90;
    } else if (b >= 0xF1 && b <= 0xF3) {
      pending_ = 3;
    } else if (b == 0xF4) {
      // a higher second byte would be above U+10FFFF
      pending_ = 3;
      next_hi_ = 0x8F;
    } else {
      state_ = kReject;  // 80–C1 (stray continuation, overlong 2-byte), F5–FF
      return false;
    }
  }
  return state_ != kReject;
}

bool is_valid_utf8(std::string_view text) noexcept {
  Utf8Validator v;
  return v.feed(text) && v.complete();
}

}  // namespace rws::ws
