#include "server/target_redaction.hpp"

#include <array>
#include <cctype>

namespace rws::server {
namespace {

constexpr std::array<std::string_view, 11> kCredentialNames = {
    "access_token", "token", "password",  "passwd", "secret", "api_key",
    "apikey",       "key",   "signature", "sig",    "auth"};

constexpr std::size_t kLongestName = 12;  // "access_token"

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Percent-decodes and lower-cases a parameter name ('+' is a space) into `out`; false when it is
// longer than any credential name (then it is not one).
bool decoded_lower_name(std::string_view raw, std::string& out) {
  out.clear();
  for (std::size_t i = 0; i < raw.size(); ++i) {
    char c = raw[i];
    if (c == '%' && i + 2 < raw.size() && hex_value(raw[i + 1]) >= 0 &&
        hex_value(raw[i + 2]) >= 0) {
      c = static_cast<char>(hex_value(raw[i + 1]) * 16 + hex_value(raw[i + 2]));
      i += 2;
    } else if (c == '+') {
      c = ' ';
    }
    if (out.size() == kLongestName) return false;
    out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return true;
}

}  // namespace

bool credential_parameter(std::string_view name) {
  std::string lower;
  if (!decoded_lower_name(name, lower)) return false;
  for (std::string_view known : kCredentialNames) {
    if (lower == known) return true;
  }
  return false;
}

std::string_view redact_target(std::string_view target, std::string& scratch) {
  const std::size_t query = target.find('?');
  if (query == std::string_view::npos) return target;
  const std::size_t fragment = target.find('#', query);
  const std::size_t query_end = fragment == std::string_view::npos ? target.size() : fragment;
  bool redacted = false;
  std::size_t copied = 0;  // bytes of target already in scratch (when redacted)
  std::size_t pos = query + 1;
  while (pos <= query_end) {
    std::size_t end = target.find('&', pos);
    if (end == std::string_view::npos || end > query_end) end = query_end;
    const std::string_view pair = target.substr(pos, end - pos);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && eq + 1 < pair.size() &&
        credential_parameter(pair.substr(0, eq))) {
      if (!redacted) scratch.clear();
      redacted = true;
      const std::size_t value_start = pos + eq + 1;
      scratch.append(target.data() + copied, value_start - copied);
      scratch += "REDACTED";
      copied = end;
    }
    pos = end + 1;
  }
  if (!redacted) return target;
  scratch.append(target.data() + copied, target.size() - copied);
  return scratch;
}

}  // namespace rws::server
