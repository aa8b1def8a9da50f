// libFuzzer target for the WebSocket frame parser (and, through a round trip, the writer).
//
// Input: byte 0 chooses the options (bit 0: client role, bit 1: RSV1 allowed, bit 2: small
// limits), byte 1 a split point; the rest is the byte stream. Besides "no crash, no sanitizer
// report", it checks the parser's contracts: parsing the stream whole and in two pieces gives
// the same events and the same error; an error is 1002, 1007 or 1009 with a reason; messages
// respect the limits; uncompressed text, close reasons are valid UTF-8; close codes are
// sendable ones (or "no status" for an empty payload); and every message, written again with
// the frame writer, parses back to itself.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ws/frame_parser.hpp"
#include "ws/frame_writer.hpp"
#include "ws/utf8.hpp"

namespace {

using rws::ws::Event;
using rws::ws::FrameParser;
using rws::ws::ParserOptions;

void check(bool condition) {
  if (!condition) std::abort();
}

struct Seen {
  Event::Kind kind;
  bool compressed;
  std::string payload;
  std::uint16_t close_code;
  bool operator==(const Seen&) const = default;
};

struct Outcome {
  std::vector<Seen> events;
  std::uint16_t error = 0;
};

void check_event(const Event& e, const ParserOptions& o) {
  switch (e.kind) {
    case Event::Kind::kText:
    case Event::Kind::kBinary:
      check(e.payload.size() <= o.max_message_size);
      if (e.kind == Event::Kind::kText && !e.compressed) check(rws::ws::is_valid_utf8(e.payload));
      check(!e.compressed || o.allow_rsv1);
      break;
    case Event::Kind::kClose:
      check(e.payload.size() <= 125);
      if (e.payload.empty()) {
        check(e.close_code == rws::ws::close_code::kNoStatus);
      } else {
        check(rws::ws::is_sendable_close_code(e.close_code));
        check(rws::ws::is_valid_utf8(e.close_reason));
        check(e.close_reason.size() + 2 == e.payload.size());
      }
      break;
    case Event::Kind::kPing:
    case Event::Kind::kPong:
      check(e.payload.size() <= 125);
      break;
  }
}

Outcome run(const std::vector<std::string_view>& pieces, const ParserOptions& options) {
  FrameParser parser(options);
  Outcome out;
  for (std::string_view rest : pieces) {
    while (true) {
      std::size_t consumed = 0;
      FrameParser::Status s = parser.parse(rest, consumed);
      check(consumed <= rest.size());
      rest.remove_prefix(consumed);
      if (s == FrameParser::Status::kError) {
        const std::uint16_t code = parser.error().code;
        check(code == 1002 || code == 1007 || code == 1009);
        check(!parser.error().reason.empty());
        out.error = code;
        return out;
      }
      if (s == FrameParser::Status::kIncomplete) {
        check(rest.empty());
        break;
      }
      const Event& e = parser.event();
      check_event(e, options);
      out.events.push_back(Seen{e.kind, e.compressed, std::string(e.payload),
                                e.kind == Event::Kind::kClose ? e.close_code : std::uint16_t{0}});
    }
  }
  return out;
}

// A data message written as one frame in the peer's role parses back to itself.
void round_trip(const Seen& message, const ParserOptions& options) {
  std::optional<rws::ws::MaskKey> mask;
  if (options.role == rws::ws::Role::kServer) mask = rws::ws::MaskKey{0xde, 0xad, 0xbe, 0xef};
  const auto op =
      message.kind == Event::Kind::kText ? rws::ws::Opcode::kText : rws::ws::Opcode::kBinary;
  std::string bytes = rws::ws::frame(op, message.payload, true, mask);
  if (message.compressed) bytes[0] = static_cast<char>(bytes[0] | 0x40);
  ParserOptions unlimited = options;
  unlimited.max_frame_size = unlimited.max_message_size;
  Outcome again = run({bytes}, unlimited);
  check(again.error == 0);
  check(again.events.size() == 1 && again.events[0] == message);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 2) return 0;
  ParserOptions options;
  if ((data[0] & 1) != 0) options.role = rws::ws::Role::kClient;
  options.allow_rsv1 = (data[0] & 2) != 0;
  if ((data[0] & 4) != 0) {
    options.max_frame_size = 64;
    options.max_message_size = 256;
  }
  std::string_view input(reinterpret_cast<const char*>(data) + 2, size - 2);
  const std::size_t split = input.empty() ? 0 : data[1] % (input.size() + 1);

  Outcome whole = run({input}, options);
  Outcome pieces = run({input.substr(0, split), input.substr(split)}, options);
  check(whole.error == pieces.error);
  check(whole.events == pieces.events);
  for (const Seen& e : whole.events) {
    if (e.kind == Event::Kind::kText || e.kind == Event::Kind::kBinary) round_trip(e, options);
  }
  return 0;
}
