#include "http/path.hpp"

#include "http/syntax.hpp"

namespace rws::http {

std::string_view describe(PathError e) noexcept {
  switch (e) {
    case PathError::kNone:
      return "valid path";
    case PathError::kNotAbsolute:
      return "path does not start with '/'";
    case PathError::kBadEncoding:
      return "malformed percent-encoding in path";
    case PathError::kNul:
      return "NUL byte in path";
    case PathError::kBackslash:
      return "backslash in path";
    case PathError::kEscapesRoot:
      return "path escapes the root";
  }
  return "invalid path";
}

PathError percent_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in.size()) return PathError::kBadEncoding;
      int hi = syntax::hex_value(in[i + 1]);
      int lo = syntax::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return PathError::kBadEncoding;
      c = static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    if (c == '\0') return PathError::kNul;
    out.push_back(c);
  }
  return PathError::kNone;
}

PathError normalize_path(std::string_view raw, std::string& out) {
  if (raw.empty() || raw.front() != '/') return PathError::kNotAbsolute;
  std::string decoded;
  if (PathError e = percent_decode(raw, decoded); e != PathError::kNone) return e;
  if (decoded.find('\\') != std::string::npos) return PathError::kBackslash;

  // Segments are appended to `out` as "/seg"; ".." removes the last one again.
  out.clear();
  out.reserve(decoded.size() + 1);
  std::string_view rest = decoded;
  bool directory = false;
  while (!rest.empty()) {
    rest.remove_prefix(1);  // the "/"
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    rest = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
    directory = seg.empty() || seg == "." || seg == "..";
    if (seg.empty() || seg == ".") continue;
    if (seg == "..") {
      if (out.empty()) return PathError::kEscapesRoot;
      out.resize(out.rfind('/'));
      continue;
    }
    out.push_back('/');
    out.append(seg);
  }
  if (out.empty() || directory) out.push_back('/');
  return PathError::kNone;
}

std::string percent_encode_path(std::string_view decoded) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(decoded.size());
  for (char c : decoded) {
    auto u = static_cast<unsigned char>(c);
    if (syntax::kTargetChar[u] && c != '%' && c != '?') {
      out.push_back(c);
    } else {
      out.push_back('%');
      out.push_back(kHex[u >> 4]);
      out.push_back(kHex[u & 15]);
    }
  }
  return out;
}

}  // namespace rws::http
