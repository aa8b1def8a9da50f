#include "h1/request_parser.hpp"

#include <cstring>

#include "h1/field_line.hpp"
#include "http/syntax.hpp"

namespace rws::h1 {
namespace syntax = http::syntax;
namespace {

// RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request-line.
constexpr int kMaxLeadingBlankLines = 8;

// Validates the characters of an origin-form path/query (RFC 3986 pchar, "/" and "?", with
// well-formed pct-encoding).
bool valid_target_chars(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (!syntax::kTargetChar[c]) return false;
    if (c == '%') {
      if (i + 2 >= s.size() || !syntax::is_hexdig(s[i + 1]) || !syntax::is_hexdig(s[i + 2])) {
        return false;
      }
      i += 2;
    }
  }
  return true;
}

// authority = [ userinfo "@" ] host [ ":" port ] — rws accepts host [":" port] only, where host
// is a reg-name, IPv4 address or bracketed IP-literal.
bool valid_authority(std::string_view s, bool require_port) {
  std::string_view host = s;
  std::string_view port;
  if (!s.empty() && s.front() == '[') {
    std::size_t close = s.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : s.substr(1, close - 1)) {
      if (!(syntax::is_hexdig(c) || c == ':' || c == '.')) return false;
    }
    std::string_view rest = s.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      port = rest.substr(1);
    } else if (require_port) {
      return false;
    }
    host = {};
  } else {
    std::size_t colon = s.rfind(':');
    if (colon != std::string_view::npos) {
      host = s.substr(0, colon);
      port = s.substr(colon + 1);
    } else if (require_port) {
      return false;
    }
    for (std::size_t i = 0; i < host.size(); ++i) {
      char c = host[i];
      bool ok = syntax::kTargetChar[static_cast<unsigned char>(c)] && c != '/' && c != '?' &&
                c != ':' && c != '@';
      if (!ok) return false;
      if (c == '%' && (i + 2 >= host.size() || !syntax::is_hexdig(host[i + 1]) ||
                       !syntax::is_hexdig(host[i + 2]))) {
        return false;
      }
    }
  }
  if (require_port && port.empty()) return false;
  if (port.size() > 5) return false;
  for (char c : port) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool starts_with_icase(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && http::iequals(s.substr(0, prefix.size()), prefix);
}

}  // namespace

void RequestParser::reset() noexcept {
  state_ = State::kStart;
  scan_pos_ = 0;
  line_start_ = 0;
  head_size_ = 0;
  // Cleared in place (the head has usually just been moved out): assigning a fresh RequestHead
  // would construct, move-assign and destroy six strings and a field list on every request.
  head_.method.clear();
  head_.target.clear();
  head_.path.clear();
  head_.query.clear();
  head_.authority.clear();
  head_.scheme.clear();
  head_.version = 11;
  head_.headers.clear();
  info_ = MessageInfo{};
  error_ = ParseError{};
}

bool RequestParser::reject(int status, std::string_view reason) {
  state_ = State::kFailed;
  error_ = ParseError{status, reason};
  return false;
}

RequestParser::Status RequestParser::fail(int status, std::string_view reason) {
  reject(status, reason);
  return Status::kError;
}

RequestParser::Status RequestParser::parse(std::string_view input) {
  if (state_ == State::kDone) return Status::kComplete;
  if (state_ == State::kFailed) return Status::kError;

  while (scan_pos_ < input.size()) {
    const void* found = std::memchr(input.data() + scan_pos_, '\n', input.size() - scan_pos_);
    if (found == nullptr) {
      scan_pos_ = input.size();
      break;
    }
    std::size_t lf = static_cast<std::size_t>(static_cast<const char*>(found) - input.data());
    scan_pos_ = lf + 1;
    if (lf == line_start_ || input[lf - 1] != '\r') return fail(400, "bare LF in message head");
    if (lf + 1 > limits_.max_head_bytes) {
      if (state_ == State::kStart) return fail(414, "request line too long");
      return fail(431, "request header section too large");
    }
    std::string_view line = input.substr(line_start_, lf - 1 - line_start_);
    line_start_ = lf + 1;

    if (state_ == State::kStart) {
      if (line.empty()) {
        if (lf + 1 > 2 * kMaxLeadingBlankLines) return fail(400, "too many blank lines");
        continue;
      }
      if (line.size() > limits_.max_request_line) return fail(414, "request line too long");
      if (!parse_request_line(line)) return Status::kError;
      state_ = State::kFields;
      continue;
    }
    if (line.empty()) {
      head_size_ = lf + 1;
      if (!finish_head()) return Status::kError;
      state_ = State::kDone;
      return Status::kComplete;
    }
    if (head_.headers.size() >= limits_.max_fields) return fail(431, "too many header fields");
    if (!parse_field_line(line)) return Status::kError;
  }

  if (state_ == State::kStart && input.size() - line_start_ > limits_.max_request_line) {
    return fail(414, "request line too long");
  }
  if (input.size() > limits_.max_head_bytes) {
    if (state_ == State::kStart) return fail(414, "request line too long");
    return fail(431, "request header section too large");
  }
  return Status::kIncomplete;
}

