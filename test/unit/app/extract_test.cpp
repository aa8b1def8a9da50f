#include <gtest/gtest.h>

#include <cstdint>

#include <rws/app/extract.hpp>

namespace rws {
namespace {

TEST(Extract, Values) {
  EXPECT_EQ(parse_value<int>("42"), 42);
  EXPECT_EQ(parse_value<int>("-7"), -7);
  EXPECT_FALSE(parse_value<int>("+7"));
  EXPECT_FALSE(parse_value<int>("4x"));
  EXPECT_FALSE(parse_value<int>(""));
  EXPECT_FALSE(parse_value<int>("99999999999"));
  EXPECT_FALSE(parse_value<std::uint64_t>("-1"));
  EXPECT_EQ(parse_value<std::uint64_t>("18446744073709551615"), UINT64_MAX);
  EXPECT_EQ(parse_value<double>("2.5"), 2.5);
  EXPECT_FALSE(parse_value<double>("2.5x"));
  EXPECT_EQ(parse_value<bool>("true"), true);
  EXPECT_EQ(parse_value<bool>("0"), false);
  EXPECT_FALSE(parse_value<bool>("yes"));
  EXPECT_EQ(parse_value<std::string>("x y"), "x y");
}

TEST(Extract, Uuid) {
  auto u = Uuid::parse("123e4567-E89B-12d3-a456-426614174000");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->to_string(), "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(u->bytes[0], 0x12);
  for (const char* bad :
       {"", "123e4567e89b12d3a456426614174000", "123e4567-e89b-12d3-a456-42661417400",
        "123e4567-e89b-12d3-a456-42661417400g", "123e4567+e89b-12d3-a456-426614174000"}) {
    EXPECT_FALSE(Uuid::parse(bad)) << bad;
  }
}

TEST(Extract, UrlencodedAndQuery) {
  auto q = parse_urlencoded("a=1&b=x+y&a=%32&flag&&c=%C3%A9&=empty");
  ASSERT_TRUE(q);
  EXPECT_EQ(q->get("a"), "1");
  EXPECT_EQ(q->all("a"), (std::vector<std::string_view>{"1", "2"}));
  EXPECT_EQ(q->get("b"), "x y");
  EXPECT_EQ(q->get("flag"), "");
  EXPECT_EQ(q->get("c"), "\xC3\xA9");
  EXPECT_EQ(q->get(""), "empty");
  EXPECT_FALSE(q->get("zz"));
  EXPECT_FALSE(parse_urlencoded("a=%2"));
  EXPECT_FALSE(parse_urlencoded("a=%zz"));
  EXPECT_EQ(urlencode("a b/é~"), "a%20b%2F%C3%A9~");
}

TEST(Extract, Cookies) {
  auto c = parse_cookie_header(" a=1; b=\"two\";bad name=3; =x; c=; d");
  ASSERT_EQ(c.size(), 3u);
  EXPECT_EQ(c[0], (std::pair<std::string_view, std::string_view>{"a", "1"}));
  EXPECT_EQ(c[1].second, "two");
  EXPECT_EQ(c[2], (std::pair<std::string_view, std::string_view>{"c", ""}));
}

}  // namespace
}  // namespace rws
