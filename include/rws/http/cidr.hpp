#pragma once
// IP address blocks (CIDR notation) for address filters and trusted-proxy lists.

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace rws::http {

// An address block; IPv4 addresses are held as IPv4-mapped IPv6, so "10.0.0.0/8" also matches
// "::ffff:10.1.2.3".
class Cidr {
 public:
  // "10.0.0.0/8", "2001:db8::/32", "192.0.2.7" (a /32), "::1" (a /128); nullopt when invalid
  // (bad address, prefix out of range, or host bits set past the prefix).
  static std::optional<Cidr> parse(std::string_view text);
  bool contains(std::string_view address) const;
  bool contains(const std::array<std::uint8_t, 16>& address) const;

 private:
  std::array<std::uint8_t, 16> network_{};
  unsigned prefix_ = 0;  // of the 128 bits
};

// The address as 16 bytes (IPv4 mapped); nullopt when it is not an IP literal.
std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view address);

}  // namespace rws::http
