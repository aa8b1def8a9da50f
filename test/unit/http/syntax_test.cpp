#include "http/syntax.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rws::http::syntax {
namespace {

// is_field_value checks eight bytes at a time and the rest one by one: every byte value at
// every position of values up to three words long must get the byte-wise answer.
TEST(IsFieldValue, EveryByteAtEveryPosition) {
  for (std::size_t n = 1; n <= 24; ++n) {
    for (std::size_t at = 0; at < n; ++at) {
      for (int b = 0; b < 256; ++b) {
        std::string value(n, 'v');
        value[at] = static_cast<char>(b);
        const bool allowed = b == '\t' || (b >= 0x20 && b != 0x7f);
        ASSERT_EQ(is_field_value(value), allowed) << n << " " << at << " " << b;
      }
    }
  }
}

TEST(IsFieldValue, ObsTextAndTabsAroundABadByte) {
  EXPECT_TRUE(is_field_value(""));
  EXPECT_TRUE(is_field_value("\xff\x80\t\xc3\xa9 text\tmore \x7e"));
  // A word with a tab is looked at byte by byte; a bad byte later in it still counts.
  EXPECT_FALSE(is_field_value("a\tbcdef\x01"));
  EXPECT_FALSE(is_field_value("abcdefgh\tbcdef\x7f"));
  EXPECT_TRUE(is_field_value("abcdefgh\tbcdefgh"));
}

}  // namespace
}  // namespace rws::http::syntax
