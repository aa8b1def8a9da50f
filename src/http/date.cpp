#include "http/date.hpp"

#include <time.h>

#include <array>

namespace rws::http {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 7> kLongDays = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                                       "Thursday", "Friday", "Saturday"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// Days since 1970-01-01 for a proleptic Gregorian date (month 1..12). Shifts the year to start
// in March so that the leap day is the last day of the shifted year.
constexpr std::int64_t days_from_civil(std::int64_t y, int m, int d) {
  y -= m <= 2 ? 1 : 0;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const std::int64_t year_of_era = y - era * 400;
  const std::int64_t shifted_month = m > 2 ? m - 3 : m + 9;
  const std::int64_t day_of_year = (153 * shifted_month + 2) / 5 + d - 1;
  const std::int64_t day_of_era =
      year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + day_of_era - 719468;
}

struct Civil {
  std::int64_t year;
  int month;
  int day;
};

constexpr Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const std::int64_t day_of_era = z - era * 146097;
  const std::int64_t year_of_era =
      (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const std::int64_t day_of_year =
      day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const std::int64_t shifted_month = (5 * day_of_year + 2) / 153;
  const int day = static_cast<int>(day_of_year - (153 * shifted_month + 2) / 5 + 1);
  const int month = static_cast<int>(shifted_month < 10 ? shifted_month + 3 : shifted_month - 9);
  return {year_of_era + era * 400 + (month <= 2 ? 1 : 0), month, day};
}

static_assert(days_from_civil(1970, 1, 1) == 0);
static_assert(days_from_civil(2000, 3, 1) == 11017);
static_assert(civil_from_days(11017).month == 3);

constexpr bool is_leap(std::int64_t y) {
  return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

constexpr int days_in_month(std::int64_t y, int m) {
  constexpr int kDaysIn[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDaysIn[m - 1];
}

void put2(char* at, int v) {
  at[0] = static_cast<char>('0' + v / 10);
  at[1] = static_cast<char>('0' + v % 10);
}

// A cursor over the text being parsed; every reader fails (returns false) rather than throw.
class Reader {
 public:
  explicit Reader(std::string_view s) : s_(s) {}
  bool literal(std::string_view lit) {
    if (s_.substr(0, lit.size()) != lit) return false;
    s_.remove_prefix(lit.size());
    return true;
  }
  bool digits(int count, int& out) {
    if (s_.size() < static_cast<std::size_t>(count)) return false;
    int v = 0;
    for (int i = 0; i < count; ++i) {
      char c = s_[static_cast<std::size_t>(i)];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    s_.remove_prefix(static_cast<std::size_t>(count));
    out = v;
    return true;
  }
  template <std::size_t N>
  bool one_of(const std::array<std::string_view, N>& names, int& index) {
    for (std::size_t i = 0; i < N; ++i) {
      if (literal(names[i])) {
        index = static_cast<int>(i);
        return true;
      }
    }
    return false;
  }
  bool at_end() const { return s_.empty(); }

 private:
  std::string_view s_;
};

std::optional<std::int64_t> make_time(std::int64_t year, int month, int day, int h, int m, int s) {
  if (month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) return std::nullopt;
  if (h > 23 || m > 59 || s > 60) return std::nullopt;  // 60: leap second
  return days_from_civil(year, month, day) * 86400 + h * 3600 + m * 60 + s;
}

bool clock(Reader& r, int& h, int& m, int& s) {
  return r.digits(2, h) && r.literal(":") && r.digits(2, m) && r.literal(":") && r.digits(2, s);
}

// IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"
std::optional<std::int64_t> parse_imf(std::string_view text) {
  Reader r(text);
  int wday, day, month, year, h, m, s;
  if (!(r.one_of(kDays, wday) && r.literal(", ") && r.digits(2, day) && r.literal(" ") &&
        r.one_of(kMonths, month) && r.literal(" ") && r.digits(4, year) && r.literal(" ") &&
        clock(r, h, m, s) && r.literal(" GMT") && r.at_end())) {
    return std::nullopt;
  }
  return make_time(year, month + 1, day, h, m, s);
}

// RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT". Two-digit years pivot at 70: 00–69 are 20xx,
// 70–99 are 19xx (fixed, so parsing does not depend on the clock).
std::optional<std::int64_t> parse_rfc850(std::string_view text) {
  Reader r(text);
  int wday, day, month, yy, h, m, s;
  if (!(r.one_of(kLongDays, wday) && r.literal(", ") && r.digits(2, day) && r.literal("-") &&
        r.one_of(kMonths, month) && r.literal("-") && r.digits(2, yy) && r.literal(" ") &&
        clock(r, h, m, s) && r.literal(" GMT") && r.at_end())) {
    return std::nullopt;
  }
  return make_time(yy < 70 ? 2000 + yy : 1900 + yy, month + 1, day, h, m, s);
}

// asctime: "Sun Nov  6 08:49:37 1994"
std::optional<std::int64_t> parse_asctime(std::string_view text) {
  Reader r(text);
  int wday, month, day, year, h, m, s;
  if (!(r.one_of(kDays, wday) && r.literal(" ") && r.one_of(kMonths, month) && r.literal(" ")))
    return std::nullopt;
  if (!(r.literal(" ") ? r.digits(1, day) : r.digits(2, day))) return std::nullopt;
  if (!(r.literal(" ") && clock(r, h, m, s) && r.literal(" ") && r.digits(4, year) && r.at_end()))
    return std::nullopt;
  return make_time(year, month + 1, day, h, m, s);
}

}  // namespace

std::string format_http_date(std::int64_t unix_seconds) {
  std::int64_t days = unix_seconds / 86400;
  std::int64_t secs = unix_seconds % 86400;
  if (secs < 0) {
    secs += 86400;
    --days;
  }
  Civil c = civil_from_days(days);
  auto weekday = static_cast<std::size_t>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  auto year = static_cast<int>(c.year);
  char out[kHttpDateLength];  // "Sun, 06 Nov 1994 08:49:37 GMT"
  kDays[weekday].copy(out, 3);
  out[3] = ',';
  out[4] = ' ';
  put2(out + 5, c.day);
  out[7] = ' ';
  kMonths[static_cast<std::size_t>(c.month - 1)].copy(out + 8, 3);
  out[11] = ' ';
  put2(out + 12, year / 100 % 100);
  put2(out + 14, year % 100);
  out[16] = ' ';
  put2(out + 17, static_cast<int>(secs / 3600));
  out[19] = ':';
  put2(out + 20, static_cast<int>(secs / 60 % 60));
  out[22] = ':';
  put2(out + 23, static_cast<int>(secs % 60));
  std::string_view(" GMT").copy(out + 25, 4);
  return std::string(out, kHttpDateLength);
}

std::optional<std::int64_t> parse_http_date(std::string_view text) {
  if (auto t = parse_imf(text)) return t;
  if (auto t = parse_rfc850(text)) return t;
  return parse_asctime(text);
}

}  // namespace rws::http

namespace rws::http {

std::string_view http_date_now() {
  thread_local std::int64_t cached_second = -1;
  thread_local std::string cached;
  timespec now{};
  clock_gettime(CLOCK_REALTIME_COARSE, &now);
  if (now.tv_sec != cached_second) {
    cached_second = now.tv_sec;
    cached = format_http_date(now.tv_sec);
  }
  return cached;
}

}  // namespace rws::http
