#include "proxy/upstream_request.hpp"

#include <array>
#include <charconv>
#include <vector>

#include "http/syntax.hpp"

namespace rws::proxy {
namespace syntax = http::syntax;
namespace {

// The fields the forwarding policy rewrites, in the order they are added when the client sent none.
enum Rewritten : std::size_t { kXff, kXfProto, kXfHost, kForwarded, kVia, kRewrittenCount };

// What happens to a client field on its way to the backend.
enum class Fate { kCopy, kDrop, kRewrite };

struct Classified {
  Fate fate = Fate::kCopy;
  Rewritten which = kXff;
};

// The fixed part of the decision (by name only; fields named in Connection come on top).
// Lengths are compared first because this runs for every request field.
Classified classify(std::string_view name, bool keep_upgrade, bool rewrite_host) {
  if (is_fixed_hop_by_hop(name, keep_upgrade)) return {Fate::kDrop};
  switch (name.size()) {
    case 3:
      if (http::iequals(name, "via")) return {Fate::kRewrite, kVia};
      break;
    case 4:
      if (http::iequals(name, "host")) return {Fate::kDrop};
      break;
    case 6:
      if (http::iequals(name, "expect")) return {Fate::kDrop};
      break;
    case 9:
      if (http::iequals(name, "forwarded")) return {Fate::kRewrite, kForwarded};
      break;
    case 15:
      if (http::iequals(name, "x-forwarded-for")) return {Fate::kRewrite, kXff};
      break;
    case 16:
      if (rewrite_host && http::iequals(name, "x-forwarded-host")) {
        return {Fate::kRewrite, kXfHost};
      }
      break;
    case 17:
      if (http::iequals(name, "x-forwarded-proto")) return {Fate::kRewrite, kXfProto};
      break;
    case 23:
      if (http::iequals(name, "x-forwarded-client-cert")) return {Fate::kDrop};
      break;
    default:
      break;
  }
  return {};
}

constexpr std::array<std::string_view, kRewrittenCount> kNames = {
    "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Forwarded", "Via"};

// Classifies each client field once; the fate and kind of field i are then looked up.
class Writer {
 public:
  Writer(std::string& out, const http::Headers& fields, const UpstreamHead& head,
         const ForwardedFor& client)
      : out_(out), fields_(fields), client_(client) {
    bool has_connection = false;
    for (const http::Field& f : fields) {
      if (http::iequals(f.name, "connection")) has_connection = true;
    }
    if (fields.size() > inline_.size()) spill_.resize(fields.size());
    classes_ = fields.size() > inline_.size() ? spill_.data() : inline_.data();
    std::size_t i = 0;
    for (const http::Field& f : fields) {
      Classified c = classify(f.name, head.upgrade, !client.host.empty());
      if (c.fate != Fate::kDrop && has_connection &&
          named_in_connection(fields, f.name, head.upgrade)) {
        c.fate = Fate::kDrop;
      }
      if (c.fate == Fate::kRewrite) has_client_value_[c.which] = true;
      classes_[i++] = c;
    }
  }

  // Of the i-th client field.
  Fate fate(std::size_t i) const { return classes_[i].fate; }
  Rewritten which(std::size_t i) const { return classes_[i].which; }

  // Writes the rewritten field `w`, spelled as `name`: the surviving client values of the list
  // fields joined (as Headers::joined does) and this proxy's entry after them.
  void rewritten(Rewritten w, std::string_view name) {
    const std::size_t start = out_.size();
    out_ += name;
    out_ += ": ";
    const std::size_t value_start = out_.size();
    if ((w == kXff || w == kForwarded || w == kVia) && has_client_value_[w]) {
      std::size_t i = 0;
      for (const http::Field& f : fields_) {
        const Classified& c = classes_[i++];
        if (c.fate != Fate::kRewrite || c.which != w) continue;
        if (out_.size() > value_start) out_ += ", ";
        out_ += f.value;
      }
      if (out_.size() > value_start) out_ += ", ";
    }
    switch (w) {
      case kXff:
        out_ += client_.client_ip;
        break;
      case kXfProto:
        out_ += client_.proto;
        break;
      case kXfHost:
        out_ += client_.host;
        break;
      case kForwarded:
        append_forwarded_element(out_, client_);
        break;
      case kVia:
        append_via_entry(out_, client_.version);
        break;
      case kRewrittenCount:
        break;
    }
    finish(start, value_start);
  }

