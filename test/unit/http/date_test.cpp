#include "http/date.hpp"

#include <gtest/gtest.h>

namespace rws::http {
namespace {

TEST(HttpDate, FormatsImfFixdate) {
  EXPECT_EQ(format_http_date(784111777), "Sun, 06 Nov 1994 08:49:37 GMT");
  EXPECT_EQ(format_http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
  EXPECT_EQ(format_http_date(951782400), "Tue, 29 Feb 2000 00:00:00 GMT");
  EXPECT_EQ(format_http_date(4102444799), "Thu, 31 Dec 2099 23:59:59 GMT");
  EXPECT_EQ(format_http_date(784111777).size(), kHttpDateLength);
}

TEST(HttpDate, ParsesAllThreeFormats) {
  EXPECT_EQ(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT"), 784111777);
  EXPECT_EQ(parse_http_date("Sun Nov  6 08:49:37 1994"), 784111777);
  EXPECT_EQ(parse_http_date("Thu Nov 24 08:49:37 1994"), 784111777 + 18 * 86400);
}

TEST(HttpDate, RoundTrips) {
  for (std::int64_t t = 0; t < 5'000'000'000; t += 86'399'999 / 7) {
    auto parsed = parse_http_date(format_http_date(t));
    ASSERT_TRUE(parsed.has_value()) << t;
    EXPECT_EQ(*parsed, t);
  }
}

TEST(HttpDate, RejectsMalformed) {
  for (const char* bad : {"", "Sun, 06 Nov 1994 08:49:37", "Sun, 06 Nov 1994 08:49:37 UTC",
                          "Sun, 6 Nov 1994 08:49:37 GMT", "Sun, 31 Feb 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 24:00:00 GMT", "Xyz, 06 Nov 1994 08:49:37 GMT",
                          "Sun, 06 Nov 1994 08:49:37 GMT ", "1994-11-06T08:49:37Z",
                          "Sun, 29 Feb 1900 00:00:00 GMT"}) {
    EXPECT_FALSE(parse_http_date(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace rws::http
