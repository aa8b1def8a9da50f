#pragma once
// Set-Cookie (RFC 6265bis §4.1) builder with every attribute.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include <rws/http/response.hpp>

namespace rws {

enum class SameSite { kStrict, kLax, kNone };

class SetCookie {
 public:
  // Throws std::invalid_argument when `name` is not a token or `value` holds characters a
  // cookie-value may not (controls, whitespace, '"', ',', ';', '\').
  SetCookie(std::string name, std::string value);

  SetCookie& expires(std::chrono::system_clock::time_point when);
  SetCookie& max_age(std::chrono::seconds age);  // negative or zero deletes the cookie
  SetCookie& domain(std::string domain);
  SetCookie& path(std::string path);
  SetCookie& secure(bool on = true);
  SetCookie& http_only(bool on = true);
  SetCookie& same_site(SameSite mode);     // kNone also sets Secure, as browsers require
  SetCookie& partitioned(bool on = true);  // CHIPS; also sets Secure

  // The Set-Cookie field value.
  std::string to_string() const;
  // Adds the field to `response`.
  void apply(http::Response& response) const;

 private:
  std::string name_;
  std::string value_;
  std::optional<std::int64_t> expires_;  // unix seconds
  std::optional<std::int64_t> max_age_;
  std::string domain_;
  std::string path_;
  bool secure_ = false;
  bool http_only_ = false;
  std::optional<SameSite> same_site_;
  bool partitioned_ = false;
};

}  // namespace rws
