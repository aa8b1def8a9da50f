#pragma once
// Reader for the llhttp HTTP/1 test vectors (nodejs/llhttp test/request/*.md; format and byte
// rules in shared/vectors/llhttp/SOURCE.txt). Each case is a heading, a `<!-- meta={...} -->`
// line, an ```http block with the raw message and a ```log block with the events llhttp emitted.
//
// This header only turns the Markdown into data: the bytes to parse and what llhttp reported for
// them. Judging our parser against that is llhttp_vectors_test.cpp's job.

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace rws::h1::llhttp_vectors {

struct LoggedField {
  std::string name;
  std::string value;  // llhttp's value spans concatenated (leading OWS excluded, trailing kept)
};

// One message as llhttp reported it; the flags say how far llhttp got before the log ended.
struct LoggedMessage {
  std::string method;
  std::string url;
  bool method_complete = false;
  bool url_complete = false;
  bool headers_complete = false;
  bool message_complete = false;
  bool skip_body = false;
  int version_major = -1;  // from "headers complete ... v=M/m"
  int version_minor = -1;
  std::uint64_t content_length = 0;
  std::uint32_t flags = 0;  // llhttp F_* bits, printed in hex
  std::vector<LoggedField> headers;
  std::vector<LoggedField> trailers;
  std::string body;  // span[body] concatenated
};

inline constexpr std::uint32_t kFlagChunked = 0x08;  // llhttp F_CHUNKED

struct Log {
  std::vector<LoggedMessage> messages;
  std::optional<int> error_code;  // last line "error code=N reason=..."
  std::string error_reason;
  std::optional<int> finish;  // "off=NULL finish=N" (request-finish cases)
};

struct Case {
  std::string file;             // e.g. "sample.md"
  std::string heading;          // nearest heading above the meta line
  int line = 0;                 // 1-based line of the meta comment
  std::string meta;             // the JSON between "meta=" and "-->"
  std::string type;             // meta "type"
  bool has_expression = false;  // ${...} in the http block: not expanded
  std::string input;            // the message bytes (empty when has_expression)
  // An escape in the http block stands for a byte >= 0x80. SOURCE.txt makes that one byte, but
  // llhttp's harness builds its input as a JavaScript string and writes it out as UTF-8, so its
  // log shows (and counts) U+0080..U+00FF as two bytes. Compare through utf8_to_latin1().
  bool high_escapes = false;
  Log log;
  std::string name;  // unique, [A-Za-z0-9_] only
};

// Names a case in GoogleTest output (parameters are printed as `where GetParam() = ...`).
inline void PrintTo(const Case* c, std::ostream* os) {
  *os << c->file << ":" << c->line << " \"" << c->heading << "\"";
}

struct Corpus {
  bool directory_found = false;
  std::string directory;
  std::vector<Case> cases;
  std::vector<std::string> errors;  // malformed vectors: reported as a failure
};

namespace detail {

inline bool is_octal(char c) {
  return c >= '0' && c <= '7';
}

inline int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Replaces every "\<letter>" with `byte`, scanning left to right without overlaps.
inline std::string replace_escape(std::string_view s, char letter, char byte) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == letter) {
      out.push_back(byte);
      ++i;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

// Turns UTF-8 text into one byte per code point (see Case::high_escapes). False if a code point
// is above U+00FF or the UTF-8 is malformed.
inline bool utf8_to_latin1(std::string_view s, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if ((c & 0xe0) == 0xc0 && i + 1 < s.size()) {
      unsigned cp = ((c & 0x1fu) << 6) | (static_cast<unsigned char>(s[i + 1]) & 0x3fu);
      if (cp > 0xff) return false;
      out.push_back(static_cast<char>(cp));
      ++i;
    } else {
      return false;
    }
  }
  return true;
}

inline std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) {
    s.remove_suffix(1);
  }
  return s;
}

inline bool starts_with(std::string_view s, std::string_view p) {
  return s.substr(0, p.size()) == p;
}

// Reads the number after `key` ("method=", "content_length=") in `s`; `base` 10 or 16.
inline bool number_after(std::string_view s, std::string_view key, int base, std::uint64_t& out) {
  std::size_t at = s.find(key);
  if (at == std::string_view::npos) return false;
  s.remove_prefix(at + key.size());
  std::uint64_t v = 0;
  std::size_t n = 0;
  for (; n < s.size(); ++n) {
    int d = hex_digit(s[n]);
    if (d < 0 || d >= base) break;
    v = v * static_cast<std::uint64_t>(base) + static_cast<std::uint64_t>(d);
  }
  if (n == 0) return false;
  out = v;
  return true;
}

}  // namespace detail

