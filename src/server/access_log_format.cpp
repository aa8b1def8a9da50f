#include "server/access_log_format.hpp"

#include <ctime>

#include <fmt/format.h>

namespace rws::server {
namespace {

constexpr char kHex[] = "0123456789abcdef";

std::string_view protocol_name(int version) {
  switch (version) {
    case 10: return "HTTP/1.0";
    case 20: return "HTTP/2.0";
    case 30: return "HTTP/3.0";
    default: return "HTTP/1.1";
  }
}

// Quoted-field escaping as nginx does it: \" \\ and \xHH for controls and non-ASCII bytes.
void append_escaped(std::string& out, std::string_view s) {
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
}

// A JSON string value; bytes outside printable ASCII become \u00XX so the line is always valid
// JSON whatever the client sent.
void append_json_string(std::string& out, std::string_view s) {
  out += '"';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || u >= 0x7f) {
      out += "\\u00";
      out += kHex[u >> 4];
      out += kHex[u & 15];
    } else {
      out += c;
    }
  }
  out += '"';
}

std::tm utc(std::chrono::system_clock::time_point t) {
  std::time_t secs = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return tm;
}

void append_dash_or_escaped(std::string& out, std::string_view s) {
  if (s.empty()) {
    out += '-';
  } else {
    append_escaped(out, s);
  }
}

}  // namespace

void append_combined(const http::ExchangeRecord& r, std::string& out) {
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  std::tm tm = utc(r.start);
  append_escaped(out, r.peer_address);
  fmt::format_to(std::back_inserter(out), " - - [{:02}/{}/{:04}:{:02}:{:02}:{:02} +0000] \"",
                 tm.tm_mday, kMonths[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                 tm.tm_sec);
  if (r.method == "-") {
    out += '-';
  } else {
    append_escaped(out, r.method);
    out += ' ';
    append_escaped(out, r.target);
    out += ' ';
    out += protocol_name(r.version);
  }
  fmt::format_to(std::back_inserter(out), "\" {} {} \"", r.status, r.body_bytes);
  append_dash_or_escaped(out, r.referer);
  out += "\" \"";
  append_dash_or_escaped(out, r.user_agent);
  out += "\"\n";
}

void append_json(const http::ExchangeRecord& r, std::string& out) {
  std::tm tm = utc(r.start);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(r.start.time_since_epoch()) %
            1000;
  fmt::format_to(std::back_inserter(out),
                 "{{\"time\":\"{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z\",\"remote_addr\":",
                 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                 ms.count());
  append_json_string(out, r.peer_address);
  out += ",\"method\":";
  append_json_string(out, r.method);
  out += ",\"target\":";
  append_json_string(out, r.target);
  out += ",\"protocol\":";
  append_json_string(out, protocol_name(r.version));
  double duration_ms = std::chrono::duration<double, std::milli>(r.duration).count();
  fmt::format_to(std::back_inserter(out),
                 ",\"status\":{},\"bytes_sent\":{},\"duration_ms\":{:.3f},\"referer\":", r.status,
                 r.body_bytes, duration_ms);
  append_json_string(out, r.referer);
  out += ",\"user_agent\":";
  append_json_string(out, r.user_agent);
  fmt::format_to(std::back_inserter(out), ",\"connection_id\":{}}}\n", r.connection_id);
}

}  // namespace rws::server
