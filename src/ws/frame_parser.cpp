#include "ws/frame_parser.hpp"

#include <algorithm>

namespace rws::ws {

namespace {

bool is_known_opcode(std::uint8_t op) noexcept {
  return op <= 0x2 || (op >= 0x8 && op <= 0xA);
}

}  // namespace

FrameParser::Status FrameParser::fail(std::uint16_t code, std::string_view reason) {
  state_ = State::kFailed;
  error_ = Error{code, reason};
  return Status::kError;
}

// First two bytes: flags, opcode, mask bit and the 7-bit length; everything that can be judged
// before the extended length and the key arrive is judged here.
FrameParser::Status FrameParser::check_first_bytes() {
  const std::uint8_t b0 = header_[0];
  const std::uint8_t b1 = header_[1];
  fin_ = (b0 & 0x80) != 0;
  const bool rsv1 = (b0 & 0x40) != 0;
  const std::uint8_t op = b0 & 0x0F;
  masked_ = (b1 & 0x80) != 0;
  const std::uint8_t len7 = b1 & 0x7F;

  if ((b0 & 0x30) != 0) return fail(close_code::kProtocolError, "RSV2/RSV3 set");
  if (!is_known_opcode(op)) return fail(close_code::kProtocolError, "reserved opcode");
  opcode_ = static_cast<Opcode>(op);
  if (options_.role == Role::kServer && !masked_) {
    return fail(close_code::kProtocolError, "client frame not masked");
  }
  if (options_.role == Role::kClient && masked_) {
    return fail(close_code::kProtocolError, "server frame masked");
  }
  if (is_control(opcode_)) {
    if (rsv1) return fail(close_code::kProtocolError, "RSV1 set on a control frame");
    if (!fin_) return fail(close_code::kProtocolError, "fragmented control frame");
    if (len7 > 125) return fail(close_code::kProtocolError, "control frame payload over 125 bytes");
  } else if (opcode_ == Opcode::kContinuation) {
    if (!in_message_) return fail(close_code::kProtocolError, "continuation without a message");
    if (rsv1) return fail(close_code::kProtocolError, "RSV1 set on a continuation frame");
  } else {
    if (in_message_) return fail(close_code::kProtocolError, "new message inside a fragmented one");
    if (rsv1 && !options_.allow_rsv1) {
      return fail(close_code::kProtocolError, "RSV1 set without a negotiated extension");
    }
    in_message_ = true;
    message_text_ = opcode_ == Opcode::kText;
    message_compressed_ = rsv1;
    utf8_.reset();
  }
  header_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + (masked_ ? 4 : 0);
  return Status::kIncomplete;
}

// Whole header present: decode the length and key, apply the size limits.
FrameParser::Status FrameParser::check_length() {
  const std::uint8_t len7 = header_[1] & 0x7F;
  std::size_t pos = 2;
  if (len7 == 126) {
    length_ = (std::uint64_t{header_[2]} << 8) | header_[3];
    pos = 4;
  } else if (len7 == 127) {
    length_ = 0;
    for (std::size_t i = 2; i < 10; ++i)
      length_ = (length_ << 8) | header_[i];
    if ((length_ >> 63) != 0)
      return fail(close_code::kProtocolError, "64-bit length with high bit set");
    pos = 10;
  } else {
    length_ = len7;
  }
  if (masked_) std::copy_n(header_ + pos, 4, mask_.begin());
  if (length_ > options_.max_frame_size) return fail(close_code::kMessageTooBig, "frame too big");
  if (!is_control(opcode_) && length_ > options_.max_message_size - message_.size()) {
    return fail(close_code::kMessageTooBig, "message too big");
  }
  received_ = 0;
  if (is_control(opcode_)) control_.clear();
  return Status::kIncomplete;
}

FrameParser::Status FrameParser::finish_close() {
  event_ = Event{};
  event_.kind = Event::Kind::kClose;
  event_.payload = control_;
  if (control_.empty()) return Status::kEvent;
  if (control_.size() == 1) return fail(close_code::kProtocolError, "close payload of one byte");
  const auto code = static_cast<std::uint16_t>((static_cast<std::uint8_t>(control_[0]) << 8) |
                                               static_cast<std::uint8_t>(control_[1]));
  if (!is_sendable_close_code(code)) return fail(close_code::kProtocolError, "invalid close code");
  std::string_view reason = std::string_view(control_).substr(2);
  if (!is_valid_utf8(reason)) return fail(close_code::kInvalidPayload, "close reason not UTF-8");
  event_.close_code = code;
  event_.close_reason = reason;
  return Status::kEvent;
}

// The frame's payload is complete.
FrameParser::Status FrameParser::finish_frame() {
  state_ = State::kHeader;
  header_have_ = 0;
  header_need_ = 2;
  switch (opcode_) {
    case Opcode::kClose:
      return finish_close();
    case Opcode::kPing:
    case Opcode::kPong:
      event_ = Event{};
      event_.kind = opcode_ == Opcode::kPing ? Event::Kind::kPing : Event::Kind::kPong;
      event_.payload = control_;
      return Status::kEvent;
    default:
      break;
  }
  if (!fin_) return Status::kIncomplete;
  if (message_text_ && !message_compressed_ && !utf8_.complete()) {
    return fail(close_code::kInvalidPayload, "text message ends inside a code point");
  }
  in_message_ = false;
  event_ = Event{};
  event_.kind = message_text_ ? Event::Kind::kText : Event::Kind::kBinary;
  event_.compressed = message_compressed_;
  event_.payload = message_;
  clear_message_ = true;
  return Status::kEvent;
}

FrameParser::Status FrameParser::parse(std::string_view input, std::size_t& consumed) {
  consumed = 0;
  if (state_ == State::kFailed) return Status::kError;
  if (clear_message_) {
    message_.clear();
    clear_message_ = false;
  }
  while (true) {
    if (state_ == State::kHeader) {
      while (header_have_ < header_need_ && consumed < input.size()) {
        header_[header_have_++] = static_cast<std::uint8_t>(input[consumed++]);
        if (header_have_ == 2 && check_first_bytes() == Status::kError) return Status::kError;
      }
      if (header_have_ < header_need_) return Status::kIncomplete;
      if (check_length() == Status::kError) return Status::kError;
      state_ = State::kPayload;
    }
    // kPayload: copy what is available into the frame's buffer and unmask it there.
    const bool control = is_control(opcode_);
    std::string& target = control ? control_ : message_;
    const auto take = static_cast<std::size_t>(
        std::min<std::uint64_t>(length_ - received_, input.size() - consumed));
    if (take > 0) {
      const std::size_t start = target.size();
      target.append(input.substr(consumed, take));
      std::span<char> piece(target.data() + start, take);
      if (masked_) apply_mask(piece, mask_, received_);
      consumed += take;
      received_ += take;
      if (!control && message_text_ && !message_compressed_ &&
          !utf8_.feed(std::string_view(piece.data(), piece.size()))) {
        return fail(close_code::kInvalidPayload, "text message not UTF-8");
      }
    }
    if (received_ < length_) return Status::kIncomplete;
    const Status s = finish_frame();
    if (s != Status::kIncomplete) return s;
  }
}

}  // namespace rws::ws
