#include "h3/cid.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>

namespace rws::h3 {

bool make_cid(ngtcp2_cid& cid, std::size_t owner) {
  if (owner >= kMaxCidOwners) return false;
  cid.datalen = kCidLength;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, cid.data + 2, kCidLength - 2) != 0) return false;
  cid.data[0] = static_cast<std::uint8_t>(owner >> 8);
  cid.data[1] = static_cast<std::uint8_t>(owner & 0xff);
  return true;
}

std::optional<std::size_t> cid_owner(const std::uint8_t* data, std::size_t size) {
  if (size != kCidLength) return std::nullopt;
  return (std::size_t{data[0]} << 8) | data[1];
}

}  // namespace rws::h3
