#pragma once
// Sans-I/O WebSocket receiver (RFC 6455 §5, §7): decodes frames from a byte stream fed in
// arbitrary pieces, unmasks them, reassembles fragmented messages and checks everything the
// protocol requires of the peer. Control frames may arrive between the fragments of a message.
//
// Lifecycle: call parse() with the bytes received and not yet consumed. It consumes at most up
// to the end of one event and says how much it took; the caller drops those bytes and calls again
// with the rest (and later with more). kIncomplete means all given bytes were consumed and more
// are needed. An event's views stay valid until the next parse() call. After kError the parser
// is dead: the caller sends a close frame with error().code and closes the connection.
//
// Text messages are UTF-8-checked incrementally (a code point may span frames), so an invalid
// text fails early with 1007. Messages whose first frame has RSV1 (permessage-deflate, allowed
// only with `allow_rsv1`) are reported compressed and are not UTF-8-checked: the caller inflates
// and checks them.
//
// Not enforced here: that nothing follows a close frame (the caller stops reading after kClose,
// §5.5.1). A length not written in its shortest form is accepted, as most peers do.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "ws/frame.hpp"
#include "ws/utf8.hpp"

namespace rws::ws {

struct ParserOptions {
  Role role = Role::kServer;
  bool allow_rsv1 = false;                       // permessage-deflate negotiated
  std::uint64_t max_frame_size = 1 << 20;        // payload bytes of one frame → 1009
  std::uint64_t max_message_size = 16ULL << 20;  // payload bytes of one assembled message → 1009
};

struct Event {
  enum class Kind : std::uint8_t { kText, kBinary, kPing, kPong, kClose };
  Kind kind = Kind::kText;
  bool compressed = false;  // kText/kBinary: RSV1 was set on the first frame
  // The whole message (kText/kBinary), the control payload (kPing/kPong), or the close payload.
  std::string_view payload;
  // kClose: the peer's code (close_code::kNoStatus when the payload was empty) and UTF-8 reason.
  std::uint16_t close_code = close_code::kNoStatus;
  std::string_view close_reason;
};

class FrameParser {
 public:
  enum class Status : std::uint8_t { kIncomplete, kEvent, kError };

  explicit FrameParser(ParserOptions options = {}) : options_(options) {}

  // Consumes a prefix of `input` (its length stored in `consumed`).
  Status parse(std::string_view input, std::size_t& consumed);

  // After kEvent.
  const Event& event() const noexcept { return event_; }
  // After kError.
  const Error& error() const noexcept { return error_; }

 private:
  enum class State : std::uint8_t { kHeader, kPayload, kFailed };

  Status fail(std::uint16_t code, std::string_view reason);
  Status check_first_bytes();
  Status check_length();
  Status finish_frame();
  Status finish_close();

  ParserOptions options_;
  State state_ = State::kHeader;

  // The frame being decoded.
  std::uint8_t header_[14] = {};
  std::size_t header_have_ = 0;
  std::size_t header_need_ = 2;
  bool fin_ = false;
  bool masked_ = false;
  Opcode opcode_ = Opcode::kContinuation;
  MaskKey mask_ = {};
  std::uint64_t length_ = 0;
  std::uint64_t received_ = 0;  // payload bytes of this frame so far

  // The message being assembled (data frames), and the current control frame's payload.
  bool in_message_ = false;
  bool message_text_ = false;
  bool message_compressed_ = false;
  std::string message_;
  std::string control_;
  Utf8Validator utf8_;
  bool clear_message_ = false;  // the last event handed out message_

  Event event_;
  Error error_;
};

}  // namespace rws::ws
