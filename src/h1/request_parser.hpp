#pragma once
// Sans-I/O, strict HTTP/1.1 request head parser (RFC 9112 §2–§7, RFC 9110 §5).
//
// Lifecycle: construct with limits; call parse() with the bytes received so far for the current
// message, always starting at the message's first byte, until it returns kComplete or kError;
// then take the head and framing, and reset() for the next message. Between calls the input may
// grow (the caller appends what it reads) but its earlier bytes must not change. Each byte is
// examined once, so a slow sender cannot make parsing quadratic.
//
// Everything the parser rejects is reported with the status code a server should answer with;
// the connection must then be closed, because the framing of what follows is unknown.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <rws/http/message_head.hpp>

namespace rws::h1 {

struct ParserLimits {
  std::size_t max_request_line = 16 * 1024;  // → 414
  std::size_t max_head_bytes = 64 * 1024;    // request line + fields + CRLFs → 431
  std::size_t max_fields = 100;              // → 431
};

enum class BodyFraming : std::uint8_t { kNone, kContentLength, kChunked };

// What the head says about the message around it.
struct MessageInfo {
  BodyFraming framing = BodyFraming::kNone;
  std::uint64_t content_length = 0;      // kContentLength only
  bool keep_alive = true;                // after this exchange, per version and Connection
  bool expect_continue = false;          // HTTP/1.1 request with "Expect: 100-continue"
  bool unsupported_expectation = false;  // any other Expect value → 417
  bool upgrade = false;                  // "Connection: upgrade" with an Upgrade field
};

// A rejection: the status to answer with and a short, static explanation for logs and bodies.
struct ParseError {
  int status = 400;
  std::string_view reason;
};

class RequestParser {
 public:
  enum class Status : std::uint8_t { kIncomplete, kComplete, kError };

  explicit RequestParser(ParserLimits limits = {}) : limits_(limits) {}

  Status parse(std::string_view input);

  // After kComplete: bytes of `input` that belong to the head (the body starts there).
  std::size_t head_size() const noexcept { return head_size_; }
  http::RequestHead& head() noexcept { return head_; }
  const MessageInfo& info() const noexcept { return info_; }
  // After kError.
  const ParseError& error() const noexcept { return error_; }

  void reset() noexcept;

 private:
  // Room reserved for fields on the first one, so that a typical head grows the list once.
  static constexpr std::size_t kTypicalFields = 16;

  enum class State : std::uint8_t { kStart, kFields, kDone, kFailed };

  Status fail(int status, std::string_view reason);
  bool reject(int status, std::string_view reason);  // records the error, returns false
  bool parse_request_line(std::string_view line);
  bool parse_field_line(std::string_view line);
  bool finish_head();
  // `content_length`: the value of the first Content-Length field.
  bool check_framing(std::size_t te_fields, std::size_t cl_fields, std::string_view content_length);

  ParserLimits limits_;
  State state_ = State::kStart;
  std::size_t scan_pos_ = 0;    // next byte to examine
  std::size_t line_start_ = 0;  // first byte of the line being assembled
  std::size_t head_size_ = 0;
  http::RequestHead head_;
  MessageInfo info_;
  ParseError error_;
};

}  // namespace rws::h1
