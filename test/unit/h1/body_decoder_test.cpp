#include "h1/body_decoder.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rws::h1 {
namespace {

// Feeds `input` in pieces of `piece` bytes, collecting the body; returns false on error.
bool decode_all(BodyDecoder& d, std::string_view input, std::size_t piece, std::string& body,
                std::size_t* leftover = nullptr) {
  std::string pending;
  std::size_t fed = 0;
  while (!d.done()) {
    if (pending.empty() || fed < input.size()) {
      if (fed >= input.size() && pending.empty()) return false;  // needs more than we have
      std::size_t n = std::min(piece, input.size() - fed);
      pending.append(input.substr(fed, n));
      fed += n;
    }
    BodyDecoder::Step step;
    if (d.decode(pending, step) == BodyDecoder::Status::kError) return false;
    body.append(step.data);
    pending.erase(0, step.consumed);
    if (step.consumed == 0 && fed >= input.size() && !d.done()) return false;
  }
  if (leftover) *leftover = pending.size() + (input.size() - fed);
  return true;
}

TEST(BodyDecoder, ContentLength) {
  auto d = BodyDecoder::content_length(5);
  std::string body;
  std::size_t left = 0;
  ASSERT_TRUE(decode_all(d, "helloGET", 3, body, &left));
  EXPECT_EQ(body, "hello");
  EXPECT_EQ(left, 3u);
}

TEST(BodyDecoder, ChunkedWithExtensionsAndTrailers) {
  std::string wire =
      "5;name=value;q=\"quoted \\\" str\"\r\nhello\r\n"
      "6 ; ext\r\n world\r\n"
      "0\r\nX-Checksum: abc\r\nX-Other: d\r\n\r\nNEXT";
  for (std::size_t piece : {1u, 2u, 7u, 1000u}) {
    auto d = BodyDecoder::chunked();
    std::string body;
    std::size_t left = 0;
    ASSERT_TRUE(decode_all(d, wire, piece, body, &left)) << piece << d.error();
    EXPECT_EQ(body, "hello world");
    EXPECT_EQ(left, 4u);
    EXPECT_EQ(d.trailers().get("x-checksum"), "abc");
    EXPECT_EQ(d.trailers().size(), 2u);
  }
}

TEST(BodyDecoder, LargeHexSizes) {
  auto d = BodyDecoder::chunked();
  BodyDecoder::Step step;
  ASSERT_EQ(d.decode("FFFFFFFFFFFFFFFF\r\nab", step), BodyDecoder::Status::kOk);
  EXPECT_EQ(step.data, "ab");
}

struct BadChunk {
  const char* name;
  std::string wire;
};

class BodyDecoderRejects : public ::testing::TestWithParam<BadChunk> {};

TEST_P(BodyDecoderRejects, Chunked) {
  auto d = BodyDecoder::chunked(
      ChunkedLimits{.max_extension_bytes = 32, .max_trailer_bytes = 64, .max_trailer_fields = 2});
  std::string body;
  EXPECT_FALSE(decode_all(d, GetParam().wire, 1000, body)) << GetParam().name;
  EXPECT_FALSE(d.done());
}

INSTANTIATE_TEST_SUITE_P(
    Malformed, BodyDecoderRejects,
    ::testing::Values(
        BadChunk{"empty_size", "\r\nabc\r\n0\r\n\r\n"}, BadChunk{"non_hex", "g\r\n"},
        BadChunk{"negative", "-1\r\n"}, BadChunk{"hex_prefix", "0x5\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"overflow", "1FFFFFFFFFFFFFFFF\r\n"},
        BadChunk{"bare_lf_after_size", "5\nhello\r\n0\r\n\r\n"},
        BadChunk{"data_too_long", "3\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"data_missing_crlf", "5\r\nhelloX\r\n0\r\n\r\n"},
        BadChunk{"space_without_ext", "5 \r\nhello\r\n0\r\n\r\n"},
        BadChunk{"ext_without_name", "5;\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"ext_bad_value", "5;a=\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"ext_unterminated_quote", "5;a=\"x\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"ext_ctl", "5;a\x01\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"ext_too_long", "5;" + std::string(40, 'a') + "\r\nhello\r\n0\r\n\r\n"},
        BadChunk{"trailer_obs_fold", "0\r\nA: b\r\n c\r\n\r\n"},
        BadChunk{"trailer_no_colon", "0\r\nAb\r\n\r\n"},
        BadChunk{"trailer_bare_lf", "0\r\nA: b\n\r\n"},
        BadChunk{"trailer_too_large", "0\r\nA: " + std::string(100, 'b') + "\r\n\r\n"},
        BadChunk{"too_many_trailers", "0\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"},
        BadChunk{"last_chunk_bare_cr", "0\r\n\rX"}),
    [](const auto& param_info) { return std::string(param_info.param.name); });

}  // namespace
}  // namespace rws::h1
