#include "h1/serializer.hpp"

#include <charconv>

#include <rws/http/status.hpp>

#include "http/syntax.hpp"

namespace rws::h1 {
namespace syntax = http::syntax;
namespace {

bool is_framing_field(std::string_view name) {
  return http::iequals(name, "content-length") || http::iequals(name, "transfer-encoding") ||
         http::iequals(name, "connection") || http::iequals(name, "keep-alive");
}

bool safe_field(const http::Field& f) {
  return syntax::is_token(f.name) && syntax::is_field_value(f.value);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name);
  out.append(": ");
  out.append(value);
  out.append("\r\n");
}

void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

std::size_t append_response_head(std::string& out, const http::ResponseHead& head,
                                  const ResponseFraming& framing) {
  std::size_t dropped = 0;
  out.append("HTTP/1.1 ");
  append_decimal(out, static_cast<std::uint64_t>(head.status));
  out.push_back(' ');
  std::string_view reason = head.reason;
  if (reason.empty() || !syntax::is_field_value(reason)) reason = http::reason_phrase(head.status);
  out.append(reason);
  out.append("\r\n");

  bool has_date = false;
  bool has_server = false;
  for (const http::Field& f : head.headers) {
    if (is_framing_field(f.name)) continue;
    if (!safe_field(f)) {
      ++dropped;
      continue;
    }
    has_date = has_date || http::iequals(f.name, "date");
    has_server = has_server || http::iequals(f.name, "server");
    append_field(out, f.name, f.value);
  }
  if (!has_date && !framing.date.empty()) append_field(out, "Date", framing.date);
  if (!has_server && !framing.server.empty()) append_field(out, "Server", framing.server);
  if (framing.content_length) {
    out.append("Content-Length: ");
    append_decimal(out, *framing.content_length);
    out.append("\r\n");
  }
  if (framing.chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (!framing.connection.empty()) append_field(out, "Connection", framing.connection);
  out.append("\r\n");
  return dropped;
}

void append_chunk_header(std::string& out, std::size_t size) {
  char buf[20];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, size, 16);
  out.append(buf, end);
  out.append("\r\n");
}

void append_last_chunk(std::string& out, const http::Headers& trailers) {
  out.append("0\r\n");
  for (const http::Field& f : trailers) {
    if (safe_field(f) && !is_framing_field(f.name)) append_field(out, f.name, f.value);
  }
  out.append("\r\n");
}

}  // namespace rws::h1
