#include "ws/deflate.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "ws/upgrade.hpp"

namespace rws::ws {
namespace {

using namespace std::string_literals;

std::string bytes(std::initializer_list<int> values) {
  std::string s;
  for (int v : values)
    s.push_back(static_cast<char>(v));
  return s;
}

std::string inflate_one(Inflater& inflater, const std::string& payload) {
  std::string out;
  std::optional<Error> error = inflater.decompress(payload, 1 << 20, out);
  EXPECT_FALSE(error.has_value());
  return out;
}

// --- negotiation (RFC 7692 §5, §7.1) ---

TEST(NegotiateDeflate, PlainOfferIsAcceptedWithDefaults) {
  auto agreed = negotiate_deflate("permessage-deflate");
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->response, "permessage-deflate");
  EXPECT_FALSE(agreed->params.server_no_context_takeover);
  EXPECT_FALSE(agreed->params.client_no_context_takeover);
  EXPECT_EQ(agreed->params.server_max_window_bits, 15);
}

TEST(NegotiateDeflate, ContextTakeoverParametersAreEchoed) {
  auto agreed = negotiate_deflate(
      "permessage-deflate; client_no_context_takeover; server_no_context_takeover");
  ASSERT_TRUE(agreed);
  EXPECT_TRUE(agreed->params.server_no_context_takeover);
  EXPECT_TRUE(agreed->params.client_no_context_takeover);
  EXPECT_EQ(agreed->response,
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST(NegotiateDeflate, ServerWindowIsHonouredAndAnswered) {
  auto agreed = negotiate_deflate("permessage-deflate; server_max_window_bits=10");
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->params.server_max_window_bits, 10);
  EXPECT_EQ(agreed->response, "permessage-deflate; server_max_window_bits=10");
  // A quoted value is the same value (§7.1: token or quoted-string).
  agreed = negotiate_deflate("permessage-deflate; server_max_window_bits=\"12\"");
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->params.server_max_window_bits, 12);
}

TEST(NegotiateDeflate, ClientWindowIsAcceptedWithOrWithoutValueAndNotLimited) {
  auto agreed = negotiate_deflate("permessage-deflate; client_max_window_bits");
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->response, "permessage-deflate");
  agreed = negotiate_deflate("permessage-deflate; client_max_window_bits=8");
  ASSERT_TRUE(agreed);  // we inflate with a 15-bit window, which reads any smaller one
  EXPECT_EQ(agreed->response, "permessage-deflate");
}

TEST(NegotiateDeflate, AnEightBitServerWindowIsDeclinedForTheNextOffer) {
  // zlib cannot compress raw DEFLATE within 256 bytes of window.
  EXPECT_FALSE(negotiate_deflate("permessage-deflate; server_max_window_bits=8"));
  auto agreed = negotiate_deflate(
      "permessage-deflate; server_max_window_bits=8, permessage-deflate; server_max_window_bits=9");
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->params.server_max_window_bits, 9);
}

TEST(NegotiateDeflate, InvalidOffersAreDeclined) {
  for (const char* offer : {
           "permessage-deflate; server_max_window_bits",        // value required
           "permessage-deflate; server_max_window_bits=16",     // out of range
           "permessage-deflate; server_max_window_bits=7",      // out of range
           "permessage-deflate; server_max_window_bits=010",    // not the shortest form
           "permessage-deflate; client_max_window_bits=1x",     // not a number
           "permessage-deflate; server_no_context_takeover=1",  // takes no value
           "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
           "permessage-deflate; unknown_parameter",
           "x-webkit-deflate-frame",
       }) {
    EXPECT_FALSE(negotiate_deflate(offer)) << offer;
  }
  EXPECT_FALSE(negotiate_deflate(""));
}

TEST(NegotiateDeflate, TheFirstAcceptableOfferWins) {
  auto agreed = negotiate_deflate(
      "foo, permessage-deflate; bogus, permessage-deflate; client_no_context_takeover, "
      "permessage-deflate");
  ASSERT_TRUE(agreed);
  EXPECT_EQ(agreed->response, "permessage-deflate; client_no_context_takeover");
}

// --- the RFC 7692 §7.2.3 examples ---

