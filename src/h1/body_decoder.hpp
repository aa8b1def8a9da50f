#pragma once
// Sans-I/O decoder for an HTTP/1.1 message body framed by Content-Length or by the chunked
// transfer coding (RFC 9112 §7.1), with hard limits on every part of the chunked syntax.
//
// Usage: decode() is called with whatever bytes follow the head; it consumes a prefix and may
// return a view of body data inside that prefix. The caller drops the consumed bytes and calls
// again (with more input when the decoder needs it) until done() or an error.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <rws/http/headers.hpp>

namespace rws::h1 {

struct ChunkedLimits {
  std::size_t max_extension_bytes = 4096;  // chunk-ext of one chunk
  std::size_t max_trailer_bytes = 64 * 1024;
  std::size_t max_trailer_fields = 100;
};

class BodyDecoder {
 public:
  struct Step {
    std::size_t consumed = 0;
    std::string_view data;  // body bytes inside the consumed prefix (may be empty)
  };
  enum class Status : std::uint8_t { kOk, kError };

  static BodyDecoder content_length(std::uint64_t length);
  static BodyDecoder chunked(ChunkedLimits limits = {});
  // A response body delimited by the end of the connection (RFC 9112 §6.3 rule 8): every byte
  // is data until the caller reports the end with end_of_input().
  static BodyDecoder until_close();
  // The connection ended: completes an until_close() body; for the other framings the body was
  // cut short and decode() is not done.
  void end_of_input() noexcept {
    if (state_ == State::kUntilClose) state_ = State::kDone;
  }
  bool delimited_by_close() const noexcept { return state_ == State::kUntilClose; }

  // Consumes a prefix of `input`. With kOk, `step` says how much and which data it held; a step
  // that consumed nothing means the decoder needs more input. Never reads past the body's end.
  Status decode(std::string_view input, Step& step);

  bool done() const noexcept { return state_ == State::kDone; }
  // Why decode() failed; a static string.
  std::string_view error() const noexcept { return error_; }
  // Trailer fields of a chunked body (after done()).
  http::Headers& trailers() noexcept { return trailers_; }
  // Body bytes still expected in the current chunk or Content-Length body.
  std::uint64_t remaining_in_chunk() const noexcept { return remaining_; }

 private:
  enum class State : std::uint8_t {
    kLength,       // Content-Length body
    kUntilClose,   // close-delimited body
    kSize,         // chunk-size digits
    kExtension,    // after the size: chunk-ext up to CR
    kSizeLf,       // expecting LF of the chunk-size line
    kData,         // chunk-data
    kDataCr,       // expecting CR after chunk-data
    kDataLf,       // expecting LF after chunk-data
    kTrailerLine,  // a trailer field line (or the final empty line)
    kTrailerLf,    // expecting LF ending a trailer line
    kDone,
    kFailed,
  };

  Status fail(std::string_view reason);
  bool finish_size_line();
  bool finish_trailer_line();

  State state_ = State::kDone;
  ChunkedLimits limits_;
  std::uint64_t remaining_ = 0;
  int size_digits_ = 0;
  std::string line_;  // chunk-ext or trailer line being assembled
  std::size_t trailer_bytes_ = 0;
  http::Headers trailers_;
  std::string_view error_;
};

}  // namespace rws::h1
