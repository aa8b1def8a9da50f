#pragma once
// Sans-I/O HTTP/1.1 response head parser, for the client side (upstream connections). Same
// contract as RequestParser: feed the bytes of the current message from its first byte until
// kComplete or kError. Framing follows RFC 9112 §6.3 for the request method that was sent.

#include <cstddef>
#include <cstdint>
#include <string_view>

#include <rws/http/message_head.hpp>

#include "h1/request_parser.hpp"

namespace rws::h1 {

struct ResponseInfo {
  // kNone: no body (HEAD, 1xx, 204, 304, 2xx to CONNECT); kContentLength; kChunked; else the
  // body runs until the connection closes (until_close).
  BodyFraming framing = BodyFraming::kNone;
  bool until_close = false;
  std::uint64_t content_length = 0;
  bool keep_alive = true;  // the server keeps the connection after this response
  int version = 11;
};

class ResponseParser {
 public:
  enum class Status : std::uint8_t { kIncomplete, kComplete, kError };

  explicit ResponseParser(ParserLimits limits = {}) : limits_(limits) {}

  // `request_method` decides whether a body follows ("HEAD": never).
  Status parse(std::string_view input, std::string_view request_method);

  std::size_t head_size() const noexcept { return head_size_; }
  http::ResponseHead& head() noexcept { return head_; }
  const ResponseInfo& info() const noexcept { return info_; }
  std::string_view error() const noexcept { return error_; }
  void reset() noexcept;

 private:
  Status fail(std::string_view reason);
  bool finish(std::string_view request_method);

  // Room reserved for fields on the first one, so that a typical head grows the list once.
  static constexpr std::size_t kTypicalFields = 16;

  ParserLimits limits_;
  bool status_line_done_ = false;
  bool failed_ = false;
  bool done_ = false;
  std::size_t scan_pos_ = 0;
  std::size_t line_start_ = 0;
  std::size_t head_size_ = 0;
  http::ResponseHead head_;
  ResponseInfo info_;
  std::string_view error_;
};

}  // namespace rws::h1