// The SOURCE.txt rules for an ```http block (`block` is its text, every line ending in "\n"):
// 1. drop one trailing "\n"; 2. delete backslash-newline; 3. every line break becomes CRLF;
// 4. then \r \n \t \f, \xHH (two hex digits) and \NNN (one to three octal digits, as llhttp's
// harness reads them), each in its own pass in that order.
// `high_escape` is set when a \x or \NNN escape stands for a byte >= 0x80 (see Case).
inline std::string http_block_to_bytes(std::string_view block, bool* high_escape = nullptr) {
  if (high_escape != nullptr) *high_escape = false;
  auto note = [&](int byte) {
    if (byte >= 0x80 && high_escape != nullptr) *high_escape = true;
    return static_cast<char>(byte);
  };
  if (!block.empty() && block.back() == '\n') block.remove_suffix(1);
  std::string joined;
  for (std::size_t i = 0; i < block.size(); ++i) {
    if (block[i] == '\\' && i + 1 < block.size() &&
        (block[i + 1] == '\n' || block[i + 1] == '\r')) {
      ++i;
      if (block[i] == '\r' && i + 1 < block.size() && block[i + 1] == '\n') ++i;
      continue;
    }
    joined.push_back(block[i]);
  }
  std::string crlf;
  for (std::size_t i = 0; i < joined.size(); ++i) {
    if (joined[i] == '\r' || joined[i] == '\n') {
      if (joined[i] == '\r' && i + 1 < joined.size() && joined[i + 1] == '\n') ++i;
      crlf += "\r\n";
    } else {
      crlf.push_back(joined[i]);
    }
  }
  std::string s = detail::replace_escape(crlf, 'r', '\r');
  s = detail::replace_escape(s, 'n', '\n');
  s = detail::replace_escape(s, 't', '\t');
  s = detail::replace_escape(s, 'f', '\f');
  std::string hex;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && i + 3 < s.size() && s[i + 1] == 'x' && detail::hex_digit(s[i + 2]) >= 0 &&
        detail::hex_digit(s[i + 3]) >= 0) {
      hex.push_back(note(detail::hex_digit(s[i + 2]) * 16 + detail::hex_digit(s[i + 3])));
      i += 3;
    } else {
      hex.push_back(s[i]);
    }
  }
  std::string out;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (hex[i] == '\\' && i + 1 < hex.size() && detail::is_octal(hex[i + 1])) {
      int v = 0;
      std::size_t n = 0;
      while (n < 3 && i + 1 + n < hex.size() && detail::is_octal(hex[i + 1 + n])) {
        v = v * 8 + (hex[i + 1 + n] - '0');
        ++n;
      }
      out.push_back(note(v & 0xff));
      i += n;
    } else {
      out.push_back(hex[i]);
    }
  }
  return out;
}

// Value of a flat JSON object's string member (`"type": "request"`), or "" when absent.
inline std::string meta_string(std::string_view meta, std::string_view key) {
  std::string quoted = "\"" + std::string(key) + "\"";
  std::size_t at = meta.find(quoted);
  if (at == std::string_view::npos) return {};
  std::size_t colon = meta.find(':', at + quoted.size());
  if (colon == std::string_view::npos) return {};
  std::size_t open = meta.find_first_not_of(" \t", colon + 1);
  if (open == std::string_view::npos || meta[open] != '"') return {};
  std::size_t close = meta.find('"', open + 1);
  if (close == std::string_view::npos) return {};
  return std::string(meta.substr(open + 1, close - open - 1));
}

// Decodes the value of a `len=N span[x]=VALUE` log line into the bytes llhttp saw. VALUE is
// "..." (raw text, only \t and \f escaped: quotes and backslashes inside are literal, as llhttp's
// harness reads them) or the bare words cr / lf. False when the bytes do not add up to `len`.
inline bool decode_span_value(std::string_view value, std::size_t len, std::string& out) {
  if (value == "cr" || value == "lf") {
    out = value == "cr" ? "\r" : "\n";
    return len == 1;
  }
  if (value.size() < 2 || value.front() != '"' || value.back() != '"') return false;
  value = value.substr(1, value.size() - 2);
  out = detail::replace_escape(detail::replace_escape(value, 't', '\t'), 'f', '\f');
  return out.size() == len;
}

