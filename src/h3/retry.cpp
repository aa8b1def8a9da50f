#include "h3/retry.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <array>
#include <stdexcept>

namespace rws::h3 {
namespace {

const ngtcp2_sockaddr* sockaddr_of(const asio::ip::udp::endpoint& e) {
  return reinterpret_cast<const ngtcp2_sockaddr*>(e.data());
}

ngtcp2_socklen sockaddr_size(const asio::ip::udp::endpoint& e) {
  return static_cast<ngtcp2_socklen>(e.size());
}

}  // namespace

std::span<const std::uint8_t> retry_secret() {
  static const std::array<std::uint8_t, 32> secret = [] {
    std::array<std::uint8_t, 32> s{};
    if (gnutls_rnd(GNUTLS_RND_KEY, s.data(), s.size()) != 0) {
      throw std::runtime_error("HTTP/3: no randomness for the Retry token secret");
    }
    return s;
  }();
  return secret;
}

std::size_t write_retry(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& hd,
                        const asio::ip::udp::endpoint& remote, const ngtcp2_cid& retry_scid,
                        std::span<const std::uint8_t> secret, ngtcp2_tstamp now) {
  std::array<std::uint8_t, NGTCP2_CRYPTO_MAX_RETRY_TOKENLEN> token;
  const ngtcp2_ssize token_size = ngtcp2_crypto_generate_retry_token(
      token.data(), secret.data(), secret.size(), hd.version, sockaddr_of(remote),
      sockaddr_size(remote), &retry_scid, &hd.dcid, now);
  if (token_size < 0) return 0;
  // The Retry goes to the client's source connection ID; its own source is retry_scid.
  const ngtcp2_ssize size =
      ngtcp2_crypto_write_retry(out.data(), out.size(), hd.version, &hd.scid, &retry_scid, &hd.dcid,
                                token.data(), static_cast<std::size_t>(token_size));
  return size > 0 ? static_cast<std::size_t>(size) : 0;
}

RetryCheck check_retry_token(const ngtcp2_pkt_hd& hd, const asio::ip::udp::endpoint& remote,
                             std::span<const std::uint8_t> secret, ngtcp2_tstamp now) {
  RetryCheck check;
  if (hd.token.len == 0 || hd.token.base[0] != NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY) return check;
  // The token was sealed with the Retry's source connection ID, which the client now sends
  // as its destination: a token replayed on another connection ID fails here.
  const int rv = ngtcp2_crypto_verify_retry_token(
      &check.original_dcid, hd.token.base, hd.token.len, secret.data(), secret.size(), hd.version,
      sockaddr_of(remote), sockaddr_size(remote), &hd.dcid, kRetryTokenLifetime, now);
  check.result = rv == 0 ? RetryCheck::Result::kValid : RetryCheck::Result::kInvalid;
  return check;
}

std::size_t write_invalid_token_close(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& hd) {
  const ngtcp2_ssize size = ngtcp2_crypto_write_connection_close(
      out.data(), out.size(), hd.version, &hd.scid, &hd.dcid, NGTCP2_INVALID_TOKEN, nullptr, 0);
  return size > 0 ? static_cast<std::size_t>(size) : 0;
}

}  // namespace rws::h3
