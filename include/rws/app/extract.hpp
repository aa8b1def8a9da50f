#pragma once
// Parsing request data: typed path parameters, query strings and urlencoded forms, cookies.
// Pure functions; they never throw (Context wraps them with 400 answers).

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace rws {

// A UUID in the canonical 8-4-4-4-12 hexadecimal form (any case accepted, lower case written).
struct Uuid {
  std::array<std::uint8_t, 16> bytes{};
  static std::optional<Uuid> parse(std::string_view text) noexcept;
  std::string to_string() const;
  friend bool operator==(const Uuid&, const Uuid&) = default;
};

// Converts one parameter value; nullopt when it is not a valid T. Supported: std::string,
// std::string_view, bool (true/false/1/0), every integer type (decimal, range-checked), double,
// Uuid.
template <class T>
std::optional<T> parse_value(std::string_view text);

// Name/value pairs in order, with repeated names kept (?tag=a&tag=b).
class QueryMap {
 public:
  QueryMap() = default;
  explicit QueryMap(std::vector<std::pair<std::string, std::string>> items)
      : items_(std::move(items)) {}

  // The first value of `name`.
  std::optional<std::string_view> get(std::string_view name) const;
  // Every value of `name`, in order.
  std::vector<std::string_view> all(std::string_view name) const;
  bool contains(std::string_view name) const { return get(name).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }
  std::size_t size() const { return items_.size(); }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

// Parses application/x-www-form-urlencoded text (also query strings): '&'-separated pairs,
// '+' is a space, %XX escapes decoded; "a" alone is a name with an empty value. nullopt on a
// malformed escape.
std::optional<QueryMap> parse_urlencoded(std::string_view text);

// Cookie request field (RFC 6265 §5.4): "a=1; b=2". Malformed pairs are skipped; quotes around
// a value are removed.
std::vector<std::pair<std::string_view, std::string_view>> parse_cookie_header(
    std::string_view header);

// Percent-encodes `text` for use in a query string or form (everything but unreserved).
std::string urlencode(std::string_view text);

}  // namespace rws
