#include "server/access_log_format.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <ctime>

#include "server/target_redaction.hpp"

namespace rws::server {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string_view protocol_name(int version) {
  switch (version) {
    case 10:
      return "HTTP/1.0";
    case 20:
      return "HTTP/2.0";
    case 30:
      return "HTTP/3.0";
    default:
      return "HTTP/1.1";
  }
}

// Printable ASCII except the quote and the backslash: written as is.
constexpr std::array<bool, 256> kPlain = [] {
  std::array<bool, 256> table{};
  for (int c = 0x20; c < 0x7f; ++c)
    table[c] = c != '"' && c != '\\';
  return table;
}();

bool plain(unsigned char c) {
  return kPlain[c];
}

// Appends `s` with quotes and backslashes escaped and every byte outside printable ASCII written
// as `escape_prefix` + two hex digits ("\\x" nginx-style, "\\u00" for JSON).
void append_escaped(std::string& out, std::string_view s, std::string_view escape_prefix) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < s.size(); ++i) {
    auto u = static_cast<unsigned char>(s[i]);
    if (plain(u)) continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    if (u == '"' || u == '\\') {
      out += '\\';
      out += static_cast<char>(u);
    } else {
      out.append(escape_prefix);
      out += kHex[u >> 4];
      out += kHex[u & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
}

void append_number(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

void put_digits(char* at, int value, int width) {
  for (int i = width - 1; i >= 0; --i, value /= 10)
    at[i] = static_cast<char>('0' + value % 10);
}

// The time parts of both formats change once a second; each worker formats them once per second.
struct SecondCache {
  std::time_t second = -1;
  char combined[29];  // "[06/Nov/1994:08:49:37 +0000]"
  char iso[21];       // "1994-11-06T08:49:37."
};

const SecondCache& cached(std::chrono::system_clock::time_point t) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  thread_local SecondCache cache;
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  if (secs == cache.second) return cache;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char* c = cache.combined;
  c[0] = '[';
  put_digits(c + 1, tm.tm_mday, 2);
  c[3] = '/';
  std::copy_n(kMonths[tm.tm_mon], 3, c + 4);
  c[7] = '/';
  put_digits(c + 8, tm.tm_year + 1900, 4);
  c[12] = ':';
  put_digits(c + 13, tm.tm_hour, 2);
  c[15] = ':';
  put_digits(c + 16, tm.tm_min, 2);
  c[18] = ':';
  put_digits(c + 19, tm.tm_sec, 2);
  std::copy_n(" +0000]", 7, c + 21);
  char* s = cache.iso;
  put_digits(s, tm.tm_year + 1900, 4);
  s[4] = '-';
  put_digits(s + 5, tm.tm_mon + 1, 2);
  s[7] = '-';
  put_digits(s + 8, tm.tm_mday, 2);
  s[10] = 'T';
  put_digits(s + 11, tm.tm_hour, 2);
  s[13] = ':';
  put_digits(s + 14, tm.tm_min, 2);
  s[16] = ':';
  put_digits(s + 17, tm.tm_sec, 2);
  s[19] = '.';
  cache.second = secs;
  return cache;
}

void append_json_field(std::string& out, std::string_view name, std::string_view value) {
  out += ",\"";
  out.append(name);
  out += "\":\"";
  append_escaped(out, value, "\\u00");
  out += '"';
}

// Microseconds written as `unit`s with three decimals, without floating point: `per_unit` is 1000
// for milliseconds, 1000000 for seconds (then rounded down to the millisecond).
void append_decimal(std::string& out, std::chrono::microseconds d, std::uint64_t per_unit) {
  const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0));
  append_number(out, us / per_unit);
  out += '.';
  char frac[3];
  put_digits(frac, static_cast<int>(us % per_unit / (per_unit / 1000)), 3);
  out.append(frac, 3);
}

std::chrono::microseconds as_micros(std::chrono::steady_clock::duration d) {
  return std::chrono::duration_cast<std::chrono::microseconds>(d);
}

// Writes a combined line into room reserved for it beforehand (see append_combined), so that the
// pieces need no capacity check each.
class CombinedWriter {
 public:
  explicit CombinedWriter(char* at) : p_(at) {}

  char* end() const { return p_; }

