#include "ws/frame_writer.hpp"

namespace rws::ws {

void apply_mask(std::span<char> data, const MaskKey& key, std::uint64_t offset) noexcept {
  for (std::size_t i = 0; i < data.size(); ++i) {
    data[i] = static_cast<char>(static_cast<std::uint8_t>(data[i]) ^ key[(offset + i) & 3]);
  }
}

std::size_t header_size(std::uint64_t length, bool masked) noexcept {
  const std::size_t ext = length < 126 ? 0 : length <= 0xFFFF ? 2 : 8;
  return 2 + ext + (masked ? 4 : 0);
}

std::size_t write_header(const FrameHeader& h, std::span<char, kMaxHeaderSize> out) noexcept {
  auto put = [&](std::size_t i, std::uint64_t byte) { out[i] = static_cast<char>(byte & 0xFF); };
  put(0, (h.fin ? 0x80U : 0U) | (h.rsv1 ? 0x40U : 0U) | static_cast<std::uint8_t>(h.opcode));
  const unsigned mask_bit = h.mask ? 0x80U : 0U;
  std::size_t pos = 2;
  if (h.length < 126) {
    put(1, mask_bit | h.length);
  } else if (h.length <= 0xFFFF) {
    put(1, mask_bit | 126U);
    put(2, h.length >> 8);
    put(3, h.length);
    pos = 4;
  } else {
    put(1, mask_bit | 127U);
    for (std::size_t i = 0; i < 8; ++i)
      put(2 + i, h.length >> (8 * (7 - i)));
    pos = 10;
  }
  if (h.mask) {
    for (std::uint8_t k : *h.mask)
      put(pos++, k);
  }
  return pos;
}

std::string frame(Opcode opcode, std::string_view payload, bool fin, std::optional<MaskKey> mask) {
  char header[kMaxHeaderSize];
  const std::size_t n = write_header(FrameHeader{opcode, fin, false, payload.size(), mask}, header);
  std::string out;
  out.reserve(n + payload.size());
  out.append(header, n);
  out.append(payload);
  if (mask) apply_mask(std::span<char>(out.data() + n, payload.size()), *mask, 0);
  return out;
}

std::string close_frame(std::uint16_t code, std::string_view reason, std::optional<MaskKey> mask) {
  constexpr std::size_t kMaxReason = 125 - 2;
  if (reason.size() > kMaxReason) {
    std::size_t cut = kMaxReason;
    while (cut > 0 && (static_cast<std::uint8_t>(reason[cut]) & 0xC0) == 0x80)
      --cut;
    reason = reason.substr(0, cut);
  }
  std::string payload;
  payload.push_back(static_cast<char>(code >> 8));
  payload.push_back(static_cast<char>(code & 0xFF));
  payload.append(reason);
  return frame(Opcode::kClose, payload, true, mask);
}

}  // namespace rws::ws
