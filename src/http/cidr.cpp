#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <string>

#include <rws/http/cidr.hpp>

namespace rws::http {

std::optional<std::array<std::uint8_t, 16>> parse_ip(std::string_view address) {
  std::array<std::uint8_t, 16> out{};
  std::string text(address);
  if (text.find(':') == std::string::npos) {
    in_addr v4{};
    if (::inet_pton(AF_INET, text.c_str(), &v4) != 1) return std::nullopt;
    out[10] = out[11] = 0xff;
    std::memcpy(out.data() + 12, &v4, 4);
    return out;
  }
  in6_addr v6{};
  if (::inet_pton(AF_INET6, text.c_str(), &v6) != 1) return std::nullopt;
  std::memcpy(out.data(), &v6, 16);
  return out;
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  std::size_t slash = text.find('/');
  std::string_view address = text.substr(0, slash);
  std::optional<std::array<std::uint8_t, 16>> ip = parse_ip(address);
  if (!ip) return std::nullopt;
  const bool v4 = address.find(':') == std::string_view::npos;
  unsigned bits = v4 ? 32 : 128;
  if (slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), bits);
    if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size() ||
        bits > (v4 ? 32u : 128u)) {
      return std::nullopt;
    }
  }
  Cidr cidr;
  cidr.network_ = *ip;
  cidr.prefix_ = v4 ? 96 + bits : bits;
  for (unsigned i = cidr.prefix_; i < 128; ++i) {  // host bits must be zero
    if (cidr.network_[i / 8] & (0x80 >> (i % 8))) return std::nullopt;
  }
  return cidr;
}

bool Cidr::contains(const std::array<std::uint8_t, 16>& address) const {
  const unsigned whole = prefix_ / 8;
  if (!std::equal(network_.begin(), network_.begin() + whole, address.begin())) return false;
  if (prefix_ % 8 == 0) return true;
  const std::uint8_t mask = static_cast<std::uint8_t>(0xff << (8 - prefix_ % 8));
  return (network_[whole] & mask) == (address[whole] & mask);
}

bool Cidr::contains(std::string_view address) const {
  std::optional<std::array<std::uint8_t, 16>> ip = parse_ip(address);
  return ip && contains(*ip);
}

}  // namespace rws::http