  // X-Forwarded-Client-Cert for the connection's verified client certificate, if any.
  void client_cert() {
    if (client_.client_cert == nullptr) return;
    const std::size_t start = out_.size();
    out_ += "X-Forwarded-Client-Cert: ";
    const std::size_t value_start = out_.size();
    append_client_cert_element(out_, *client_.client_cert);
    finish(start, value_start);
  }

  void copy(const http::Field& f) {
    const std::size_t start = out_.size();
    if (!syntax::is_token(f.name)) {
      ++dropped_;
      return;
    }
    out_ += f.name;
    out_ += ": ";
    const std::size_t value_start = out_.size();
    out_ += f.value;
    finish(start, value_start);
  }

  std::size_t dropped() const { return dropped_; }

 private:
  // Keeps the field just written when its value is safe, else takes it back.
  void finish(std::size_t start, std::size_t value_start) {
    if (!syntax::is_field_value(std::string_view(out_).substr(value_start))) {
      out_.resize(start);
      ++dropped_;
      return;
    }
    out_ += "\r\n";
  }

  std::string& out_;
  const http::Headers& fields_;
  const ForwardedFor& client_;
  std::array<Classified, 32> inline_;  // enough for typical requests: no allocation
  std::vector<Classified> spill_;
  Classified* classes_ = nullptr;
  std::array<bool, kRewrittenCount> has_client_value_{};
  std::size_t dropped_ = 0;
};

void append_decimal(std::string& out, std::uint64_t v) {
  char buf[24];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, end);
}

}  // namespace

std::size_t append_upstream_request_head(std::string& out, const http::RequestHead& in,
                                         const UpstreamHead& head, const ForwardedFor& client) {
  out.reserve(out.size() + 512);  // one allocation for a typical head
  out += in.method;
  out += ' ';
  if (in.path == "*") {
    out += '*';
  } else {
    append_target(out, in.path, in.query, head.strip_prefix, head.add_prefix);
  }
  out += " HTTP/1.1\r\nHost: ";
  out += head.host;
  out += "\r\n";

  Writer writer(out, in.headers, head, client);
  std::array<bool, kRewrittenCount> written{};
  written[kXfHost] = client.host.empty();  // then the client's X-Forwarded-Host passes as is
  std::size_t i = 0;
  for (const http::Field& f : in.headers) {
    const std::size_t index = i++;
    switch (writer.fate(index)) {
      case Fate::kDrop:
        break;
      case Fate::kCopy:
        writer.copy(f);
        break;
      case Fate::kRewrite: {
        const Rewritten w = writer.which(index);
        if (!written[w]) writer.rewritten(w, f.name);
        written[w] = true;
        break;
      }
    }
  }
  for (std::size_t w = 0; w < kRewrittenCount; ++w) {
    if (!written[w]) writer.rewritten(static_cast<Rewritten>(w), kNames[w]);
  }
  writer.client_cert();

  if (head.expect_continue) out += "Expect: 100-continue\r\n";
  if (head.content_length) {
    out += "Content-Length: ";
    append_decimal(out, *head.content_length);
    out += "\r\n";
  }
  if (head.chunked) out += "Transfer-Encoding: chunked\r\n";
  if (head.upgrade) out += "Connection: upgrade\r\n";
  out += "\r\n";
  return writer.dropped();
}

}  // namespace rws::proxy
