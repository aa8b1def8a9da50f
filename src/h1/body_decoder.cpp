#include "h1/body_decoder.hpp"

#include <algorithm>

#include "h1/field_line.hpp"
#include "http/syntax.hpp"

namespace rws::h1 {
namespace syntax = http::syntax;
namespace {

constexpr int kMaxSizeDigits = 16;  // 16 hex digits fill a uint64_t

std::string_view skip_ows(std::string_view s) {
  while (!s.empty() && syntax::is_ows(s.front()))
    s.remove_prefix(1);
  return s;
}

std::string_view take_token(std::string_view& s) {
  std::size_t n = 0;
  while (n < s.size() && syntax::is_tchar(s[n]))
    ++n;
  std::string_view token = s.substr(0, n);
  s.remove_prefix(n);
  return token;
}

// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] )
bool valid_chunk_extension(std::string_view s) {
  while (!s.empty()) {
    s = skip_ows(s);
    if (s.empty() || s.front() != ';') return false;
    s = skip_ows(s.substr(1));
    if (take_token(s).empty()) return false;
    s = skip_ows(s);
    if (!s.empty() && s.front() == '=') {
      s = skip_ows(s.substr(1));
      if (!s.empty() && s.front() == '"') {
        std::size_t n = syntax::quoted_string_length(s);
        if (n == 0) return false;
        s.remove_prefix(n);
      } else if (take_token(s).empty()) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

BodyDecoder BodyDecoder::content_length(std::uint64_t length) {
  BodyDecoder d;
  d.remaining_ = length;
  d.state_ = length > 0 ? State::kLength : State::kDone;
  return d;
}

BodyDecoder BodyDecoder::until_close() {
  BodyDecoder d;
  d.state_ = State::kUntilClose;
  return d;
}

BodyDecoder BodyDecoder::chunked(ChunkedLimits limits) {
  BodyDecoder d;
  d.limits_ = limits;
  d.state_ = State::kSize;
  return d;
}

BodyDecoder::Status BodyDecoder::fail(std::string_view reason) {
  state_ = State::kFailed;
  error_ = reason;
  return Status::kError;
}

bool BodyDecoder::finish_trailer_line() {
  std::string_view name;
  std::string_view value;
  std::string_view error;
  if (!split_field_line(line_, name, value, error)) {
    error_ = error;
    return false;
  }
  if (trailers_.size() >= limits_.max_trailer_fields) {
    error_ = "too many trailer fields";
    return false;
  }
  trailers_.add(name, value);
  return true;
}

BodyDecoder::Status BodyDecoder::decode(std::string_view input, Step& step) {
  step = Step{};
  std::size_t i = 0;
  while (i < input.size()) {
    char c = input[i];
    switch (state_) {
      case State::kUntilClose:
        step.data = input.substr(i);
        step.consumed = input.size();
        return Status::kOk;
      case State::kLength:
      case State::kData: {
        auto n = static_cast<std::size_t>(std::min<std::uint64_t>(remaining_, input.size() - i));
        step.data = input.substr(i, n);
        remaining_ -= n;
        if (remaining_ == 0) state_ = state_ == State::kLength ? State::kDone : State::kDataCr;
        step.consumed = i + n;
        return Status::kOk;
      }
      case State::kSize:
        if (syntax::is_hexdig(c)) {
          if (size_digits_ == kMaxSizeDigits) return fail("chunk size too large");
          remaining_ = remaining_ * 16 + static_cast<std::uint64_t>(syntax::hex_value(c));
          ++size_digits_;
          ++i;
        } else if (size_digits_ > 0 && c == '\r') {
          state_ = State::kSizeLf;
          ++i;
        } else if (size_digits_ > 0 && (c == ';' || syntax::is_ows(c))) {
          state_ = State::kExtension;
          line_.clear();
        } else {
          return fail("invalid chunk size");
        }
        break;
      case State::kExtension:
        if (c == '\r') {
          if (!valid_chunk_extension(line_)) return fail("invalid chunk extension");
          state_ = State::kSizeLf;
        } else if (line_.size() >= limits_.max_extension_bytes) {
          return fail("chunk extension too long");
        } else {
          line_.push_back(c);
        }
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail("chunk size line not ended by CRLF");
        ++i;
        if (remaining_ == 0) {
          state_ = State::kTrailerLine;
          line_.clear();
        } else {
          state_ = State::kData;
        }
        break;
      case State::kDataCr:
        if (c != '\r') return fail("chunk data not followed by CRLF");
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return fail("chunk data not followed by CRLF");
        state_ = State::kSize;
        size_digits_ = 0;
        ++i;
        break;
      case State::kTrailerLine:
        if (c == '\r') {
          state_ = State::kTrailerLf;
        } else if (c == '\n') {
          return fail("bare LF in trailer section");
        } else if (++trailer_bytes_ > limits_.max_trailer_bytes) {
          return fail("trailer section too large");
        } else {
          line_.push_back(c);
        }
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail("bare CR in trailer section");
        ++i;
        if (line_.empty()) {
          state_ = State::kDone;
          step.consumed = i;
          return Status::kOk;
        }
        if (!finish_trailer_line()) return fail(error_);
        line_.clear();
        state_ = State::kTrailerLine;
        break;
      case State::kDone:
        step.consumed = i;
        return Status::kOk;
      case State::kFailed:
        return Status::kError;
    }
  }
  step.consumed = i;
  return Status::kOk;
}

}  // namespace rws::h1