// Parses a ```log block. Returns false with `error` set on a line it does not understand, so that
// a format change cannot silently weaken the checks.
inline bool parse_log(std::string_view text, Log& log, std::string& error) {
  LoggedMessage* msg = nullptr;
  bool in_field_name = false;  // the last header span was part of a field name
  while (!text.empty()) {
    std::size_t nl = text.find('\n');
    std::string_view line = detail::trim(text.substr(0, nl));
    text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
    if (line.empty()) continue;
    if (!detail::starts_with(line, "off=")) {
      error = "log line without off=: " + std::string(line);
      return false;
    }
    std::size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      error = "log line without event: " + std::string(line);
      return false;
    }
    std::string_view event = line.substr(sp + 1);
    if (log.error_code || log.finish) {
      error = "log continues after error/finish: " + std::string(line);
      return false;
    }
    if (event == "message begin") {
      log.messages.emplace_back();
      msg = &log.messages.back();
      in_field_name = false;
      continue;
    }
    if (detail::starts_with(event, "error code=")) {
      std::uint64_t code = 0;
      detail::number_after(event, "code=", 10, code);
      log.error_code = static_cast<int>(code);
      std::size_t r = event.find("reason=");
      if (r != std::string_view::npos) log.error_reason = std::string(event.substr(r + 7));
      continue;
    }
    if (detail::starts_with(event, "finish=")) {
      std::uint64_t v = 0;
      detail::number_after(event, "finish=", 10, v);
      log.finish = static_cast<int>(v);
      continue;
    }
    if (event == "reset" || event == "pause" || event == "chunk complete" ||
        detail::starts_with(event, "chunk header len=") || event == "header_value complete" ||
        event == "protocol complete" || event == "version complete" ||
        event == "chunk_extension_name complete" || event == "chunk_extension_value complete") {
      continue;
    }
    if (msg == nullptr) {
      error = "event before message begin: " + std::string(line);
      return false;
    }
    if (event == "method complete") {
      msg->method_complete = true;
    } else if (event == "url complete") {
      msg->url_complete = true;
    } else if (event == "header_field complete") {
      in_field_name = false;
    } else if (event == "message complete") {
      msg->message_complete = true;
    } else if (event == "skip body") {
      msg->skip_body = true;
    } else if (detail::starts_with(event, "headers complete")) {
      std::uint64_t v = 0;
      msg->headers_complete = true;
      std::size_t vat = event.find(" v=");
      if (vat == std::string_view::npos || vat + 6 > event.size()) {
        error = "headers complete without version: " + std::string(line);
        return false;
      }
      msg->version_major = event[vat + 3] - '0';
      msg->version_minor = event[vat + 5] - '0';
      if (!detail::number_after(event, "flags=", 16, v)) {
        error = "headers complete without flags: " + std::string(line);
        return false;
      }
      msg->flags = static_cast<std::uint32_t>(v);
      if (!detail::number_after(event, "content_length=", 10, msg->content_length)) {
        error = "headers complete without content_length: " + std::string(line);
        return false;
      }
    } else if (detail::starts_with(event, "len=")) {
      std::uint64_t len = 0;
      detail::number_after(event, "len=", 10, len);
      std::size_t open = event.find("span[");
      std::size_t close = event.find("]=", open);
      if (open == std::string_view::npos || close == std::string_view::npos) {
        error = "malformed span: " + std::string(line);
        return false;
      }
      std::string_view kind = event.substr(open + 5, close - open - 5);
      std::string value;
      if (!decode_span_value(event.substr(close + 2), static_cast<std::size_t>(len), value)) {
        error = "span value does not match its len: " + std::string(line);
        return false;
      }
      std::vector<LoggedField>& fields = msg->headers_complete ? msg->trailers : msg->headers;
      if (kind == "method") {
        msg->method += value;
      } else if (kind == "url") {
        msg->url += value;
      } else if (kind == "header_field") {
        if (!in_field_name) fields.emplace_back();
        in_field_name = true;
        fields.back().name += value;
      } else if (kind == "header_value") {
        if (fields.empty()) {
          error = "header value before any field: " + std::string(line);
          return false;
        }
        fields.back().value += value;
      } else if (kind == "body") {
        msg->body += value;
      } else if (kind != "protocol" && kind != "version" && kind != "chunk_extension_name" &&
                 kind != "chunk_extension_value") {
        error = "unknown span kind: " + std::string(line);
        return false;
      }
    } else {
      error = "unknown log event: " + std::string(line);
      return false;
    }
  }
  return true;
}

