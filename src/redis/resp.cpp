#include "redis/resp.hpp"

#include <charconv>

namespace rws::redis {
namespace {

// A position in the input; every read checks the end first.
struct Cursor {
  std::string_view in;
  std::size_t pos = 0;
};

// The line at the cursor without its CRLF; kIncomplete until the CRLF is there. A bare CR or LF
// inside the line is a protocol error.
ParseStatus read_line(Cursor& c, std::string_view& line) {
  const std::size_t end = c.in.find('\n', c.pos);
  if (end == std::string_view::npos) {
    const std::string_view partial = c.in.substr(c.pos);
    if (partial.size() > kMaxLine + 1) return ParseStatus::kError;  // the line and its CR
    const std::size_t cr = partial.find('\r');
    if (cr != std::string_view::npos && cr + 1 < partial.size()) return ParseStatus::kError;
    return ParseStatus::kIncomplete;
  }
  if (end == c.pos || c.in[end - 1] != '\r' || end - c.pos - 1 > kMaxLine) {
    return ParseStatus::kError;
  }
  line = c.in.substr(c.pos, end - c.pos - 1);
  if (line.find('\r') != std::string_view::npos) return ParseStatus::kError;
  c.pos = end + 1;
  return ParseStatus::kComplete;
}

// A signed decimal integer: optional '-', then digits, nothing else.
bool parse_integer(std::string_view text, std::int64_t& out) {
  if (text.empty() || text == "-") return false;
  const char* begin = text.data();
  if (text.front() == '+') return false;
  auto [end, ec] = std::from_chars(begin, begin + text.size(), out);
  return ec == std::errc() && end == begin + text.size();
}

ParseStatus parse_at(Cursor& c, Reply& out, std::size_t depth) {
  if (c.pos >= c.in.size()) return ParseStatus::kIncomplete;
  const char type = c.in[c.pos++];
  if (std::string_view("+-:$*").find(type) == std::string_view::npos) return ParseStatus::kError;
  std::string_view line;
  if (ParseStatus s = read_line(c, line); s != ParseStatus::kComplete) return s;
  switch (type) {
    case '+':
      out = Reply{Reply::Type::kSimple, std::string(line), 0, {}};
      return ParseStatus::kComplete;
    case '-':
      out = Reply{Reply::Type::kError, std::string(line), 0, {}};
      return ParseStatus::kComplete;
    case ':': {
      std::int64_t value = 0;
      if (!parse_integer(line, value)) return ParseStatus::kError;
      out = Reply{Reply::Type::kInteger, {}, value, {}};
      return ParseStatus::kComplete;
    }
    case '$': {
      std::int64_t size = 0;
      if (!parse_integer(line, size) || size < -1) return ParseStatus::kError;
      if (size == -1) {
        out = Reply{};
        return ParseStatus::kComplete;
      }
      if (static_cast<std::uint64_t>(size) > kMaxBulk) return ParseStatus::kError;
      const std::size_t n = static_cast<std::size_t>(size);
      const std::size_t available = c.in.size() - c.pos;
      // The CRLF after the data must be exactly that, as soon as it is visible.
      if (available > n && c.in[c.pos + n] != '\r') return ParseStatus::kError;
      if (available > n + 1 && c.in[c.pos + n + 1] != '\n') return ParseStatus::kError;
      if (available < n + 2) return ParseStatus::kIncomplete;
      out = Reply{Reply::Type::kBulk, std::string(c.in.substr(c.pos, n)), 0, {}};
      c.pos += n + 2;
      return ParseStatus::kComplete;
    }
    case '*': {
      std::int64_t count = 0;
      if (!parse_integer(line, count) || count < -1) return ParseStatus::kError;
      if (count == -1) {
        out = Reply{};
        return ParseStatus::kComplete;
      }
      if (static_cast<std::uint64_t>(count) > kMaxElements || depth >= kMaxDepth) {
        return ParseStatus::kError;
      }
      Reply array{Reply::Type::kArray, {}, 0, {}};
      array.elements.reserve(static_cast<std::size_t>(count));
      for (std::int64_t i = 0; i < count; ++i) {
        Reply element;
        if (ParseStatus s = parse_at(c, element, depth + 1); s != ParseStatus::kComplete) return s;
        array.elements.push_back(std::move(element));
      }
      out = std::move(array);
      return ParseStatus::kComplete;
    }
    default:
      return ParseStatus::kError;
  }
}

}  // namespace

ParseStatus parse_reply(std::string_view input, Reply& out, std::size_t& used) {
  Cursor c{input, 0};
  const ParseStatus s = parse_at(c, out, 0);
  if (s == ParseStatus::kComplete) used = c.pos;
  return s;
}

void append_command(std::string& out, std::span<const std::string_view> args) {
  out += '*';
  out += std::to_string(args.size());
  out += "\r\n";
  for (std::string_view arg : args) {
    out += '$';
    out += std::to_string(arg.size());
    out += "\r\n";
    out.append(arg);
    out += "\r\n";
  }
}

}  // namespace rws::redis
