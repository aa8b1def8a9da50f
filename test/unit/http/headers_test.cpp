#include <gtest/gtest.h>

#include <string>

#include <rws/http/headers.hpp>

namespace rws::http {
namespace {

TEST(Iequals, FoldsOnlyAsciiLettersAtEveryPosition) {
  const std::string lower = "x-forwarded-proto-and-more-0123456789";
  for (std::size_t i = 0; i < lower.size(); ++i) {
    std::string upper = lower;
    if (upper[i] >= 'a' && upper[i] <= 'z') upper[i] = char(upper[i] - 32);
    EXPECT_TRUE(iequals(lower, upper)) << i;
    std::string other = lower;
    other[i] = other[i] == '-' ? '_' : '~';
    EXPECT_FALSE(iequals(lower, other)) << i;
  }
}

TEST(Iequals, EveryLengthAndPosition) {
  // Short, word-sized and overlapping-tail comparisons take different paths: every length up to
  // three words, a difference or a case change at every position.
  const std::string text = "abcdefghijklmnopqrstuvwx";
  for (std::size_t n = 0; n <= text.size(); ++n) {
    const std::string lower = text.substr(0, n);
    EXPECT_TRUE(iequals(lower, lower)) << n;
    for (std::size_t i = 0; i < n; ++i) {
      std::string upper = lower;
      upper[i] = char(upper[i] - 32);
      EXPECT_TRUE(iequals(lower, upper)) << n << " " << i;
      EXPECT_TRUE(iequals(upper, lower)) << n << " " << i;
      std::string other = lower;
      other[i] = '-';
      EXPECT_FALSE(iequals(lower, other)) << n << " " << i;
      EXPECT_FALSE(iequals(other, upper)) << n << " " << i;
    }
  }
}

TEST(Iequals, NeighboursOfTheLetterRangesAreNotFolded) {
  // '@' '[' '`' '{' sit next to 'A'/'Z'/'a'/'z': a fold by OR 0x20 would equate them.
  EXPECT_FALSE(iequals("@@@@@@@@@", "`````````"));
  EXPECT_FALSE(iequals("[[[[[[[[[", "{{{{{{{{{"));
  EXPECT_TRUE(iequals("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"));
  // Bytes above 0x7f compare exactly.
  EXPECT_FALSE(iequals("\xc1\xc1\xc1\xc1\xc1\xc1\xc1\xc1", "\xe1\xe1\xe1\xe1\xe1\xe1\xe1\xe1"));
  EXPECT_TRUE(iequals("", ""));
  EXPECT_FALSE(iequals("a", "ab"));
}

TEST(Headers, SetReplacesEveryFieldOfTheName) {
  Headers h;
  h.add("Via", "1.0 a");
  h.add("Accept", "*/*");
  h.add("via", "1.1 b");
  h.set("VIA", "2 c");
  EXPECT_EQ(h.count("via"), 1u);
  EXPECT_EQ(h.get("Via"), "2 c");
  EXPECT_EQ(h.size(), 2u);
}

}  // namespace
}  // namespace rws::http
