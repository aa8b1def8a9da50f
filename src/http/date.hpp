#pragma once
// HTTP-date (RFC 9110 §5.6.7): IMF-fixdate output, and parsing of all three accepted formats.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace rws::http {

inline constexpr std::size_t kHttpDateLength = 29;  // "Sun, 06 Nov 1994 08:49:37 GMT"

// Formats `unix_seconds` (UTC) as IMF-fixdate.
std::string format_http_date(std::int64_t unix_seconds);

// Parses IMF-fixdate, the obsolete RFC 850 form and asctime() form; nullopt when `text` is none
// of them or names an impossible date.
std::optional<std::int64_t> parse_http_date(std::string_view text);

}  // namespace rws::http

namespace rws::http {

// The current time as IMF-fixdate, formatted at most once per second per thread. The view stays
// valid on the calling thread until the next call.
std::string_view http_date_now();

}  // namespace rws::http
