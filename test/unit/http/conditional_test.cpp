#include "http/conditional.hpp"

#include <gtest/gtest.h>

#include "http/date.hpp"

namespace rws::http {
namespace {

constexpr std::int64_t kModified = 784111777;  // Sun, 06 Nov 1994 08:49:37 GMT
const Validators kCurrent{"\"abc\"", kModified};

Headers with(std::initializer_list<std::pair<const char*, std::string>> fields) {
  Headers h;
  for (auto& [name, value] : fields)
    h.add(name, value);
  return h;
}

TEST(EtagList, Comparison) {
  EXPECT_TRUE(etag_list_matches("\"abc\"", "\"abc\"", false));
  EXPECT_TRUE(etag_list_matches("\"x\", \"abc\"", "\"abc\"", false));
  EXPECT_TRUE(etag_list_matches("*", "\"abc\"", false));
  EXPECT_FALSE(etag_list_matches("W/\"abc\"", "\"abc\"", false));
  EXPECT_TRUE(etag_list_matches("W/\"abc\"", "\"abc\"", true));
  EXPECT_TRUE(etag_list_matches("\"a,b\", \"abc\"", "\"abc\"", true));
  EXPECT_FALSE(etag_list_matches("\"abcd\"", "\"abc\"", true));
  EXPECT_FALSE(etag_list_matches("abc", "\"abc\"", true));
}

TEST(Preconditions, IfNoneMatch) {
  EXPECT_EQ(evaluate_preconditions(with({{"If-None-Match", "\"abc\""}}), "GET", kCurrent),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate_preconditions(with({{"If-None-Match", "W/\"abc\""}}), "HEAD", kCurrent),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate_preconditions(with({{"If-None-Match", "*"}}), "GET", kCurrent),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate_preconditions(with({{"If-None-Match", "\"zzz\""}}), "GET", kCurrent),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-None-Match", "\"abc\""}}), "POST", kCurrent),
            Precondition::kFailed);
}

TEST(Preconditions, IfNoneMatchOverridesIfModifiedSince) {
  Headers h =
      with({{"If-None-Match", "\"zzz\""}, {"If-Modified-Since", format_http_date(kModified + 10)}});
  EXPECT_EQ(evaluate_preconditions(h, "GET", kCurrent), Precondition::kProceed);
}

TEST(Preconditions, IfModifiedSince) {
  EXPECT_EQ(evaluate_preconditions(with({{"If-Modified-Since", format_http_date(kModified)}}),
                                   "GET", kCurrent),
            Precondition::kNotModified);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Modified-Since", format_http_date(kModified - 1)}}),
                                   "GET", kCurrent),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Modified-Since", "garbage"}}), "GET", kCurrent),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Modified-Since", format_http_date(kModified)}}),
                                   "POST", kCurrent),
            Precondition::kProceed);
}

TEST(Preconditions, IfMatchAndIfUnmodifiedSince) {
  EXPECT_EQ(evaluate_preconditions(with({{"If-Match", "\"abc\""}}), "PUT", kCurrent),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Match", "\"zzz\""}}), "GET", kCurrent),
            Precondition::kFailed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Match", "W/\"abc\""}}), "GET", kCurrent),
            Precondition::kFailed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Match", "*"}}), "GET", kCurrent),
            Precondition::kProceed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Unmodified-Since", format_http_date(kModified - 1)}}),
                                   "GET", kCurrent),
            Precondition::kFailed);
  EXPECT_EQ(evaluate_preconditions(with({{"If-Unmodified-Since", format_http_date(kModified)}}),
                                   "GET", kCurrent),
            Precondition::kProceed);
  // If-Match present: If-Unmodified-Since is not evaluated.
  EXPECT_EQ(evaluate_preconditions(
                with({{"If-Match", "\"abc\""}, {"If-Unmodified-Since", format_http_date(0)}}),
                "GET", kCurrent),
            Precondition::kProceed);
}

TEST(IfRange, EtagAndDate) {
  EXPECT_TRUE(if_range_holds(Headers{}, kCurrent));
  EXPECT_TRUE(if_range_holds(with({{"If-Range", "\"abc\""}}), kCurrent));
  EXPECT_FALSE(if_range_holds(with({{"If-Range", "\"old\""}}), kCurrent));
  EXPECT_FALSE(if_range_holds(with({{"If-Range", "W/\"abc\""}}), kCurrent));
  EXPECT_TRUE(if_range_holds(with({{"If-Range", format_http_date(kModified)}}), kCurrent));
  EXPECT_FALSE(if_range_holds(with({{"If-Range", format_http_date(kModified + 1)}}), kCurrent));
  EXPECT_FALSE(if_range_holds(with({{"If-Range", "nonsense"}}), kCurrent));
}

}  // namespace
}  // namespace rws::http
