#include "ws/utf8.hpp"

#include <gtest/gtest.h>

#include <string>

namespace rws::ws {
namespace {

TEST(Utf8, AcceptsValidText) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("Hello"));
  EXPECT_TRUE(is_valid_utf8("\xC2\x80"));                                      // U+0080
  EXPECT_TRUE(is_valid_utf8("\xDF\xBF"));                                      // U+07FF
  EXPECT_TRUE(is_valid_utf8("\xE0\xA0\x80"));                                  // U+0800
  EXPECT_TRUE(is_valid_utf8("\xED\x9F\xBF"));                                  // U+D7FF
  EXPECT_TRUE(is_valid_utf8("\xEE\x80\x80"));                                  // U+E000
  EXPECT_TRUE(is_valid_utf8("\xEF\xBF\xBF"));                                  // U+FFFF
  EXPECT_TRUE(is_valid_utf8("\xF0\x90\x80\x80"));                              // U+10000
  EXPECT_TRUE(is_valid_utf8("\xF4\x8F\xBF\xBF"));                              // U+10FFFF
  EXPECT_TRUE(is_valid_utf8("\xCE\xBA\xE1\xBD\xB9\xCF\x83\xCE\xBC\xCE\xB5"));  // κόσμε
}

TEST(Utf8, RejectsOverlongEncodings) {
  EXPECT_FALSE(is_valid_utf8("\xC0\xAF"));
  EXPECT_FALSE(is_valid_utf8("\xC1\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x80\xAF"));
  EXPECT_FALSE(is_valid_utf8("\xE0\x9F\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x80\x80\xAF"));
  EXPECT_FALSE(is_valid_utf8("\xF0\x8F\xBF\xBF"));
}

TEST(Utf8, RejectsSurrogates) {
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80"));  // U+D800
  EXPECT_FALSE(is_valid_utf8("\xED\xBF\xBF"));  // U+DFFF
  EXPECT_FALSE(is_valid_utf8("\xED\xA0\x80\xED\xB0\x80"));
}

TEST(Utf8, RejectsAboveMaximum) {
  EXPECT_FALSE(is_valid_utf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(is_valid_utf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(is_valid_utf8("\xFF"));
  EXPECT_FALSE(is_valid_utf8("\xFE"));
}

TEST(Utf8, RejectsStrayAndMissingContinuations) {
  EXPECT_FALSE(is_valid_utf8("\x80"));
  EXPECT_FALSE(is_valid_utf8("a\xBF"));
  EXPECT_FALSE(is_valid_utf8("\xE1\x80"));  // truncated
  EXPECT_FALSE(
      is_valid_utf8("\xE1\x80"
                    "a"));  // interrupted
}

TEST(Utf8, CodePointSplitAcrossPiecesAtEveryPoint) {
  const std::string text = "a\xF0\x9F\x98\x80z";  // U+1F600 in the middle
  for (std::size_t split = 0; split <= text.size(); ++split) {
    Utf8Validator v;
    EXPECT_TRUE(v.feed(text.substr(0, split))) << split;
    EXPECT_TRUE(v.feed(text.substr(split))) << split;
    EXPECT_TRUE(v.complete()) << split;
  }
}

TEST(Utf8, IncompleteUntilTheLastByteArrives) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xE2\x82"));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed("\xAC"));  // €
  EXPECT_TRUE(v.complete());
}

TEST(Utf8, RejectionIsReportedAtTheFirstBadByteAndSticks) {
  Utf8Validator v;
  EXPECT_TRUE(v.feed("\xED"));
  EXPECT_FALSE(v.feed("\xA0"));  // surrogate range, before the third byte
  EXPECT_FALSE(v.feed("a"));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.feed("a"));
  EXPECT_TRUE(v.complete());
}

}  // namespace
}  // namespace rws::ws
