#include <stdexcept>

#include <rws/app/cookie.hpp>

#include "http/date.hpp"
#include "http/syntax.hpp"

namespace rws {
namespace {

// cookie-octet = %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E
bool cookie_octet(char c) {
  auto u = static_cast<unsigned char>(c);
  return u == 0x21 || (u >= 0x23 && u <= 0x2B) || (u >= 0x2D && u <= 0x3A) ||
         (u >= 0x3C && u <= 0x5B) || (u >= 0x5D && u <= 0x7E);
}

// Attribute values may not contain controls or ';'.
void check_attribute(const std::string& value, const char* what) {
  for (char c : value) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ';') {
      throw std::invalid_argument(std::string("cookie ") + what + " has a forbidden character");
    }
  }
}

}  // namespace

SetCookie::SetCookie(std::string name, std::string value)
    : name_(std::move(name)), value_(std::move(value)) {
  if (!http::syntax::is_token(name_)) throw std::invalid_argument("cookie name is not a token");
  for (char c : value_) {
    if (!cookie_octet(c)) throw std::invalid_argument("cookie value has a forbidden character");
  }
}

SetCookie& SetCookie::expires(std::chrono::system_clock::time_point when) {
  expires_ = std::chrono::duration_cast<std::chrono::seconds>(when.time_since_epoch()).count();
  return *this;
}
SetCookie& SetCookie::max_age(std::chrono::seconds age) {
  max_age_ = age.count();
  return *this;
}
SetCookie& SetCookie::domain(std::string domain) {
  check_attribute(domain, "domain");
  domain_ = std::move(domain);
  return *this;
}
SetCookie& SetCookie::path(std::string path) {
  check_attribute(path, "path");
  path_ = std::move(path);
  return *this;
}
SetCookie& SetCookie::secure(bool on) {
  secure_ = on;
  return *this;
}
SetCookie& SetCookie::http_only(bool on) {
  http_only_ = on;
  return *this;
}
SetCookie& SetCookie::same_site(SameSite mode) {
  same_site_ = mode;
  if (mode == SameSite::kNone) secure_ = true;
  return *this;
}
SetCookie& SetCookie::partitioned(bool on) {
  partitioned_ = on;
  if (on) secure_ = true;
  return *this;
}

std::string SetCookie::to_string() const {
  std::string out = name_ + "=" + value_;
  if (expires_) out += "; Expires=" + http::format_http_date(*expires_);
  if (max_age_) out += "; Max-Age=" + std::to_string(*max_age_ < 0 ? 0 : *max_age_);
  if (!domain_.empty()) out += "; Domain=" + domain_;
  if (!path_.empty()) out += "; Path=" + path_;
  if (secure_) out += "; Secure";
  if (http_only_) out += "; HttpOnly";
  if (same_site_) {
    static constexpr const char* kModes[] = {"Strict", "Lax", "None"};
    out += "; SameSite=";
    out += kModes[static_cast<int>(*same_site_)];
  }
  if (partitioned_) out += "; Partitioned";
  return out;
}

void SetCookie::apply(http::Response& response) const {
  response.head.headers.add("Set-Cookie", to_string());
}

}  // namespace rws
