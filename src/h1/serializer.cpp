#include "h1/serializer.hpp"

#include <charconv>
#include <cstring>

#include <rws/http/status.hpp>

#include "http/syntax.hpp"

namespace rws::h1 {
namespace syntax = http::syntax;
namespace {

enum class FieldRole { kOther, kFraming, kDate, kServer };

// Which of the fields the session manages `name` is; lengths are compared first because this
// runs for every response field.
FieldRole role_of(std::string_view name) {
  switch (name.size()) {
    case 4:
      return http::iequals(name, "date") ? FieldRole::kDate : FieldRole::kOther;
    case 6:
      return http::iequals(name, "server") ? FieldRole::kServer : FieldRole::kOther;
    case 10:
      return http::iequals(name, "connection") || http::iequals(name, "keep-alive")
                 ? FieldRole::kFraming
                 : FieldRole::kOther;
    case 14:
      return http::iequals(name, "content-length") ? FieldRole::kFraming : FieldRole::kOther;
    case 17:
      return http::iequals(name, "transfer-encoding") ? FieldRole::kFraming : FieldRole::kOther;
    default:
      return FieldRole::kOther;
  }
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

namespace {

// Writes into room reserved beforehand, so that the pieces need no capacity check each.
class HeadWriter {
 public:
  explicit HeadWriter(char* at) : p_(at) {}
  char* end() const { return p_; }
  void put(std::string_view s) {
    std::memcpy(p_, s.data(), s.size());
    p_ += s.size();
  }
  void put_field(std::string_view name, std::string_view value) {
    put(name);
    put(": ");
    put(value);
    put("\r\n");
  }
  // At most 20 digits.
  void put_number(std::uint64_t v) { p_ = std::to_chars(p_, p_ + 20, v).ptr; }

 private:
  char* p_;
};

// Room for a response head besides the handler's fields, reason phrase and framing strings:
// "HTTP/1.1 ", a status of at most 20 digits, the fixed text of the framing fields with a
// Content-Length of at most 20 digits, and the CRLFs.
constexpr std::size_t kResponseHeadFixedRoom = 160;

}  // namespace

std::size_t append_response_head(std::string& out, const http::ResponseHead& head,
                                 const ResponseFraming& framing) {
  std::string_view reason = head.reason;
  if (reason.empty() || !syntax::is_field_value(reason)) reason = http::reason_phrase(head.status);
  std::size_t room = kResponseHeadFixedRoom + reason.size() + framing.date.size() +
                     framing.server.size() + framing.connection.size();
  for (const http::Field& f : head.headers)
    room += f.name.size() + f.value.size() + 4;
  const std::size_t start = out.size();
  out.resize(start + room);
  HeadWriter w(out.data() + start);

  std::size_t dropped = 0;
  w.put("HTTP/1.1 ");
  w.put_number(static_cast<std::uint64_t>(head.status));
  w.put(" ");
  w.put(reason);
  w.put("\r\n");

  bool has_date = false;
  bool has_server = false;
  for (const http::Field& f : head.headers) {
    FieldRole role = role_of(f.name);
    if (role == FieldRole::kFraming) continue;
    if (!safe_field(f)) {
      ++dropped;
      continue;
    }
    has_date = has_date || role == FieldRole::kDate;
    has_server = has_server || role == FieldRole::kServer;
    w.put_field(f.name, f.value);
  }
  if (!has_date && !framing.date.empty()) w.put_field("Date", framing.date);
  if (!has_server && !framing.server.empty()) w.put_field("Server", framing.server);
  if (framing.content_length) {
    w.put("Content-Length: ");
    w.put_number(*framing.content_length);
    w.put("\r\n");
  }
  if (framing.chunked) w.put("Transfer-Encoding: chunked\r\n");
  if (!framing.connection.empty()) w.put_field("Connection", framing.connection);
  w.put("\r\n");
  out.resize(static_cast<std::size_t>(w.end() - out.data()));
  return dropped;
}

std::size_t append_request_head(std::string& out, std::string_view method, std::string_view target,
                                std::string_view host, const http::Headers& headers,
                                std::optional<std::uint64_t> content_length, bool chunked,
                                std::string_view connection) {
  std::size_t dropped = 0;
  out.reserve(out.size() + 512);
  out.append(method);
  out.push_back(' ');
  out.append(target);
  out.append(" HTTP/1.1\r\n");
  append_field(out, "Host", host);
  for (const http::Field& f : headers) {
    if (role_of(f.name) == FieldRole::kFraming || http::iequals(f.name, "host")) continue;
    if (!safe_field(f)) {
      ++dropped;
      continue;
    }
    append_field(out, f.name, f.value);
  }
  if (content_length) {
    out.append("Content-Length: ");
    append_decimal(out, *content_length);
    out.append("\r\n");
  }
  if (chunked) out.append("Transfer-Encoding: chunked\r\n");
  if (!connection.empty()) append_field(out, "Connection", connection);
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
    if (safe_field(f) && role_of(f.name) != FieldRole::kFraming) append_field(out, f.name, f.value);
  }
  out.append("\r\n");
}

}  // namespace rws::h1
