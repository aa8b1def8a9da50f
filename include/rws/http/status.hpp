#pragma once

#include <string_view>

namespace rws::http {

// The reason phrase registered for `status` (RFC 9110 §15 and the IANA status code registry);
// "Unknown" for codes without one.
std::string_view reason_phrase(int status) noexcept;

// Whether a response with this status never carries content (1xx, 204, 304).
constexpr bool status_forbids_body(int status) noexcept {
  return (status >= 100 && status < 200) || status == 204 || status == 304;
}

}  // namespace rws::http
