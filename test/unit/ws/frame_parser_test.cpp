#include "ws/frame_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "ws/frame_writer.hpp"

namespace rws::ws {
namespace {

using Kind = Event::Kind;

constexpr MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};

// An event copied out of the parser.
struct Seen {
  Kind kind;
  std::string payload;
  std::uint16_t close_code = 0;
  std::string close_reason;
  bool compressed = false;
  bool operator==(const Seen&) const = default;
};

// The outcome of feeding a byte stream: the events, and the close code of the error, if any.
struct Outcome {
  std::vector<Seen> events;
  std::uint16_t error = 0;
};

// Feeds `pieces` one after the other, draining events as they come.
Outcome run(const std::vector<std::string>& pieces, ParserOptions options = {}) {
  FrameParser parser(options);
  Outcome out;
  for (const std::string& piece : pieces) {
    std::string_view rest = piece;
    while (true) {
      std::size_t consumed = 0;
      FrameParser::Status s = parser.parse(rest, consumed);
      EXPECT_LE(consumed, rest.size());
      rest.remove_prefix(consumed);
      if (s == FrameParser::Status::kError) {
        out.error = parser.error().code;
        EXPECT_FALSE(parser.error().reason.empty());
        return out;
      }
      if (s == FrameParser::Status::kIncomplete) {
        EXPECT_TRUE(rest.empty());
        break;
      }
      const Event& e = parser.event();
      // The close fields mean something for kClose only.
      const bool close = e.kind == Kind::kClose;
      out.events.push_back(Seen{e.kind, std::string(e.payload),
                                close ? e.close_code : std::uint16_t{0},
                                std::string(e.close_reason), e.compressed});
    }
  }
  return out;
}

Outcome run(const std::string& bytes, ParserOptions options = {}) {
  return run(std::vector<std::string>{bytes}, options);
}

std::string bytes(std::initializer_list<int> list) {
  std::string s;
  for (int b : list)
    s.push_back(static_cast<char>(b));
  return s;
}

// A masked client frame (the server parser's normal input).
std::string client(Opcode op, std::string_view payload, bool fin = true) {
  return frame(op, payload, fin, kKey);
}

ParserOptions client_role() {
  ParserOptions o;
  o.role = Role::kClient;
  return o;
}

Seen seen(Kind kind, std::string payload) {
  return Seen{kind, std::move(payload), 0, "", false};
}

Seen text(std::string payload) {
  return seen(Kind::kText, std::move(payload));
}

Seen close_seen(std::string payload, std::uint16_t code, std::string reason) {
  return Seen{Kind::kClose, std::move(payload), code, std::move(reason), false};
}

// --- RFC 6455 §5.7 examples ---

TEST(FrameParser, RfcUnmaskedHelloInTheClientRole) {
  Outcome o = run(bytes({0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), client_role());
  EXPECT_EQ(o.error, 0);
  EXPECT_EQ(o.events, std::vector<Seen>{text("Hello")});
}

TEST(FrameParser, RfcMaskedHello) {
  Outcome o = run(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(o.error, 0);
  EXPECT_EQ(o.events, std::vector<Seen>{text("Hello")});
}

TEST(FrameParser, RfcFragmentedHello) {
  Outcome o = run(bytes({0x01, 0x03, 0x48, 0x65, 0x6c, 0x80, 0x02, 0x6c, 0x6f}), client_role());
  EXPECT_EQ(o.error, 0);
  EXPECT_EQ(o.events, std::vector<Seen>{text("Hello")});
}

TEST(FrameParser, RfcPingAndMaskedPong) {
  Outcome ping = run(bytes({0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f}), client_role());
  EXPECT_EQ(ping.events, std::vector<Seen>{seen(Kind::kPing, "Hello")});
  Outcome pong = run(bytes({0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(pong.events, std::vector<Seen>{seen(Kind::kPong, "Hello")});
}

TEST(FrameParser, RfcExtendedLengths) {
  std::string small = bytes({0x82, 0x7E, 0x01, 0x00}) + std::string(256, 'x');
  Outcome a = run(small, client_role());
  ASSERT_EQ(a.events.size(), 1U);
  EXPECT_EQ(a.events[0], seen(Kind::kBinary, std::string(256, 'x')));
  std::string big = bytes({0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0}) + std::string(65536, 'y');
  Outcome b = run(big, client_role());
  ASSERT_EQ(b.events.size(), 1U);
  EXPECT_EQ(b.events[0].payload, std::string(65536, 'y'));
}

TEST(FrameParser, EmptyMessagesAndControlFrames) {
  Outcome o = run(client(Opcode::kText, "") + client(Opcode::kBinary, "") +
                  client(Opcode::kPing, "") + client(Opcode::kClose, ""));
  EXPECT_EQ(o.error, 0);
  EXPECT_EQ(o.events, (std::vector<Seen>{text(""), seen(Kind::kBinary, ""), seen(Kind::kPing, ""),
                                         close_seen("", close_code::kNoStatus, "")}));
}

// --- every split point of a multi-frame input ---

TEST(FrameParser, EverySplitPointGivesTheSameEvents) {
  const std::string stream = client(Opcode::kText, "Hel", false) + client(Opcode::kPing, "p") +
                             client(Opcode::kContinuation, "\xE2\x82", false) +
                             client(Opcode::kContinuation, "\xAC!", true) +
                             client(Opcode::kBinary, std::string(300, 'b')) +
                             close_frame(1000, "bye", kKey);
  const std::vector<Seen> expected = {seen(Kind::kPing, "p"), text("Hel\xE2\x82\xAC!"),
                                      seen(Kind::kBinary, std::string(300, 'b')),
                                      close_seen(bytes({0x03, 0xE8}) + "bye", 1000, "bye")};
  ASSERT_EQ(run(stream).events, expected);
  for (std::size_t i = 0; i <= stream.size(); ++i) {
    for (std::size_t j = i; j <= stream.size(); j += 7) {
      Outcome o = run({stream.substr(0, i), stream.substr(i, j - i), stream.substr(j)});
      ASSERT_EQ(o.error, 0) << i << "," << j;
      ASSERT_EQ(o.events, expected) << i << "," << j;
    }
  }
}

TEST(FrameParser, ByteByByte) {
  const std::string stream = client(Opcode::kBinary, std::string(70000, 'z'), false) +
                             client(Opcode::kContinuation, "end");
  std::vector<std::string> pieces;
  for (char c : stream)
    pieces.emplace_back(1, c);
  Outcome o = run(pieces);
  ASSERT_EQ(o.events.size(), 1U);
  EXPECT_EQ(o.events[0].payload, std::string(70000, 'z') + "end");
}

// --- framing errors → 1002 ---

TEST(FrameParser, ServerRejectsUnmaskedFrames) {
  EXPECT_EQ(run(frame(Opcode::kText, "Hello")).error, close_code::kProtocolError);
}

TEST(FrameParser, ClientRejectsMaskedFrames) {
  EXPECT_EQ(run(client(Opcode::kText, "Hello"), client_role()).error, close_code::kProtocolError);
}

TEST(FrameParser, RejectsReservedOpcodes) {
  for (int op : {0x3, 0x4, 0x5, 0x6, 0x7, 0xB, 0xC, 0xD, 0xE, 0xF}) {
    EXPECT_EQ(run(bytes({0x80 | op, 0x80, 0, 0, 0, 0})).error, close_code::kProtocolError) << op;
  }
}

TEST(FrameParser, RejectsRsvBitsWithoutAnExtension) {
  for (int rsv : {0x40, 0x20, 0x10}) {
    EXPECT_EQ(run(bytes({0x81 | rsv, 0x80, 0, 0, 0, 0})).error, close_code::kProtocolError) << rsv;
  }
}

TEST(FrameParser, Rsv1AllowedOnTheFirstDataFrameWhenNegotiated) {
  ParserOptions o;
  o.allow_rsv1 = true;
  std::string first = client(Opcode::kText, "\xFF\xFE", false);  // compressed: not UTF-8-checked
  first[0] = static_cast<char>(first[0] | 0x40);
  Outcome ok = run(first + client(Opcode::kContinuation, "\x01"), o);
  EXPECT_EQ(ok.error, 0);
  ASSERT_EQ(ok.events.size(), 1U);
  EXPECT_TRUE(ok.events[0].compressed);
  EXPECT_EQ(ok.events[0].payload, "\xFF\xFE\x01");

  std::string cont = client(Opcode::kContinuation, "x");
  cont[0] = static_cast<char>(cont[0] | 0x40);
  EXPECT_EQ(run(client(Opcode::kText, "a", false) + cont, o).error, close_code::kProtocolError);
  std::string ping = client(Opcode::kPing, "");
  ping[0] = static_cast<char>(ping[0] | 0x40);
  EXPECT_EQ(run(ping, o).error, close_code::kProtocolError);
  std::string rsv2 = client(Opcode::kText, "a");
  rsv2[0] = static_cast<char>(rsv2[0] | 0x20);
  EXPECT_EQ(run(rsv2, o).error, close_code::kProtocolError);
}

TEST(FrameParser, ControlFramesMustNotBeFragmented) {
  EXPECT_EQ(run(client(Opcode::kPing, "x", false)).error, close_code::kProtocolError);
}

TEST(FrameParser, ControlPayloadAtMost125) {
  EXPECT_EQ(run(client(Opcode::kPing, std::string(125, 'p'))).events.size(), 1U);
  EXPECT_EQ(run(client(Opcode::kPing, std::string(126, 'p'))).error, close_code::kProtocolError);
  EXPECT_EQ(run(client(Opcode::kPong, std::string(200, 'p'))).error, close_code::kProtocolError);
}

TEST(FrameParser, SixtyFourBitLengthWithHighBitSet) {
  EXPECT_EQ(run(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0})).error,
            close_code::kProtocolError);
}

TEST(FrameParser, ContinuationWithoutAMessage) {
  EXPECT_EQ(run(client(Opcode::kContinuation, "x")).error, close_code::kProtocolError);
  // Also after a complete message.
  EXPECT_EQ(run(client(Opcode::kText, "a") + client(Opcode::kContinuation, "x")).error,
            close_code::kProtocolError);
}

TEST(FrameParser, NewDataFrameWhileAMessageIsOpen) {
  EXPECT_EQ(run(client(Opcode::kText, "a", false) + client(Opcode::kText, "b")).error,
            close_code::kProtocolError);
  EXPECT_EQ(run(client(Opcode::kBinary, "a", false) + client(Opcode::kBinary, "b")).error,
            close_code::kProtocolError);
}

TEST(FrameParser, ControlFramesBetweenFragments) {
  Outcome o = run(client(Opcode::kBinary, "a", false) + client(Opcode::kPing, "1") +
                  client(Opcode::kContinuation, "b", false) + client(Opcode::kPong, "2") +
                  client(Opcode::kContinuation, "c"));
  EXPECT_EQ(o.error, 0);
  EXPECT_EQ(o.events, (std::vector<Seen>{seen(Kind::kPing, "1"), seen(Kind::kPong, "2"),
                                         seen(Kind::kBinary, "abc")}));
}

TEST(FrameParser, StaysFailedAfterAnError) {
  FrameParser p;
  std::size_t n = 0;
  std::string bad = frame(Opcode::kText, "x");
  ASSERT_EQ(p.parse(bad, n), FrameParser::Status::kError);
  std::string good = client(Opcode::kText, "x");
  EXPECT_EQ(p.parse(good, n), FrameParser::Status::kError);
  EXPECT_EQ(n, 0U);
}

// --- size limits → 1009 ---

TEST(FrameParser, MaxFrameSize) {
  ParserOptions o;
  o.max_frame_size = 10;
  EXPECT_EQ(run(client(Opcode::kBinary, std::string(10, 'a')), o).error, 0);
  // Refused from the header alone, before the payload arrives.
  std::string frame11 = client(Opcode::kBinary, std::string(11, 'a'));
  EXPECT_EQ(run(frame11.substr(0, 6), o).error, close_code::kMessageTooBig);
}

TEST(FrameParser, MaxMessageSizeAcrossFragments) {
  ParserOptions o;
  o.max_message_size = 10;
  EXPECT_EQ(run(client(Opcode::kText, "12345", false) + client(Opcode::kContinuation, "67890"), o)
                .events.size(),
            1U);
  EXPECT_EQ(
      run(client(Opcode::kText, "12345", false) + client(Opcode::kContinuation, "678901"), o).error,
      close_code::kMessageTooBig);
  // The limit is per message: two messages of 10 bytes pass.
  EXPECT_EQ(run(client(Opcode::kText, "1234567890") + client(Opcode::kText, "1234567890"), o)
                .events.size(),
            2U);
}

// --- UTF-8 → 1007 ---

TEST(FrameParser, CodePointSplitAcrossFragments) {
  Outcome o =
      run(client(Opcode::kText, "\xF0\x9F", false) + client(Opcode::kContinuation, "\x98", false) +
          client(Opcode::kContinuation, "\x80"));
  EXPECT_EQ(o.error, 0);
  EXPECT_EQ(o.events, std::vector<Seen>{text("\xF0\x9F\x98\x80")});
}

TEST(FrameParser, TextEndingInsideACodePoint) {
  EXPECT_EQ(run(client(Opcode::kText, "a\xE2\x82")).error, close_code::kInvalidPayload);
  EXPECT_EQ(run(client(Opcode::kText, "\xE2", false) + client(Opcode::kContinuation, "\x82")).error,
            close_code::kInvalidPayload);
}

TEST(FrameParser, InvalidTextFailsBeforeTheMessageEnds) {
  // Overlong, surrogate, above U+10FFFF: reported on the first fragment.
  for (std::string bad : {"\xC0\xAF", "\xED\xA0\x80", "\xF4\x90\x80\x80"}) {
    EXPECT_EQ(run(client(Opcode::kText, bad, false)).error, close_code::kInvalidPayload);
    EXPECT_EQ(run(client(Opcode::kText, "ok", false) + client(Opcode::kContinuation, bad)).error,
              close_code::kInvalidPayload);
  }
}

TEST(FrameParser, BinaryIsNotUtf8Checked) {
  EXPECT_EQ(run(client(Opcode::kBinary, "\xFF\xC0")).events.size(), 1U);
}

// --- close frames ---

TEST(FrameParser, CloseWithCodeAndReason) {
  Outcome o = run(close_frame(1001, "going \xE2\x82\xAC", kKey));
  ASSERT_EQ(o.events.size(), 1U);
  EXPECT_EQ(o.events[0].kind, Kind::kClose);
  EXPECT_EQ(o.events[0].close_code, 1001);
  EXPECT_EQ(o.events[0].close_reason, "going \xE2\x82\xAC");
}

TEST(FrameParser, CloseCodesAcceptedAndRefused) {
  for (int code :
       {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 4999}) {
    Outcome o = run(close_frame(static_cast<std::uint16_t>(code), "", kKey));
    EXPECT_EQ(o.error, 0) << code;
    ASSERT_EQ(o.events.size(), 1U);
    EXPECT_EQ(o.events[0].close_code, code);
  }
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 2000, 2999, 5000, 65535}) {
    EXPECT_EQ(run(close_frame(static_cast<std::uint16_t>(code), "", kKey)).error,
              close_code::kProtocolError)
        << code;
  }
}

TEST(FrameParser, ClosePayloadOfOneByte) {
  EXPECT_EQ(run(client(Opcode::kClose, "\x03")).error, close_code::kProtocolError);
  // 0x0C would read as 3072, a valid code, if the second byte were taken as zero.
  EXPECT_EQ(run(client(Opcode::kClose, "\x0C")).error, close_code::kProtocolError);
}

TEST(FrameParser, CloseReasonMustBeUtf8) {
  EXPECT_EQ(run(close_frame(1000, "\xED\xA0\x80", kKey)).error, close_code::kInvalidPayload);
}

}  // namespace
}  // namespace rws::ws
