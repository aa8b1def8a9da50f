#include "http/rewrite_rules.hpp"

#include <re2/re2.h>

#include <algorithm>

#include <rws/http/headers.hpp>

#include "http/path.hpp"
#include "http/syntax.hpp"

namespace rws::http {
namespace {

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

bool is_name_char(char c) {
  return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

// Valid %XX escapes and request-target characters only.
std::string target_chars_problem(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (!syntax::kTargetChar[static_cast<unsigned char>(c)]) {
      return c == '#' ? "a fragment ('#') is never sent to a server"
                      : "'" + std::string(1, c) + "' must be percent-encoded";
    }
    if (c == '%' &&
        (i + 2 >= s.size() || !syntax::is_hexdig(s[i + 1]) || !syntax::is_hexdig(s[i + 2]))) {
      return "'%' must start a %XX escape";
    }
  }
  return "";
}

}  // namespace

Expected<RegexRewrite, std::string> RegexRewrite::compile(std::string_view pattern,
                                                          std::string_view replacement) {
  if (pattern.empty()) return Unexpected(std::string("pattern is empty"));
  RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<const RE2>(re2::StringPiece(pattern.data(), pattern.size()), options);
  if (!re->ok()) return Unexpected("invalid pattern: " + re->error());

  RegexRewrite out;
  const int groups = re->NumberOfCapturingGroups();
  auto group_ref = [&](int n) -> std::string {
    if (n > groups) {
      return "replacement refers to group " + std::to_string(n) + " but the pattern has " +
             (groups == 0 ? std::string("no groups") : std::to_string(groups));
    }
    out.pieces_.push_back({{}, n});
    out.max_group_ = std::max(out.max_group_, n);
    return "";
  };
  std::string literal;
  for (std::size_t i = 0; i < replacement.size(); ++i) {
    if (replacement[i] != '$') {
      literal.push_back(replacement[i]);
      continue;
    }
    if (i + 1 < replacement.size() && replacement[i + 1] == '$') {
      literal.push_back('$');
      ++i;
      continue;
    }
    if (!literal.empty()) out.pieces_.push_back({std::move(literal), -1});
    literal.clear();
    std::size_t j = i + 1;
    if (j < replacement.size() && is_digit(replacement[j])) {
      while (j < replacement.size() && is_digit(replacement[j]) && j - i <= 3)
        ++j;
      if (j < replacement.size() && is_digit(replacement[j])) {
        return Unexpected(std::string("replacement: group number too large"));
      }
      const int n = std::stoi(std::string(replacement.substr(i + 1, j - i - 1)));
      if (std::string e = group_ref(n); !e.empty()) return Unexpected(std::move(e));
      i = j - 1;
      continue;
    }
    if (j < replacement.size() && replacement[j] == '{') {
      const std::size_t close = replacement.find('}', j);
      const std::string_view name = close == std::string_view::npos
                                        ? std::string_view()
                                        : replacement.substr(j + 1, close - j - 1);
      bool valid = !name.empty() && name.size() <= 64;
      for (char c : name)
        valid = valid && is_name_char(c);
      if (!valid) {
        return Unexpected(
            std::string("replacement: '${' must be followed by a group number or name and '}'"));
      }
      if (is_digit(name.front())) {
        for (char c : name) {
          if (!is_digit(c)) {
            return Unexpected("replacement: '${" + std::string(name) + "}' is not a group");
          }
        }
        if (name.size() > 3) return Unexpected(std::string("replacement: group number too large"));
        if (std::string e = group_ref(std::stoi(std::string(name))); !e.empty()) {
          return Unexpected(std::move(e));
        }
      } else {
        const auto& named = re->NamedCapturingGroups();
        auto it = named.find(std::string(name));
        if (it == named.end()) {
          return Unexpected("replacement refers to group '" + std::string(name) +
                            "' but the pattern has no group of that name");
        }
        if (std::string e = group_ref(it->second); !e.empty()) return Unexpected(std::move(e));
      }
      i = close;
      continue;
    }
    return Unexpected(std::string(
        "replacement: '$' must be followed by a group number, {name} or '$' (for a literal '$')"));
  }
  if (!literal.empty()) out.pieces_.push_back({std::move(literal), -1});
  out.re_ = std::move(re);
  return out;
}

std::string RegexRewrite::apply(std::string_view text, bool& matched) const {
  matched = false;
  const int n = max_group_ + 1;
  std::vector<re2::StringPiece> groups(static_cast<std::size_t>(n));
  const re2::StringPiece subject(text.data(), text.size());
  std::string out;
  std::size_t pos = 0;  // first byte of `text` not yet copied or replaced
  std::size_t search = 0;
  while (search <= text.size() &&
         re_->Match(subject, search, text.size(), RE2::UNANCHORED, groups.data(), n)) {
    matched = true;
    const std::size_t begin = static_cast<std::size_t>(groups[0].data() - text.data());
    const std::size_t end = begin + groups[0].size();
    out.append(text.substr(pos, begin - pos));
    for (const Piece& piece : pieces_) {
      if (piece.group < 0) {
        out.append(piece.literal);
      } else {
        const re2::StringPiece& g = groups[static_cast<std::size_t>(piece.group)];
        out.append(g.data() == nullptr ? std::string_view() : std::string_view(g.data(), g.size()));
      }
    }
    pos = end;
    search = end;
    if (begin == end) {
      // An empty match: keep the next byte and search after it.
      if (end < text.size()) out.push_back(text[end]);
      pos = end + 1;
      search = end + 1;
    }
  }
  if (pos < text.size()) out.append(text.substr(pos));
  return out;
}

std::string RegexRewrite::literal_text() const {
  std::string out;
  for (const Piece& piece : pieces_)
    out += piece.literal;
  return out;
}

std::string origin_form_problem(std::string_view target) {
  if (target.empty() || target.front() != '/') return "must start with '/'";
  if (std::string e = target_chars_problem(target); !e.empty()) return e;
  const std::string_view path = target.substr(0, target.find('?'));
  std::string normalized;
  if (PathError e = normalize_path(path, normalized); e != PathError::kNone) {
    return std::string(describe(e));
  }
  return "";
}

std::string path_prefix_problem(std::string_view prefix) {
  if (prefix.find('?') != std::string_view::npos) return "a path prefix has no query ('?')";
  if (std::string e = origin_form_problem(prefix); !e.empty()) return e;
  if (prefix == "/" || prefix.back() == '/') return "a path prefix does not end with '/'";
  return "";
}

bool canonical_path(std::string_view path, std::string& out) {
  std::string normalized;
  if (normalize_path(path, normalized) != PathError::kNone) return false;
  out = percent_encode_path(normalized);
  return true;
}

std::string request_field_problem(std::string_view name) {
  if (!syntax::is_token(name)) return "'" + std::string(name) + "' is not a valid header name";
  if (iequals(name, "host")) {
    return "'" + std::string(name) +
           "' is written by the proxy (the backend's authority, or the client's with "
           "preserve_host) and cannot be edited";
  }
  for (std::string_view managed : {"content-length", "transfer-encoding", "connection",
                                   "keep-alive", "proxy-connection", "te", "upgrade"}) {
    if (iequals(name, managed)) {
      return "'" + std::string(name) +
             "' is written by rws itself (message framing, hop-by-hop) and cannot be edited";
    }
  }
  return "";
}

std::string response_field_problem(std::string_view name) {
  if (!syntax::is_token(name)) return "'" + std::string(name) + "' is not a valid header name";
  for (std::string_view managed : {"content-length", "transfer-encoding", "connection", "date"}) {
    if (iequals(name, managed)) {
      return "'" + std::string(name) +
             "' is written by rws itself (message framing) and cannot be edited";
    }
  }
  return "";
}

}  // namespace rws::http
