#include "app/multipart_parser.hpp"

#include "h1/field_line.hpp"
#include "http/syntax.hpp"

namespace rws {
namespace syntax = http::syntax;

MultipartParser::MultipartParser(std::string boundary, std::size_t max_header_bytes,
                                 std::size_t max_parts)
    : dash_boundary_("--" + boundary),
      delimiter_("\r\n--" + boundary),
      max_header_bytes_(max_header_bytes),
      max_parts_(max_parts) {}

MultipartParser::Event MultipartParser::fail(std::string_view reason, bool limit) {
  state_ = State::kFailed;
  error_ = reason;
  limit_exceeded_ = limit;
  return Event::kError;
}

bool MultipartParser::parse_headers(std::string_view block) {
  headers_.clear();
  while (!block.empty()) {
    std::size_t eol = block.find("\r\n");
    std::string_view line = block.substr(0, eol);
    block = eol == std::string_view::npos ? std::string_view() : block.substr(eol + 2);
    std::string_view name;
    std::string_view value;
    std::string_view error;
    if (!h1::split_field_line(line, name, value, error)) {
      error_ = error;
      return false;
    }
    headers_.add(name, value);
  }
  return true;
}

MultipartParser::Event MultipartParser::next(std::string_view input, bool eof,
                                             std::size_t& consumed, std::string_view& data) {
  consumed = 0;
  data = {};
  std::size_t pos = 0;
  for (;;) {
    std::string_view rest = input.substr(pos);
    switch (state_) {
      case State::kFailed:
        return Event::kError;
      case State::kPreamble: {
        // The first delimiter may open the body without the CRLF that precedes later ones.
        if (at_start_) {
          std::size_t n = std::min(rest.size(), dash_boundary_.size());
          if (rest.substr(0, n) == std::string_view(dash_boundary_).substr(0, n)) {
            if (n < dash_boundary_.size()) {
              if (eof) return fail("no multipart boundary in the body");
              return Event::kNeedMore;
            }
            pos += dash_boundary_.size();
            at_start_ = false;
            state_ = State::kAfterDelimiter;
            continue;
          }
        }
        std::size_t at = rest.find(delimiter_);
        if (at != std::string_view::npos) {
          pos += at + delimiter_.size();
          at_start_ = false;
          state_ = State::kAfterDelimiter;
          continue;
        }
        if (eof) return fail("no multipart boundary in the body");
        // Discard the preamble but what could be the start of a delimiter.
        std::size_t keep = std::min(rest.size(), delimiter_.size() - 1);
        consumed = pos + rest.size() - keep;
        if (consumed > 0) at_start_ = false;
        return Event::kNeedMore;
      }
      case State::kAfterDelimiter: {
        if (rest.size() < 2) {
          if (eof) return fail("body ended after a boundary");
          consumed = pos;
          return Event::kNeedMore;
        }
        if (rest.substr(0, 2) == "--") {
          state_ = State::kEpilogue;
          consumed = pos + 2;
          return Event::kEnd;
        }
        std::size_t i = 0;
        while (i < rest.size() && syntax::is_ows(rest[i]))
          ++i;  // transport padding
        if (rest.size() < i + 2) {
          if (eof || i > 256) return fail("malformed boundary line");
          consumed = pos;
          return Event::kNeedMore;
        }
        if (rest.substr(i, 2) != "\r\n") return fail("boundary not followed by CRLF");
        if (++parts_ > max_parts_) return fail("too many parts", true);
        pos += i + 2;
        state_ = State::kHeaders;
        continue;
      }
      case State::kHeaders: {
        std::string_view block;
        std::size_t used = 0;
        if (rest.substr(0, 2) == "\r\n") {
          used = 2;  // no header fields at all
        } else {
          std::size_t end = rest.find("\r\n\r\n");
          if (end == std::string_view::npos) {
            if (rest.size() > max_header_bytes_) return fail("part header too large", true);
            if (eof) return fail("body ended inside part headers");
            consumed = pos;
            return Event::kNeedMore;
          }
          if (end > max_header_bytes_) return fail("part header too large", true);
          block = rest.substr(0, end);
          used = end + 4;
        }
        if (!parse_headers(block)) return fail(error_);
        consumed = pos + used;
        state_ = State::kData;
        return Event::kPartBegin;
      }
      case State::kData: {
        std::size_t at = rest.find(delimiter_);
        if (at == 0) {
          consumed = pos + delimiter_.size();
          state_ = State::kAfterDelimiter;
          return Event::kPartEnd;
        }
        std::size_t safe;
        if (at != std::string_view::npos) {
          safe = at;
        } else if (rest.size() >= delimiter_.size()) {
          safe = rest.size() - (delimiter_.size() - 1);  // the tail may start a delimiter
        } else {
          if (eof) return fail("body ended inside a part");
          consumed = pos;
          return Event::kNeedMore;
        }
        data = rest.substr(0, safe);
        consumed = pos + safe;
        return Event::kData;
      }
      case State::kEpilogue:
        consumed = input.size();
        return Event::kEnd;
    }
  }
}

std::optional<std::string> header_parameter(std::string_view value, std::string_view name) {
  std::size_t semi = value.find(';');
  while (semi != std::string_view::npos) {
    value.remove_prefix(semi + 1);
    value = syntax::trim_ows(value);
    std::size_t eq = value.find('=');
    if (eq == std::string_view::npos) return std::nullopt;
    std::string_view key = syntax::trim_ows(value.substr(0, eq));
    std::string_view rest = syntax::trim_ows(value.substr(eq + 1));
    std::string parsed;
    if (!rest.empty() && rest.front() == '"') {
      std::size_t n = syntax::quoted_string_length(rest);
      if (n == 0) return std::nullopt;
      for (std::size_t i = 1; i + 1 < n; ++i) {
        if (rest[i] == '\\') ++i;
        parsed += rest[i];
      }
      rest.remove_prefix(n);
      semi = rest.find(';');
    } else {
      semi = rest.find(';');
      parsed = std::string(syntax::trim_ows(rest.substr(0, semi)));
    }
    if (http::iequals(key, name)) return parsed;
    value = rest;
    semi = value.find(';');
  }
  return std::nullopt;
}

std::string multipart_boundary(std::string_view content_type) {
  std::string_view media = syntax::trim_ows(content_type.substr(0, content_type.find(';')));
  if (!http::iequals(media, "multipart/form-data")) return {};
  std::optional<std::string> boundary = header_parameter(content_type, "boundary");
  // RFC 2046 §5.1.1: 1 to 70 characters, not ending in a space.
  if (!boundary || boundary->empty() || boundary->size() > 70 || boundary->back() == ' ') {
    return {};
  }
  return *boundary;
}

}  // namespace rws
