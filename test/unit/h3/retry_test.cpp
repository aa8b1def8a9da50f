#include "h3/retry.hpp"

#include <gtest/gtest.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <array>
#include <vector>

#include <asio/ip/address.hpp>

namespace rws::h3 {
namespace {

constexpr std::array<std::uint8_t, 32> kSecret = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
constexpr ngtcp2_tstamp kNow = 1000 * NGTCP2_SECONDS;

ngtcp2_cid cid(std::uint8_t fill, std::size_t size) {
  ngtcp2_cid c;
  c.datalen = size;
  for (std::size_t i = 0; i < size; ++i)
    c.data[i] = static_cast<std::uint8_t>(fill + i);
  return c;
}

asio::ip::udp::endpoint address(const char* ip, std::uint16_t port) {
  return {asio::ip::make_address(ip), port};
}

// A client Initial packet (version 1) padded to 1200 bytes, with a payload nobody can decrypt:
// only its header matters here.
std::vector<std::uint8_t> initial(const ngtcp2_cid& dcid, const ngtcp2_cid& scid,
                                  const std::vector<std::uint8_t>& token) {
  std::vector<std::uint8_t> p = {0xc3, 0, 0, 0, 1};
  p.push_back(static_cast<std::uint8_t>(dcid.datalen));
  p.insert(p.end(), dcid.data, dcid.data + dcid.datalen);
  p.push_back(static_cast<std::uint8_t>(scid.datalen));
  p.insert(p.end(), scid.data, scid.data + scid.datalen);
  p.push_back(0x40 | static_cast<std::uint8_t>(token.size() >> 8));  // 2-byte varint
  p.push_back(static_cast<std::uint8_t>(token.size()));
  p.insert(p.end(), token.begin(), token.end());
  const std::size_t length = 1200 - p.size() - 2;
  p.push_back(0x40 | static_cast<std::uint8_t>(length >> 8));
  p.push_back(static_cast<std::uint8_t>(length));
  p.resize(1200, 0x5a);
  return p;
}

ngtcp2_pkt_hd accept(const std::vector<std::uint8_t>& packet) {
  ngtcp2_pkt_hd hd;
  EXPECT_EQ(ngtcp2_accept(&hd, packet.data(), packet.size()), 0);
  return hd;
}

// The fields of a version 1 Retry packet (RFC 9000 §17.2.5).
struct Retry {
  ngtcp2_cid dcid{};
  ngtcp2_cid scid{};
  std::vector<std::uint8_t> token;
};

Retry parse_retry(const std::uint8_t* p, std::size_t size) {
  Retry r;
  EXPECT_EQ(p[0] & 0xf0, 0xf0);
  EXPECT_EQ(p[1] | p[2] | p[3], 0);
  EXPECT_EQ(p[4], 1);
  std::size_t at = 5;
  r.dcid.datalen = p[at++];
  std::copy_n(p + at, r.dcid.datalen, r.dcid.data);
  at += r.dcid.datalen;
  r.scid.datalen = p[at++];
  std::copy_n(p + at, r.scid.datalen, r.scid.data);
  at += r.scid.datalen;
  const std::size_t tag = 16;  // the Retry Integrity Tag
  r.token.assign(p + at, p + size - tag);
  return r;
}

class RetryTest : public ::testing::Test {
 protected:
  // The client's first Initial, and the Retry answering it.
  void SetUp() override {
    first_ = initial(client_dcid_, client_scid_, {});
    const ngtcp2_pkt_hd hd = accept(first_);
    const std::size_t size = write_retry(out_, hd, client_, retry_scid_, kSecret, kNow);
    ASSERT_GT(size, 0u);
    retry_ = parse_retry(out_.data(), size);
  }

  // The client's second Initial, answering the Retry with `token`.
  RetryCheck answer(const std::vector<std::uint8_t>& token, const asio::ip::udp::endpoint& from,
                    ngtcp2_tstamp now, const ngtcp2_cid& dcid) {
    second_ = initial(dcid, client_scid_, token);
    const ngtcp2_pkt_hd hd = accept(second_);
    return check_retry_token(hd, from, kSecret, now);
  }