  void put(char c) { *p_++ = c; }
  void put(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  // As append_escaped() with the "\\x" prefix: at most four bytes per byte of `s`.
  void put_escaped(std::string_view s) {
    for (char ch : s) {
      const auto u = static_cast<unsigned char>(ch);
      if (plain(u)) {
        *p_++ = ch;
      } else if (u == '"' || u == '\\') {
        *p_++ = '\\';
        *p_++ = ch;
      } else {
        *p_++ = '\\';
        *p_++ = 'x';
        *p_++ = kHex[u >> 4];
        *p_++ = kHex[u & 15];
      }
    }
  }
  // At most 20 digits.
  void put_number(std::uint64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }
  // Seconds with three decimals, as append_decimal(…, 1000000): at most 24 bytes.
  void put_seconds(std::chrono::microseconds d) {
    const auto us = static_cast<std::uint64_t>(std::max<std::int64_t>(d.count(), 0));
    put_number(us / 1000000);
    *p_++ = '.';
    put_digits(p_, static_cast<int>(us % 1000000 / 1000), 3);
    p_ += 3;
  }

 private:
  char* p_;
};

// Room for a combined line besides its escaped fields (which take at most four bytes per
// byte): the literal text, the time, the protocol, two numbers of at most 20 digits and two
// decimals of at most 24 bytes.
constexpr std::size_t kCombinedFixedRoom = 256;

}  // namespace

void append_combined(const http::ExchangeRecord& r, std::string& out) {
  std::string scratch;
  const bool has_request_line = r.method != "-";
  const std::string_view target =
      has_request_line ? redact_target(r.target, scratch) : std::string_view();
  const bool extras = !r.request_id.empty() || !r.upstream_address.empty();
  const std::size_t escaped = r.peer_address.size() + r.method.size() + target.size() +
                              r.referer.size() + r.user_agent.size() + r.request_id.size() +
                              r.upstream_address.size();
  const std::size_t start = out.size();
  out.resize(start + 4 * escaped + kCombinedFixedRoom);
  CombinedWriter w(out.data() + start);
  w.put_escaped(r.peer_address);
  w.put(" - - ");
  w.put(std::string_view(cached(r.start).combined, 28));
  w.put(" \"");
  if (has_request_line) {
    w.put_escaped(r.method);
    w.put(' ');
    w.put_escaped(target);
    w.put(' ');
    w.put(protocol_name(r.version));
  } else {
    w.put('-');
  }
  w.put("\" ");
  w.put_number(static_cast<std::uint64_t>(r.status));
  w.put(' ');
  w.put_number(r.body_bytes);
  w.put(" \"");
  if (r.referer.empty()) {
    w.put('-');
  } else {
    w.put_escaped(r.referer);
  }
  w.put("\" \"");
  if (r.user_agent.empty()) {
    w.put('-');
  } else {
    w.put_escaped(r.user_agent);
  }
  w.put('"');
  // The gateway's additions: present only when the exchange has a request id or went to a
  // backend, so a static server's lines stay plain NCSA combined.
  if (extras) {
    if (!r.request_id.empty()) {
      w.put(" request_id=");
      w.put_escaped(r.request_id);
    }
    if (!r.upstream_address.empty()) {
      w.put(" upstream=");
      w.put_escaped(r.upstream_address);
    }
    if (r.upstream_time) {
      w.put(" upstream_time=");
      w.put_seconds(*r.upstream_time);
    }
    w.put(" request_time=");
    w.put_seconds(as_micros(r.duration));
  }
  w.put('\n');
  out.resize(static_cast<std::size_t>(w.end() - out.data()));
}

void append_json(const http::ExchangeRecord& r, std::string& out) {
  out.reserve(out.size() + 256 + r.target.size() + r.user_agent.size() + r.referer.size());
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(r.start.time_since_epoch()) % 1000;
  char millis[3];
  put_digits(millis, static_cast<int>(ms.count()), 3);
  out += "{\"time\":\"";
  out.append(cached(r.start).iso, 20);
  out.append(millis, 3);
  out += "Z\"";
  append_json_field(out, "remote_addr", r.peer_address);
  append_json_field(out, "method", r.method);
  std::string scratch;
  append_json_field(out, "target", redact_target(r.target, scratch));
  append_json_field(out, "protocol", protocol_name(r.version));
  out += ",\"status\":";
  append_number(out, static_cast<std::uint64_t>(r.status));
  out += ",\"bytes_sent\":";
  append_number(out, r.body_bytes);
  out += ",\"duration_ms\":";
  append_decimal(out, as_micros(r.duration), 1000);
  append_json_field(out, "referer", r.referer);
  append_json_field(out, "user_agent", r.user_agent);
  out += ",\"connection_id\":";
  append_number(out, r.connection_id);
  if (!r.request_id.empty()) append_json_field(out, "request_id", r.request_id);
  if (!r.route.empty()) append_json_field(out, "route", r.route);
  if (!r.upstream_address.empty()) append_json_field(out, "upstream_addr", r.upstream_address);
  if (r.upstream_time) {
    out += ",\"upstream_time_ms\":";
    append_decimal(out, *r.upstream_time, 1000);
  }
  if (r.upstream_status != 0) {
    out += ",\"upstream_status\":";
    append_number(out, static_cast<std::uint64_t>(r.upstream_status));
  }
  out += "}\n";
}

}  // namespace rws::server
