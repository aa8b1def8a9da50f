#include <algorithm>
#include <cstdint>
#include <cstring>

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws::http {
namespace {

constexpr char lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

// Eight bytes at once with ASCII 'A'..'Z' turned into 'a'..'z' (other bytes, including those
// above 0x7f, unchanged): for each byte c < 0x80, c + (0x80 - 'A') has its top bit set when
// c >= 'A', and c + (0x80 - 'Z' - 1) when c > 'Z'.
std::uint64_t lower8(std::uint64_t x) noexcept {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  const std::uint64_t low7 = x & (0x7f * kOnes);
  const std::uint64_t at_least_a = low7 + (0x80 - 'A') * kOnes;
  const std::uint64_t above_z = low7 + (0x80 - 'Z' - 1) * kOnes;
  const std::uint64_t upper = at_least_a & ~above_z & ~x & (0x80 * kOnes);
  return x | (upper >> 2);
}

std::uint64_t load8(const char* p) noexcept {
  std::uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

std::uint32_t load4(const char* p) noexcept {
  std::uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}

// iequals() for strings of the same size.
bool iequals_same_size(const char* x, const char* y, std::size_t n) noexcept {
  auto same = [](std::uint64_t u, std::uint64_t v) { return u == v || lower8(u) == lower8(v); };
  if (n >= 8) {
    // Eight bytes at a time; the last eight (overlapping the previous ones) end it.
    std::size_t i = 0;
    for (; i + 8 < n; i += 8) {
      if (!same(load8(x + i), load8(y + i))) return false;
    }
    return same(load8(x + n - 8), load8(y + n - 8));
  }
  if (n >= 4) {
    // The first and the last four bytes (overlapping when n < 8) as one word.
    return same(load4(x) | std::uint64_t{load4(x + n - 4)} << 32,
                load4(y) | std::uint64_t{load4(y + n - 4)} << 32);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (lower(x[i]) != lower(y[i])) return false;
  }
  return true;
}

// A field's name against `name`: the size test inline, since most fields of a head end there.
bool same_name(const Field& f, std::string_view name) noexcept {
  return f.name.size() == name.size() && iequals_same_size(f.name.data(), name.data(), name.size());
}

}  // namespace

Headers::Headers(const Headers& other) = default;
Headers::Headers(Headers&& other) noexcept = default;
Headers& Headers::operator=(const Headers& other) = default;
Headers& Headers::operator=(Headers&& other) noexcept = default;
Headers::~Headers() = default;

bool iequals(std::string_view a, std::string_view b) noexcept {
  return a.size() == b.size() && iequals_same_size(a.data(), b.data(), a.size());
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    c = lower(c);
  return out;
}

void Headers::add(std::string_view name, std::string_view value) {
  // Built in place: temporaries would cost a copy of each small-string buffer per move.
  Field& f = fields_.emplace_back();
  try {
    f.name.assign(name.data(), name.size());
    f.value.assign(value.data(), value.size());
  } catch (...) {
    fields_.pop_back();  // no half-built field left behind
    throw;
  }
}

void Headers::emplace(std::string name, std::string value) {
  Field& f = fields_.emplace_back();
  f.name = std::move(name);
  f.value = std::move(value);
}

void Headers::set(std::string_view name, std::string_view value) {
  auto it = std::find_if(fields_.begin(), fields_.end(),
                         [&](const Field& f) { return same_name(f, name); });
  if (it == fields_.end()) {
    add(name, value);
    return;
  }
  it->value.assign(value);
  fields_.erase(std::remove_if(std::next(it), fields_.end(),
                               [&](const Field& f) { return same_name(f, name); }),
                fields_.end());
}

void Headers::set_default(std::string_view name, std::string_view value) {
  if (!contains(name)) add(name, value);
}

std::size_t Headers::remove(std::string_view name) {
  return remove_if([&](const Field& f) { return same_name(f, name); });
}

std::size_t Headers::remove_where(bool (*test)(const Field&, void*), void* context) {
  auto first = std::remove_if(fields_.begin(), fields_.end(),
                              [&](const Field& f) { return test(f, context); });
  auto removed = static_cast<std::size_t>(fields_.end() - first);
  fields_.erase(first, fields_.end());
  return removed;
}

const std::string* Headers::find(std::string_view name) const noexcept {
  for (const Field& f : fields_) {
    if (same_name(f, name)) return &f.value;
  }
  return nullptr;
}

std::string_view Headers::get(std::string_view name) const noexcept {
  const std::string* v = find(name);
  return v ? std::string_view(*v) : std::string_view();
}

std::size_t Headers::count(std::string_view name) const noexcept {
  return static_cast<std::size_t>(std::count_if(
      fields_.begin(), fields_.end(), [&](const Field& f) { return same_name(f, name); }));
}

std::string Headers::joined(std::string_view name) const {
  std::string out;
  for (const Field& f : fields_) {
    if (!same_name(f, name)) continue;
    if (!out.empty()) out += ", ";
    out += f.value;
  }
  return out;
}

bool list_contains(std::string_view value, std::string_view token) noexcept {
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = syntax::trim_ows(value.substr(0, comma));
    if (iequals(item, token)) return true;
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
  return false;
}

}  // namespace rws::http