  const ngtcp2_cid client_dcid_ = cid(0x10, 8);
  const ngtcp2_cid client_scid_ = cid(0x40, 12);
  const ngtcp2_cid retry_scid_ = cid(0x80, 16);
  const asio::ip::udp::endpoint client_ = address("192.0.2.7", 40000);
  std::vector<std::uint8_t> first_, second_;
  std::array<std::uint8_t, 1200> out_{};
  Retry retry_;
};

TEST_F(RetryTest, RetryPacketEchoesTheClientsIds) {
  EXPECT_TRUE(ngtcp2_cid_eq(&retry_.dcid, &client_scid_));
  EXPECT_TRUE(ngtcp2_cid_eq(&retry_.scid, &retry_scid_));
  ASSERT_FALSE(retry_.token.empty());
  EXPECT_EQ(retry_.token[0], NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY);
}

TEST_F(RetryTest, TokenRoundTripGivesTheOriginalDcid) {
  const RetryCheck check = answer(retry_.token, client_, kNow + NGTCP2_SECONDS, retry_scid_);
  ASSERT_EQ(check.result, RetryCheck::Result::kValid);
  EXPECT_TRUE(ngtcp2_cid_eq(&check.original_dcid, &client_dcid_));
}

TEST_F(RetryTest, TokenExpires) {
  EXPECT_EQ(answer(retry_.token, client_, kNow + kRetryTokenLifetime - NGTCP2_SECONDS, retry_scid_)
                .result,
            RetryCheck::Result::kValid);
  EXPECT_EQ(answer(retry_.token, client_, kNow + kRetryTokenLifetime + NGTCP2_SECONDS, retry_scid_)
                .result,
            RetryCheck::Result::kInvalid);
}

TEST_F(RetryTest, TokenIsBoundToTheClientAddress) {
  const ngtcp2_tstamp now = kNow + NGTCP2_SECONDS;
  EXPECT_EQ(answer(retry_.token, address("192.0.2.8", 40000), now, retry_scid_).result,
            RetryCheck::Result::kInvalid);
  EXPECT_EQ(answer(retry_.token, address("192.0.2.7", 40001), now, retry_scid_).result,
            RetryCheck::Result::kInvalid);
  EXPECT_EQ(answer(retry_.token, address("::ffff:192.0.2.7", 40000), now, retry_scid_).result,
            RetryCheck::Result::kInvalid);
}

TEST_F(RetryTest, TokenIsBoundToTheRetryConnectionId) {
  EXPECT_EQ(answer(retry_.token, client_, kNow + NGTCP2_SECONDS, cid(0x81, 16)).result,
            RetryCheck::Result::kInvalid);
}

TEST_F(RetryTest, ForgedOrTamperedTokensAreInvalid) {
  std::vector<std::uint8_t> tampered = retry_.token;
  tampered[tampered.size() / 2] ^= 1;
  EXPECT_EQ(answer(tampered, client_, kNow, retry_scid_).result, RetryCheck::Result::kInvalid);
  std::vector<std::uint8_t> forged(retry_.token.size(), 0x33);
  forged[0] = NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY;
  EXPECT_EQ(answer(forged, client_, kNow, retry_scid_).result, RetryCheck::Result::kInvalid);
  EXPECT_EQ(answer({NGTCP2_CRYPTO_TOKEN_MAGIC_RETRY}, client_, kNow, retry_scid_).result,
            RetryCheck::Result::kInvalid);
  // Sealed with another secret (another process).
  std::array<std::uint8_t, 32> other = kSecret;
  other[0] ^= 1;
  second_ = initial(retry_scid_, client_scid_, retry_.token);
  const ngtcp2_pkt_hd hd = accept(second_);
  EXPECT_EQ(check_retry_token(hd, client_, other, kNow).result, RetryCheck::Result::kInvalid);
}

TEST_F(RetryTest, NoTokenOrAnotherKindAsksForARetry) {
  EXPECT_EQ(answer({}, client_, kNow, client_dcid_).result, RetryCheck::Result::kNoRetryToken);
  EXPECT_EQ(
      answer({NGTCP2_CRYPTO_TOKEN_MAGIC_REGULAR, 1, 2, 3}, client_, kNow, client_dcid_).result,
      RetryCheck::Result::kNoRetryToken);
}

TEST_F(RetryTest, InvalidTokenCloseIsAnInitialToTheClient) {
  const ngtcp2_pkt_hd hd = accept(first_);
  std::array<std::uint8_t, 1200> out;
  const std::size_t size = write_invalid_token_close(out, hd);
  ASSERT_GT(size, 0u);
  ngtcp2_pkt_hd close;
  ASSERT_GT(ngtcp2_pkt_decode_hd_long(&close, out.data(), size), 0);
  EXPECT_EQ(close.type, NGTCP2_PKT_INITIAL);
  EXPECT_TRUE(ngtcp2_cid_eq(&close.dcid, &client_scid_));
}

TEST(RetrySecret, IsMadeOncePerProcess) {
  const std::span<const std::uint8_t> a = retry_secret();
  const std::span<const std::uint8_t> b = retry_secret();
  EXPECT_EQ(a.data(), b.data());
  EXPECT_EQ(a.size(), 32u);
}

}  // namespace
}  // namespace rws::h3
