#include "server/access_log_format.hpp"

#include <algorithm>
#include <charconv>
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

bool plain(unsigned char c) {
  return c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
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

// The gateway's additions to a combined line: present only when the exchange has a request id or
// went to a backend, so a static server's lines stay plain NCSA combined.
void append_combined_extras(const http::ExchangeRecord& r, std::string& out) {
  if (r.request_id.empty() && r.upstream_address.empty()) return;
  if (!r.request_id.empty()) {
    out += " request_id=";
    append_escaped(out, r.request_id, "\\x");
  }
  if (!r.upstream_address.empty()) {
    out += " upstream=";
    append_escaped(out, r.upstream_address, "\\x");
  }
  if (r.upstream_time) {
    out += " upstream_time=";
    append_decimal(out, *r.upstream_time, 1000000);
  }
  out += " request_time=";
  append_decimal(out, as_micros(r.duration), 1000000);
}

}  // namespace

void append_combined(const http::ExchangeRecord& r, std::string& out) {
  out.reserve(out.size() + 96 + r.target.size() + r.user_agent.size() + r.referer.size());
  append_escaped(out, r.peer_address, "\\x");
  out += " - - ";
  out.append(cached(r.start).combined, 28);
  out += " \"";
  if (r.method == "-") {
    out += '-';
  } else {
    append_escaped(out, r.method, "\\x");
    out += ' ';
    std::string scratch;
    append_escaped(out, redact_target(r.target, scratch), "\\x");
    out += ' ';
    out += protocol_name(r.version);
  }
  out += "\" ";
  append_number(out, static_cast<std::uint64_t>(r.status));
  out += ' ';
  append_number(out, r.body_bytes);
  out += " \"";
  if (r.referer.empty()) {
    out += '-';
  } else {
    append_escaped(out, r.referer, "\\x");
  }
  out += "\" \"";
  if (r.user_agent.empty()) {
    out += '-';
  } else {
    append_escaped(out, r.user_agent, "\\x");
  }
  out += '"';
  append_combined_extras(r, out);
  out += '\n';
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
