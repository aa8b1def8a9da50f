#include "h1/response_parser.hpp"

#include <cstring>
#include <optional>

#include "h1/field_line.hpp"
#include "http/syntax.hpp"

namespace rws::h1 {
namespace syntax = http::syntax;

void ResponseParser::reset() noexcept {
  status_line_done_ = false;
  failed_ = false;
  done_ = false;
  scan_pos_ = 0;
  line_start_ = 0;
  head_size_ = 0;
  // Cleared in place: a fresh ResponseHead would construct, move-assign and destroy its string
  // and field list on every exchange.
  head_.status = 200;
  head_.reason.clear();
  head_.headers.clear();
  info_ = ResponseInfo{};
  error_ = {};
}

ResponseParser::Status ResponseParser::fail(std::string_view reason) {
  failed_ = true;
  error_ = reason;
  return Status::kError;
}

ResponseParser::Status ResponseParser::parse(std::string_view input,
                                             std::string_view request_method) {
  if (done_) return Status::kComplete;
  if (failed_) return Status::kError;
  while (scan_pos_ < input.size()) {
    const void* found = std::memchr(input.data() + scan_pos_, '\n', input.size() - scan_pos_);
    if (found == nullptr) {
      scan_pos_ = input.size();
      break;
    }
    std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(found) - input.data());
    scan_pos_ = lf + 1;
    if (lf == line_start_ || input[lf - 1] != '\r') return fail("bare LF in response head");
    if (lf + 1 > limits_.max_head_bytes) return fail("response head too large");
    std::string_view line = input.substr(line_start_, lf - 1 - line_start_);
    line_start_ = lf + 1;
    if (!status_line_done_) {
      // status-line = HTTP-version SP status-code SP [ reason-phrase ]
      if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || line[6] != '.' || line[5] != '1' ||
          line[7] < '0' || line[7] > '9' || line[8] != ' ' ||
          (line.size() > 12 && line[12] != ' ')) {
        return fail("malformed status line");
      }
      int code = 0;
      for (std::size_t i = 9; i < 12; ++i) {
        if (line[i] < '0' || line[i] > '9') return fail("malformed status code");
        code = code * 10 + (line[i] - '0');
      }
      if (code < 100) return fail("malformed status code");
      std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
      if (!syntax::is_field_value(reason)) return fail("invalid reason phrase");
      head_.status = code;
      head_.reason.assign(reason);
      info_.version = line[7] == '0' ? 10 : 11;
      info_.keep_alive = info_.version == 11;
      status_line_done_ = true;
      continue;
    }
    if (line.empty()) {
      head_size_ = lf + 1;
      if (!finish(request_method)) return Status::kError;
      done_ = true;
      return Status::kComplete;
    }
    if (head_.headers.size() >= limits_.max_fields) return fail("too many response header fields");
    std::string_view name;
    std::string_view value;
    std::string_view error;
    if (!split_field_line(line, name, value, error)) return fail(error);
    if (head_.headers.empty()) head_.headers.reserve(kTypicalFields);
    head_.headers.add(name, value);
  }
  if (input.size() > limits_.max_head_bytes) return fail("response head too large");
  return Status::kIncomplete;
}

bool ResponseParser::finish(std::string_view request_method) {
  // One pass over the fields for what framing needs; a list split over several fields is the
  // same list as their joined value (RFC 9110 §5.3).
  const http::Headers& h = head_.headers;
  bool connection_keep_alive = false;
  bool connection_close = false;
  std::size_t te = 0;
  std::size_t cl = 0;
  std::string_view last_te;   // the last Transfer-Encoding field
  std::string_view first_cl;  // the first Content-Length field
  for (const http::Field& f : h) {
    switch (f.name.size()) {
      case 10:
        if (http::iequals(f.name, "connection")) {
          connection_keep_alive =
              connection_keep_alive || http::list_contains(f.value, "keep-alive");
          connection_close = connection_close || http::list_contains(f.value, "close");
        }
        break;
      case 14:
        if (http::iequals(f.name, "content-length") && cl++ == 0) first_cl = f.value;
        break;
      case 17:
        if (http::iequals(f.name, "transfer-encoding")) {
          ++te;
          last_te = f.value;
        }
        break;
      default:
        break;
    }
  }
  if (info_.version == 10) info_.keep_alive = connection_keep_alive;
  if (connection_close) info_.keep_alive = false;

  const int status = head_.status;
  if (request_method == "HEAD" || (status >= 100 && status < 200) || status == 204 ||
      status == 304 || (request_method == "CONNECT" && status >= 200 && status < 300)) {
    info_.framing = BodyFraming::kNone;
    return true;
  }
  if (te > 0) {
    // A response may carry other codings before chunked; if chunked is not last the body runs
    // until close (RFC 9112 §6.3 rule 4). Content-Length is ignored alongside it (rule 3), but
    // such a connection is not reused. The last coding is the last element of the last field.
    std::string_view list = syntax::trim_ows(last_te);
    std::size_t comma = list.rfind(',');
    std::string_view last =
        syntax::trim_ows(comma == std::string_view::npos ? list : list.substr(comma + 1));
    if (http::iequals(last, "chunked")) {
      info_.framing = BodyFraming::kChunked;
    } else {
      info_.until_close = true;
      info_.keep_alive = false;
    }
    // With Content-Length alongside, or in an HTTP/1.0 message (RFC 9112 §6.1), the framing is
    // suspect: the connection is not reused.
    if (cl > 0 || info_.version == 10) info_.keep_alive = false;
    return true;
  }
  if (cl > 0) {
    // Several identical values are acceptable from a server (RFC 9110 §8.6); different ones are
    // an error.
    const std::string values = cl == 1 ? std::string() : h.joined("content-length");
    std::string_view rest = cl == 1 ? first_cl : std::string_view(values);
    std::optional<std::uint64_t> length;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::uint64_t v = 0;
      if (!syntax::parse_decimal(syntax::trim_ows(rest.substr(0, comma)), v) ||
          (length && *length != v)) {
        fail("invalid Content-Length in response");
        return false;
      }
      length = v;
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (!length) {
      fail("invalid Content-Length in response");
      return false;
    }
    info_.content_length = *length;
    info_.framing = *length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
    return true;
  }
  info_.until_close = true;
  info_.keep_alive = false;
  return true;
}

}  // namespace rws::h1
