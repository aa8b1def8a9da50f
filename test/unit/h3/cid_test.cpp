#include "h3/cid.hpp"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace rws::h3 {
namespace {

TEST(Cid, NamesItsOwner) {
  for (std::size_t owner : {std::size_t{0}, std::size_t{1}, std::size_t{7}, std::size_t{255},
                            std::size_t{256}, std::size_t{1023}, kMaxCidOwners - 1}) {
    ngtcp2_cid cid;
    ASSERT_TRUE(make_cid(cid, owner)) << owner;
    EXPECT_EQ(cid.datalen, kCidLength);
    EXPECT_EQ(cid_owner(cid.data, cid.datalen), owner);
  }
}

TEST(Cid, RestIsRandom) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    ngtcp2_cid cid;
    ASSERT_TRUE(make_cid(cid, 3));
    seen.emplace(reinterpret_cast<const char*>(cid.data), cid.datalen);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(Cid, RefusesAnOwnerThatDoesNotFit) {
  ngtcp2_cid cid;
  EXPECT_FALSE(make_cid(cid, kMaxCidOwners));
}

TEST(Cid, OtherLengthsNameNoOwner) {
  const std::uint8_t data[20] = {0, 1};
  EXPECT_EQ(cid_owner(data, 8), std::nullopt);
  EXPECT_EQ(cid_owner(data, kCidLength + 1), std::nullopt);
  EXPECT_EQ(cid_owner(data, 0), std::nullopt);
  EXPECT_EQ(cid_owner(data, kCidLength), 1u);
}

}  // namespace
}  // namespace rws::h3
