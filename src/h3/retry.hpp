#pragma once
// Address validation with Retry packets (RFC 9000 §8.1.2), the http3_retry option: a client
// Initial without a token is answered with a Retry packet carrying a token, and a connection
// starts only from an Initial that brings a valid token back, which proves the client receives
// packets at the address it claims. The token seals the client's address, the Initial's
// destination connection ID and the time, with a secret made once per process, so any worker
// can check a token another worker issued; it expires after kRetryTokenLifetime.
//
// Sans-I/O: these functions build and check packets; endpoint.cpp sends them.

#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>
#include <span>

#include <asio/ip/udp.hpp>

namespace rws::h3 {

inline constexpr ngtcp2_duration kRetryTokenLifetime = 10 * NGTCP2_SECONDS;

// The process-wide secret Retry tokens are sealed with (made on first use; throws
// std::runtime_error when no randomness can be had).
std::span<const std::uint8_t> retry_secret();

// Writes into `out` the Retry packet answering the client Initial `hd` that came from
// `remote`; the client is to use `retry_scid` as its destination connection ID from then on.
// Returns the packet's size; 0 when it cannot be built (nothing is to be sent).
std::size_t write_retry(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& hd,
                        const asio::ip::udp::endpoint& remote, const ngtcp2_cid& retry_scid,
                        std::span<const std::uint8_t> secret, ngtcp2_tstamp now);

// What the token of a client Initial says.
struct RetryCheck {
  enum class Result {
    kNoRetryToken,  // none, or not one of our Retry tokens (e.g. from NEW_TOKEN): send a Retry
    kValid,         // the client answers our Retry: original_dcid is its first Initial's DCID
    kInvalid,       // a Retry token that is forged, expired, or for another address or DCID
  };
  Result result = Result::kNoRetryToken;
  ngtcp2_cid original_dcid{};
};

// Checks the token of client Initial `hd` from `remote` at time `now`.
RetryCheck check_retry_token(const ngtcp2_pkt_hd& hd, const asio::ip::udp::endpoint& remote,
                             std::span<const std::uint8_t> secret, ngtcp2_tstamp now);

// Writes into `out` the Initial packet closing the connection `hd` asked for with INVALID_TOKEN
// (what RFC 9000 §8.1.2 asks for a bad Retry token). Returns its size; 0 when it cannot be
// built.
std::size_t write_invalid_token_close(std::span<std::uint8_t> out, const ngtcp2_pkt_hd& hd);

}  // namespace rws::h3