// A name usable as a GoogleTest parameter name: [A-Za-z0-9_], no leading/trailing/double '_'.
inline std::string sanitize_name(std::string_view s) {
  std::string out;
  for (char c : s) {
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (alnum) {
      out.push_back(c);
    } else if (!out.empty() && out.back() != '_') {
      out.push_back('_');
    }
  }
  while (!out.empty() && out.back() == '_')
    out.pop_back();
  return out.empty() ? "case" : out;
}

// Reads one .md file, appending its cases (and any format errors) to `corpus`.
inline void load_file(const std::filesystem::path& path, Corpus& corpus) {
  std::ifstream in(path, std::ios::binary);
  std::string file = path.filename().string();
  if (!in) {
    corpus.errors.push_back(file + ": cannot open");
    return;
  }
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) {
    if (!l.empty() && l.back() == '\r') l.pop_back();
    lines.push_back(std::move(l));
  }
  std::string heading;
  std::optional<Case> pending;
  std::optional<std::string> http_text;
  auto where = [&](std::size_t i) { return file + ":" + std::to_string(i + 1) + ": "; };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::string_view line = lines[i];
    if (detail::starts_with(line, "#")) {
      heading = std::string(detail::trim(line.substr(line.find_first_not_of('#'))));
      continue;
    }
    if (detail::starts_with(line, "<!-- meta=")) {
      if (pending) corpus.errors.push_back(where(i) + "meta line before the previous case ended");
      std::size_t end = line.rfind("-->");
      pending.emplace();
      pending->file = file;
      pending->heading = heading;
      pending->line = static_cast<int>(i + 1);
      pending->meta = std::string(detail::trim(
          line.substr(10, end == std::string_view::npos ? std::string_view::npos : end - 10)));
      pending->type = meta_string(pending->meta, "type");
      http_text.reset();
      continue;
    }
    if (!detail::starts_with(line, "```") || line.size() == 3) continue;
    // An opening fence: collect the block up to the closing one.
    std::string lang(detail::trim(line.substr(3)));
    std::string block;
    std::size_t j = i + 1;
    for (; j < lines.size() && lines[j] != "```"; ++j)
      block += lines[j] + "\n";
    if (j == lines.size()) corpus.errors.push_back(where(i) + "unterminated code block");
    i = j;
    if (!pending) {
      corpus.errors.push_back(where(i) + "```" + lang + " block without a meta line");
      continue;
    }
    if (lang == "http") {
      if (http_text) corpus.errors.push_back(where(i) + "second ```http block in one case");
      http_text = std::move(block);
    } else if (lang == "log") {
      if (!http_text) {
        corpus.errors.push_back(where(i) + "```log block before the ```http block");
        pending.reset();
        continue;
      }
      Case c = std::move(*pending);
      pending.reset();
      c.has_expression = http_text->find("${") != std::string::npos;
      if (!c.has_expression) c.input = http_block_to_bytes(*http_text, &c.high_escapes);
      std::string error;
      if (!parse_log(block, c.log, error)) {
        corpus.errors.push_back(file + ":" + std::to_string(c.line) + " (" + c.heading +
                                "): " + error);
      }
      corpus.cases.push_back(std::move(c));
    } else {
      corpus.errors.push_back(where(i) + "unexpected ```" + lang + " block");
    }
  }
  if (pending)
    corpus.errors.push_back(file + ": case at line " + std::to_string(pending->line) +
                            " has no ```log block");
}

// Loads every *.md file of `dir` (sorted by name) and names the cases uniquely.
inline Corpus load_corpus(const std::filesystem::path& dir) {
  Corpus corpus;
  corpus.directory = dir.string();
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) return corpus;
  corpus.directory_found = true;
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
    if (entry.path().extension() == ".md") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  for (const auto& f : files)
    load_file(f, corpus);
  std::vector<std::string> used;
  for (Case& c : corpus.cases) {
    std::string stem = c.file.substr(0, c.file.rfind('.'));
    std::string base = sanitize_name(stem + "_" + c.heading);
    std::string name = base;
    for (int n = 2; std::find(used.begin(), used.end(), name) != used.end(); ++n) {
      name = base + "_" + std::to_string(n);
    }
    used.push_back(name);
    c.name = std::move(name);
  }
  return corpus;
}

}  // namespace rws::h1::llhttp_vectors