TEST(Inflater, DecompressesTheRfcHelloExample) {
  Inflater inflater(false);
  EXPECT_EQ(inflate_one(inflater, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
}

TEST(Inflater, UsesTheSlidingWindowAcrossMessages) {
  // §7.2.3.2: the second "Hello" refers back to the first one.
  Inflater inflater(false);
  EXPECT_EQ(inflate_one(inflater, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
  EXPECT_EQ(inflate_one(inflater, bytes({0xf2, 0x00, 0x11, 0x00, 0x00})), "Hello");
}

TEST(Inflater, ReadsAStoredBlock) {
  // §7.2.3.3: "Hello" in a DEFLATE block with no compression.
  Inflater inflater(false);
  EXPECT_EQ(inflate_one(inflater,
                        bytes({0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00})),
            "Hello");
}

TEST(Inflater, ReadsABlockWithBfinalSetAndStartsAfresh) {
  // §7.2.3.4: BFINAL set; the appended tail is not read as DEFLATE, and the next message
  // starts a new stream.
  Inflater inflater(false);
  EXPECT_EQ(inflate_one(inflater, bytes({0xf3, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00, 0x00})),
            "Hello");
  EXPECT_EQ(inflate_one(inflater, bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00})), "Hello");
}

TEST(Inflater, ReadsTwoDeflateBlocksInOneMessage) {
  // §7.2.3.5: "He" and "llo" in two blocks.
  Inflater inflater(false);
  EXPECT_EQ(inflate_one(inflater, bytes({0xf2, 0x48, 0x05, 0x00, 0x00, 0x00, 0xff, 0xff, 0xca, 0xc9,
                                         0xc9, 0x07, 0x00})),
            "Hello");
}

TEST(Inflater, CorruptDataIs1007) {
  Inflater inflater(false);
  std::string out;
  std::optional<Error> error = inflater.decompress(bytes({0xff, 0xff, 0xff, 0xff}), 1 << 20, out);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, close_code::kInvalidPayload);
}

TEST(Inflater, ADecompressionBombStopsAtTheLimitWith1009) {
  Deflater deflater(15, false);
  std::string payload = deflater.compress(std::string(10 << 20, 'a'));
  ASSERT_LT(payload.size(), 64u * 1024);  // 10 MiB of 'a' is tiny compressed
  Inflater inflater(false);
  std::string out;
  std::optional<Error> error = inflater.decompress(payload, 1 << 20, out);
  ASSERT_TRUE(error);
  EXPECT_EQ(error->code, close_code::kMessageTooBig);
  EXPECT_LE(out.size(), (1u << 20) + 1);  // it stopped there, it did not inflate everything
  // Exactly at the limit is allowed.
  Inflater exact(false);
  Deflater again(15, false);
  EXPECT_FALSE(exact.decompress(again.compress(std::string(1 << 20, 'a')), 1 << 20, out));
  EXPECT_EQ(out.size(), 1u << 20);
}

// --- compression ---

TEST(Deflater, ProducesTheRfcHelloExampleWithoutTheTail) {
  Deflater deflater(15, false);
  EXPECT_EQ(deflater.compress("Hello"), bytes({0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}));
}

TEST(Deflater, AnEmptyMessageIsOneZeroByteEvenRightAfterAFlush) {
  // §7.2.3.6; zlib writes nothing for an empty input right after a sync flush.
  Deflater deflater(15, false);
  Inflater inflater(false);
  EXPECT_EQ(deflater.compress(""), bytes({0x00}));
  EXPECT_EQ(deflater.compress(""), bytes({0x00}));
  EXPECT_EQ(inflate_one(inflater, bytes({0x00})), "");
  EXPECT_EQ(inflate_one(inflater, deflater.compress("after")), "after");
}

TEST(Deflater, ContextTakeoverShrinksRepeatsAndNoContextTakeoverDoesNot) {
  const std::string message = "a message long enough to be worth referring back to, twice";
  Deflater with_context(15, false);
  std::string first = with_context.compress(message);
  std::string second = with_context.compress(message);
  EXPECT_LT(second.size(), first.size());
  Deflater without_context(15, true);
  EXPECT_EQ(without_context.compress(message), first);
  EXPECT_EQ(without_context.compress(message), first);  // nothing refers to the last message
}

TEST(Deflater, RoundTripsLargeRandomAndEmptyMessagesForEveryWindow) {
  std::mt19937 random(7);
  std::string noise(300'000, '\0');
  for (char& c : noise)
    c = static_cast<char>(random() % 16);  // compressible, not trivially
  for (int bits = 9; bits <= 15; ++bits) {
    Deflater deflater(bits, false);
    Inflater inflater(false);
    for (const std::string& message : {noise, std::string(), "x"s, noise.substr(1000)}) {
      EXPECT_TRUE(inflate_one(inflater, deflater.compress(message)) == message)
          << bits << " bits, " << message.size() << " bytes";
    }
  }
}

// --- subprotocols ---

TEST(ChooseSubprotocol, TheServersFirstPreferenceTheClientOffersWins) {
  std::vector<std::string> supported{"v2.chat", "v1.chat"};
  EXPECT_EQ(choose_subprotocol("v1.chat, v2.chat", supported), "v2.chat");
  EXPECT_EQ(choose_subprotocol("v1.chat", supported), "v1.chat");
  EXPECT_EQ(choose_subprotocol("V1.CHAT, other", supported), "");  // case-sensitive
  EXPECT_EQ(choose_subprotocol("", supported), "");
  EXPECT_EQ(choose_subprotocol("v1.chat", {}), "");
}

}  // namespace
}  // namespace rws::ws
