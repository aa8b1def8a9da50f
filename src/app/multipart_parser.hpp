#pragma once
// Sans-I/O multipart body parser (RFC 2046 §5.1, RFC 7578). Feed it the bytes received so far;
// it reports one event at a time and how many bytes it consumed. Content is never copied: data
// events are views into the input. Bytes that may be the start of a delimiter are held back
// (left unconsumed) until more input decides.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <rws/http/headers.hpp>

namespace rws {

class MultipartParser {
 public:
  enum class Event { kNeedMore, kPartBegin, kData, kPartEnd, kEnd, kError };

  MultipartParser(std::string boundary, std::size_t max_header_bytes, std::size_t max_parts);

  // `eof`: no more input will come. Sets `consumed`; `data` for kData.
  Event next(std::string_view input, bool eof, std::size_t& consumed, std::string_view& data);

  const http::Headers& headers() const noexcept { return headers_; }
  std::string_view error() const noexcept { return error_; }
  // Whether the error is a limit (413) rather than malformed input (400).
  bool limit_exceeded() const noexcept { return limit_exceeded_; }

 private:
  enum class State { kPreamble, kAfterDelimiter, kHeaders, kData, kEpilogue, kFailed };
  Event fail(std::string_view reason, bool limit = false);
  bool parse_headers(std::string_view block);

  std::string dash_boundary_;  // "--" + boundary
  std::string delimiter_;      // "\r\n--" + boundary
  std::size_t max_header_bytes_;
  std::size_t max_parts_;
  std::size_t parts_ = 0;
  State state_ = State::kPreamble;
  bool at_start_ = true;  // nothing consumed yet: "--boundary" may open the body
  http::Headers headers_;
  std::string_view error_;
  bool limit_exceeded_ = false;
};

// The boundary parameter of a multipart/form-data Content-Type; "" when it is not one.
std::string multipart_boundary(std::string_view content_type);

// The value of parameter `name` in a header value like `form-data; name="a"; filename="b"`.
std::optional<std::string> header_parameter(std::string_view value, std::string_view name);

}  // namespace rws
