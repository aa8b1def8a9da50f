#pragma once
// WebSocket frame serialization (RFC 6455 §5.2). A server sends unmasked frames; a client masks
// every frame with a fresh key it chooses (from a strong source of randomness, §5.3) and passes
// here. Frames are built whole: for a large payload, write_header() lets the caller send the
// header and then the payload from its own buffer (masked in place with apply_mask()).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "ws/frame.hpp"

namespace rws::ws {

struct FrameHeader {
  Opcode opcode = Opcode::kText;
  bool fin = true;
  bool rsv1 = false;  // permessage-deflate: first frame of a compressed message
  std::uint64_t length = 0;
  std::optional<MaskKey> mask;  // client role only
};

inline constexpr std::size_t kMaxHeaderSize = 14;

// Bytes the header of a frame with this payload length takes.
std::size_t header_size(std::uint64_t length, bool masked) noexcept;

// Writes the header (the shortest length encoding) to `out`, which must hold
// header_size(h.length, h.mask) bytes; returns the number written.
std::size_t write_header(const FrameHeader& h, std::span<char, kMaxHeaderSize> out) noexcept;

// A whole frame: header, then the payload (masked when `mask` is given).
std::string frame(Opcode opcode, std::string_view payload, bool fin = true,
                  std::optional<MaskKey> mask = std::nullopt);

// A close frame with `code` (which must satisfy is_sendable_close_code) and `reason`, cut to
// the 123 bytes a control frame leaves for it, at a code point boundary.
std::string close_frame(std::uint16_t code, std::string_view reason,
                        std::optional<MaskKey> mask = std::nullopt);

}  // namespace rws::ws