bool RequestParser::parse_request_line(std::string_view line) {
  std::size_t sp1 = line.find(' ');
  if (sp1 == std::string_view::npos) return reject(400, "malformed request line");
  std::string_view method = line.substr(0, sp1);
  std::size_t sp2 = line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return reject(400, "malformed request line");
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  std::string_view version = line.substr(sp2 + 1);

  if (!syntax::is_token(method)) return reject(400, "invalid method");
  if (target.empty()) return reject(400, "malformed request line");

  // HTTP-version = "HTTP/" DIGIT "." DIGIT (case-sensitive)
  if (version.size() != 8 || version.substr(0, 5) != "HTTP/" || version[6] != '.' ||
      version[5] < '0' || version[5] > '9' || version[7] < '0' || version[7] > '9') {
    return reject(400, "invalid HTTP version");
  }
  if (version[5] != '1') return reject(505, "HTTP version not supported");
  // A higher minor version is answered as the highest we implement (RFC 9110 §6.2).
  head_.version = version[7] == '0' ? 10 : 11;

  head_.method.assign(method);
  head_.target.assign(target);

  if (target == "*") {
    if (method != "OPTIONS") return reject(400, "asterisk-form target is only for OPTIONS");
    head_.path = "*";
    return true;
  }
  if (method == "CONNECT") {
    if (!valid_authority(target, /*require_port=*/true)) {
      return reject(400, "CONNECT needs an authority-form target");
    }
    head_.authority.assign(target);
    return true;
  }
  if (target.front() == '/') {
    if (!valid_target_chars(target)) return reject(400, "invalid request target");
    std::size_t q = target.find('?');
    head_.path.assign(target.substr(0, q));
    if (q != std::string_view::npos) head_.query.assign(target.substr(q + 1));
    return true;
  }
  // absolute-form: only http and https URIs are served.
  std::string_view rest;
  if (starts_with_icase(target, "http://")) {
    head_.scheme = "http";
    rest = target.substr(7);
  } else if (starts_with_icase(target, "https://")) {
    head_.scheme = "https";
    rest = target.substr(8);
  } else {
    return reject(400, "invalid request target");
  }
  std::size_t end = rest.find_first_of("/?");
  std::string_view authority = rest.substr(0, end);
  std::string_view path_and_query = end == std::string_view::npos ? "" : rest.substr(end);
  if (authority.empty() || !valid_authority(authority, false) ||
      !valid_target_chars(path_and_query)) {
    return reject(400, "invalid request target");
  }
  head_.authority.assign(authority);
  std::size_t q = path_and_query.find('?');
  head_.path.assign(path_and_query.substr(0, q));
  if (head_.path.empty()) head_.path = "/";
  if (q != std::string_view::npos) head_.query.assign(path_and_query.substr(q + 1));
  return true;
}

bool RequestParser::parse_field_line(std::string_view line) {
  std::string_view name;
  std::string_view value;
  std::string_view error;
  if (!split_field_line(line, name, value, error)) return reject(400, error);
  // One allocation for a typical request instead of one per doubling.
  if (head_.headers.empty()) head_.headers.reserve(kTypicalFields);
  head_.headers.add(name, value);
  return true;
}

namespace {

// The fields finish_head() and check_framing() look at, counted in one pass over the head.
struct FieldCounts {
  std::size_t host = 0;
  std::size_t connection = 0;
  std::size_t upgrade = 0;
  std::size_t expect = 0;
  std::size_t content_length = 0;
  std::size_t transfer_encoding = 0;
  std::string_view first_host;
  std::string_view first_connection;
  std::string_view first_expect;
  std::string_view first_content_length;
};

FieldCounts count_fields(const http::Headers& h) {
  FieldCounts c;
  auto note = [](std::size_t& n, std::string_view& first, const std::string& value) {
    if (n++ == 0) first = value;
  };
  for (const http::Field& f : h) {
    switch (f.name.size()) {
      case 4:
        if (http::iequals(f.name, "host")) note(c.host, c.first_host, f.value);
        break;
      case 6:
        if (http::iequals(f.name, "expect")) note(c.expect, c.first_expect, f.value);
        break;
      case 7:
        if (http::iequals(f.name, "upgrade")) ++c.upgrade;
        break;
      case 10:
        if (http::iequals(f.name, "connection")) {
          note(c.connection, c.first_connection, f.value);
        }
        break;
      case 14:
        if (http::iequals(f.name, "content-length")) {
          note(c.content_length, c.first_content_length, f.value);
        }
        break;
      case 17:
        if (http::iequals(f.name, "transfer-encoding")) ++c.transfer_encoding;
        break;
      default:
        break;
    }
  }
  return c;
}

}  // namespace

