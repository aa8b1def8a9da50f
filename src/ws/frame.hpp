#pragma once
// Vocabulary shared by the WebSocket frame parser and writer (RFC 6455 §5, §7.4).

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace rws::ws {

enum class Opcode : std::uint8_t {
  kContinuation = 0x0,
  kText = 0x1,
  kBinary = 0x2,
  kClose = 0x8,
  kPing = 0x9,
  kPong = 0xA,
};

// Which side of the connection this codec speaks for: a server receives masked frames and sends
// unmasked ones, a client the opposite (§5.1).
enum class Role : std::uint8_t { kServer, kClient };

// Close status codes used by the codec (§7.4.1).
namespace close_code {
inline constexpr std::uint16_t kNormal = 1000;
inline constexpr std::uint16_t kGoingAway = 1001;
inline constexpr std::uint16_t kProtocolError = 1002;
inline constexpr std::uint16_t kUnsupportedData = 1003;
inline constexpr std::uint16_t kNoStatus = 1005;  // never sent: "the close frame had no code"
inline constexpr std::uint16_t kAbnormal = 1006;  // never sent
inline constexpr std::uint16_t kInvalidPayload = 1007;
inline constexpr std::uint16_t kPolicyViolation = 1008;
inline constexpr std::uint16_t kMessageTooBig = 1009;
inline constexpr std::uint16_t kInternalError = 1011;
inline constexpr std::uint16_t kTlsHandshake = 1015;  // never sent
}  // namespace close_code

// Whether a peer may send `code` in a close frame: 1000–1003, 1007–1014 (IANA registered) and
// 3000–4999 (libraries, applications). 1005, 1006, 1015 and unassigned codes are not.
constexpr bool is_sendable_close_code(std::uint16_t code) noexcept {
  return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

constexpr bool is_control(Opcode op) noexcept {
  return (static_cast<std::uint8_t>(op) & 0x8) != 0;
}

using MaskKey = std::array<std::uint8_t, 4>;

// XORs `data` in place with `key`, `offset` being the position of data[0] in the frame's payload
// (masking is periodic in 4, so a payload can be unmasked piece by piece). Masking and unmasking
// are the same operation.
void apply_mask(std::span<char> data, const MaskKey& key, std::uint64_t offset) noexcept;

// A protocol failure: the close code to send (1002, 1007 or 1009) and a short, static reason.
struct Error {
  std::uint16_t code = close_code::kProtocolError;
  std::string_view reason;
};

}  // namespace rws::ws
