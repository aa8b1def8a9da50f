#include "ws/frame_writer.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rws::ws {
namespace {

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list)
    s.push_back(static_cast<char>(b));
  return s;
}

constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};

TEST(FrameWriter, RfcUnmaskedHello) {
  EXPECT_EQ(frame(Opcode::kText, "Hello"), bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
}

TEST(FrameWriter, RfcMaskedHello) {
  EXPECT_EQ(frame(Opcode::kText, "Hello", true, kKey),
            bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameWriter, RfcFragmentsAndControlFrames) {
  EXPECT_EQ(frame(Opcode::kText, "Hel", false), bytes({0x01, 0x03, 0x48, 0x65, 0x6c}));
  EXPECT_EQ(frame(Opcode::kContinuation, "lo", true), bytes({0x80, 0x02, 0x6c, 0x6f}));
  EXPECT_EQ(frame(Opcode::kPing, "Hello"), bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}));
  EXPECT_EQ(frame(Opcode::kPong, "Hello", true, kKey),
            bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
}

TEST(FrameWriter, LengthEncodingsAtTheirBoundaries) {
  EXPECT_EQ(frame(Opcode::kBinary, std::string(125, 'x')).substr(0, 2), bytes({0x82, 125}));
  EXPECT_EQ(frame(Opcode::kBinary, std::string(126, 'x')).substr(0, 4), bytes({0x82, 126, 0, 126}));
  EXPECT_EQ(frame(Opcode::kBinary, std::string(256, 'x')).substr(0, 4),
            bytes({0x82, 0x7E, 0x01, 0x00}));
  EXPECT_EQ(frame(Opcode::kBinary, std::string(65535, 'x')).substr(0, 4),
            bytes({0x82, 0x7E, 0xFF, 0xFF}));
  EXPECT_EQ(frame(Opcode::kBinary, std::string(65536, 'x')).substr(0, 10),
            bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}));
  EXPECT_EQ(header_size(125, false), 2U);
  EXPECT_EQ(header_size(126, true), 8U);
  EXPECT_EQ(header_size(65536, true), 14U);
}

TEST(FrameWriter, HeaderWithRsv1AndALargeLength) {
  char out[kMaxHeaderSize];
  FrameHeader h{Opcode::kBinary, false, true, 0x0102030405060708ULL, kKey};
  ASSERT_EQ(write_header(h, out), 14U);
  EXPECT_EQ(std::string(out, 14),
            bytes({0x42, 0xFF, 1, 2, 3, 4, 5, 6, 7, 8, 0x37, 0xfa, 0x21, 0x3d}));
}

TEST(FrameWriter, MaskingPieceByPieceEqualsMaskingWhole) {
  std::string whole = "The quick brown fox";
  std::string pieces = whole;
  apply_mask(whole, kKey, 0);
  apply_mask(std::span<char>(pieces.data(), 5), kKey, 0);
  apply_mask(std::span<char>(pieces.data() + 5, pieces.size() - 5), kKey, 5);
  EXPECT_EQ(whole, pieces);
  apply_mask(whole, kKey, 0);
  EXPECT_EQ(whole, "The quick brown fox");
}

TEST(FrameWriter, CloseFrame) {
  EXPECT_EQ(close_frame(1000, "bye"), bytes({0x88, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}));
}

TEST(FrameWriter, CloseReasonIsCutAtACodePointBoundary) {
  // 122 ASCII bytes then a 2-byte code point: byte 123 would split it.
  std::string reason = std::string(122, 'a') + "\xC3\xA9";
  std::string f = close_frame(1000, reason);
  EXPECT_EQ(f.size(), 2U + 2U + 122U);
  EXPECT_EQ(f.substr(4), std::string(122, 'a'));
  std::string fits = std::string(121, 'a') + "\xC3\xA9";
  EXPECT_EQ(close_frame(1000, fits).substr(4), fits);
}

}  // namespace
}  // namespace rws::ws