bool RequestParser::finish_head() {
  const http::Headers& h = head_.headers;
  const FieldCounts counts = count_fields(h);

  if (counts.host > 1) return reject(400, "more than one Host field");
  if (counts.host == 0 && head_.version == 11) return reject(400, "missing Host field");
  if (counts.host == 1) {
    std::string_view host = counts.first_host;
    if (!host.empty() && !valid_authority(host, false)) return reject(400, "invalid Host");
    if (head_.authority.empty()) head_.authority.assign(host);
  }
  if (head_.scheme.empty()) head_.scheme = "http";

  // A list split over several fields is the same list as their joined value (RFC 9110 §5.3).
  const std::string joined_connection =
      counts.connection > 1 ? h.joined("connection") : std::string();
  const std::string_view connection =
      counts.connection > 1 ? std::string_view(joined_connection) : counts.first_connection;
  if (head_.version == 10) {
    info_.keep_alive = http::list_contains(connection, "keep-alive");
  }
  if (http::list_contains(connection, "close")) info_.keep_alive = false;
  info_.upgrade = http::list_contains(connection, "upgrade") && counts.upgrade > 0;

  if (counts.expect > 0) {
    const std::string joined_expect = counts.expect > 1 ? h.joined("expect") : std::string();
    const std::string_view expect =
        counts.expect > 1 ? std::string_view(joined_expect) : counts.first_expect;
    if (http::iequals(syntax::trim_ows(expect), "100-continue")) {
      // RFC 9110 §10.1.1: a 100-continue expectation in an HTTP/1.0 request is ignored.
      info_.expect_continue = head_.version == 11;
    } else {
      info_.unsupported_expectation = true;
    }
  }
  return check_framing(counts.transfer_encoding, counts.content_length,
                       counts.first_content_length);
}

// RFC 9112 §6.1–§6.3: decide how the body is delimited, rejecting every ambiguous case.
bool RequestParser::check_framing(std::size_t te_fields, std::size_t cl_fields,
                                  std::string_view content_length) {
  const http::Headers& h = head_.headers;
  if (head_.method == "CONNECT") {
    // RFC 9110 §9.3.6: CONNECT has no content; what follows the head is tunnel data, which a
    // server that does not open the tunnel must not read as requests.
    if (te_fields + cl_fields > 0) return reject(400, "CONNECT request with content");
    info_.keep_alive = false;
    return true;
  }

  if (te_fields > 0) {
    if (cl_fields > 0) return reject(400, "both Transfer-Encoding and Content-Length");
    if (head_.version == 10) return reject(400, "Transfer-Encoding in an HTTP/1.0 request");
    std::string codings = h.joined("transfer-encoding");
    std::string_view rest = codings;
    bool chunked_last = false;
    bool other = false;
    int count = 0;
    while (true) {
      std::size_t comma = rest.find(',');
      std::string_view item = syntax::trim_ows(rest.substr(0, comma));
      if (!item.empty()) {
        if (chunked_last) return reject(400, "chunked is not the final transfer coding");
        if (http::iequals(item, "chunked")) {
          chunked_last = true;
        } else if (syntax::is_token(item)) {
          other = true;
        } else {
          return reject(400, "invalid Transfer-Encoding");
        }
        ++count;
      }
      if (comma == std::string_view::npos) break;
      rest.remove_prefix(comma + 1);
    }
    if (count == 0) return reject(400, "empty Transfer-Encoding");
    if (!chunked_last) return reject(400, "chunked is not the final transfer coding");
    if (other) return reject(501, "unsupported transfer coding");
    info_.framing = BodyFraming::kChunked;
    return true;
  }
  if (cl_fields > 1) return reject(400, "more than one Content-Length field");
  if (cl_fields == 1) {
    std::uint64_t length = 0;
    if (!syntax::parse_decimal(content_length, length)) {
      return reject(400, "invalid Content-Length");
    }
    info_.content_length = length;
    info_.framing = length > 0 ? BodyFraming::kContentLength : BodyFraming::kNone;
  }
  return true;
}

}  // namespace rws::h1
