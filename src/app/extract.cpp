#include <charconv>
#include <limits>

#include <rws/app/extract.hpp>
#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws {
namespace syntax = http::syntax;

std::optional<Uuid> Uuid::parse(std::string_view text) noexcept {
  if (text.size() != 36) return std::nullopt;
  Uuid u;
  std::size_t byte = 0;
  for (std::size_t i = 0; i < 36;) {
    if (i == 8 || i == 13 || i == 18 || i == 23) {
      if (text[i] != '-') return std::nullopt;
      ++i;
      continue;
    }
    int hi = syntax::hex_value(text[i]);
    int lo = syntax::hex_value(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    u.bytes[byte++] = static_cast<std::uint8_t>(hi * 16 + lo);
    i += 2;
  }
  return u;
}

std::string Uuid::to_string() const {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(36);
  for (std::size_t i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

namespace {

template <class T>
std::optional<T> parse_integer(std::string_view text) {
  T value{};
  if (text.empty() || text.front() == '+') return std::nullopt;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

template <class T>
std::optional<T> parse_value(std::string_view text) {
  if constexpr (std::is_same_v<T, std::string>) {
    return std::string(text);
  } else if constexpr (std::is_same_v<T, std::string_view>) {
    return text;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (text == "true" || text == "1") return true;
    if (text == "false" || text == "0") return false;
    return std::nullopt;
  } else if constexpr (std::is_same_v<T, Uuid>) {
    return Uuid::parse(text);
  } else if constexpr (std::is_same_v<T, double>) {
    double value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    return value;
  } else {
    return parse_integer<T>(text);
  }
}

template std::optional<std::string> parse_value<std::string>(std::string_view);
template std::optional<std::string_view> parse_value<std::string_view>(std::string_view);
template std::optional<bool> parse_value<bool>(std::string_view);
template std::optional<Uuid> parse_value<Uuid>(std::string_view);
template std::optional<double> parse_value<double>(std::string_view);
template std::optional<short> parse_value<short>(std::string_view);
template std::optional<int> parse_value<int>(std::string_view);
template std::optional<long> parse_value<long>(std::string_view);
template std::optional<long long> parse_value<long long>(std::string_view);
template std::optional<unsigned short> parse_value<unsigned short>(std::string_view);
template std::optional<unsigned> parse_value<unsigned>(std::string_view);
template std::optional<unsigned long> parse_value<unsigned long>(std::string_view);
template std::optional<unsigned long long> parse_value<unsigned long long>(std::string_view);

std::optional<std::string_view> QueryMap::get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k == name) return std::string_view(v);
  }
  return std::nullopt;
}

std::vector<std::string_view> QueryMap::all(std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& [k, v] : items_) {
    if (k == name) out.emplace_back(v);
  }
  return out;
}

namespace {

bool form_decode(std::string_view in, std::string& out) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+') {
      out += ' ';
    } else if (c == '%') {
      if (i + 2 >= in.size()) return false;
      int hi = syntax::hex_value(in[i + 1]);
      int lo = syntax::hex_value(in[i + 2]);
      if (hi < 0 || lo < 0) return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += c;
    }
  }
  return true;
}

}  // namespace

std::optional<QueryMap> parse_urlencoded(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> items;
  while (!text.empty()) {
    std::size_t amp = text.find('&');
    std::string_view pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view() : text.substr(amp + 1);
    if (pair.empty()) continue;
    std::size_t eq = pair.find('=');
    std::string name;
    std::string value;
    if (!form_decode(pair.substr(0, eq), name)) return std::nullopt;
    if (eq != std::string_view::npos && !form_decode(pair.substr(eq + 1), value)) {
      return std::nullopt;
    }
    items.emplace_back(std::move(name), std::move(value));
  }
  return QueryMap(std::move(items));
}

std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(
    std::string_view header) {
  std::vector<std::pair<std::string_view, std::string_view>> out;
  while (!header.empty()) {
    std::size_t semi = header.find(';');
    std::string_view pair = syntax::trim_ows(header.substr(0, semi));
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    std::size_t eq = pair.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    std::string_view name = syntax::trim_ows(pair.substr(0, eq));
    std::string_view value = syntax::trim_ows(pair.substr(eq + 1));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    if (!syntax::is_token(name)) continue;
    out.emplace_back(name, value);
  }
  return out;
}

std::string urlencode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    bool unreserved = (u >= 'a' && u <= 'z') || (u >= 'A' && u <= 'Z') || (u >= '0' && u <= '9') ||
                      u == '-' || u == '.' || u == '_' || u == '~';
    if (unreserved) {
      out += c;
    } else {
      out += '%';
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  return out;
}

}  // namespace rws
