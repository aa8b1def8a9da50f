#include "http/negotiation.hpp"

#include <gtest/gtest.h>

namespace rws::http {
namespace {

TEST(Negotiation, Qvalues) {
  EXPECT_EQ(parse_qvalue("1"), 1000);
  EXPECT_EQ(parse_qvalue("0"), 0);
  EXPECT_EQ(parse_qvalue("0.5"), 500);
  EXPECT_EQ(parse_qvalue("0.125"), 125);
  EXPECT_EQ(parse_qvalue("1.000"), 1000);
  EXPECT_EQ(parse_qvalue("1.001"), -1);
  EXPECT_EQ(parse_qvalue("0.1234"), -1);
  EXPECT_EQ(parse_qvalue("2"), -1);
  EXPECT_EQ(parse_qvalue(".5"), -1);
  EXPECT_EQ(parse_qvalue(""), -1);
}

TEST(Negotiation, CodingQuality) {
  EXPECT_EQ(coding_quality("gzip, deflate, br", "br"), 1000);
  EXPECT_EQ(coding_quality("gzip, deflate", "br"), 0);
  EXPECT_EQ(coding_quality("gzip;q=0.5, br;q=0.8", "gzip"), 500);
  EXPECT_EQ(coding_quality("GZIP ; Q=0.5", "gzip"), 500);
  EXPECT_EQ(coding_quality("*;q=0.3, gzip;q=0", "gzip"), 0);
  EXPECT_EQ(coding_quality("*;q=0.3", "br"), 300);
  EXPECT_EQ(coding_quality("", "gzip"), 0);
  EXPECT_EQ(coding_quality("", "identity"), 1);
  EXPECT_EQ(coding_quality("gzip", "identity"), 1);
  EXPECT_EQ(coding_quality("gzip, identity;q=0.7", "identity"), 700);
  EXPECT_EQ(coding_quality("identity;q=0", "identity"), 0);
  EXPECT_EQ(coding_quality("*;q=0", "identity"), 0);
  EXPECT_EQ(coding_quality("gzip;q=bad, br", "gzip"), 0);
}

}  // namespace
}  // namespace rws::http
