#include "redis/resp.hpp"

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

namespace rws::redis {
namespace {

Reply integer(std::int64_t v) {
  return Reply{Reply::Type::kInteger, {}, v, {}};
}
Reply bulk(std::string s) {
  return Reply{Reply::Type::kBulk, std::move(s), 0, {}};
}

// Parses `wire` whole and checks it takes all of it.
Reply parse_whole(std::string_view wire) {
  Reply r;
  std::size_t used = 0;
  EXPECT_EQ(parse_reply(wire, r, used), ParseStatus::kComplete) << wire;
  EXPECT_EQ(used, wire.size()) << wire;
  return r;
}

// Every proper prefix of `wire` is incomplete, and the whole parses to `expected`.
void expect_split_safe(std::string_view wire, const Reply& expected) {
  for (std::size_t n = 0; n < wire.size(); ++n) {
    Reply r;
    std::size_t used = 0;
    EXPECT_EQ(parse_reply(wire.substr(0, n), r, used), ParseStatus::kIncomplete)
        << "prefix of " << n << " bytes of " << wire;
  }
  EXPECT_EQ(parse_whole(wire), expected);
}

TEST(Resp, SimpleStringErrorAndInteger) {
  EXPECT_EQ(parse_whole("+OK\r\n"), (Reply{Reply::Type::kSimple, "OK", 0, {}}));
  EXPECT_EQ(parse_whole("-NOSCRIPT No matching script\r\n"),
            (Reply{Reply::Type::kError, "NOSCRIPT No matching script", 0, {}}));
  EXPECT_EQ(parse_whole(":42\r\n"), integer(42));
  EXPECT_EQ(parse_whole(":-7\r\n"), integer(-7));
  EXPECT_EQ(parse_whole(":9223372036854775807\r\n"), integer(INT64_MAX));
}

TEST(Resp, BulkStringsIncludingEmptyBinaryAndNil) {
  EXPECT_EQ(parse_whole("$5\r\nhello\r\n"), bulk("hello"));
  EXPECT_EQ(parse_whole("$0\r\n\r\n"), bulk(""));
  EXPECT_EQ(parse_whole(std::string_view("$4\r\na\r\n\0\r\n", 10)),
            bulk(std::string("a\r\n\0", 4)));
  EXPECT_EQ(parse_whole("$-1\r\n"), Reply{});
  EXPECT_EQ(parse_whole("*-1\r\n"), Reply{});
}

TEST(Resp, NestedArrays) {
  Reply expected{Reply::Type::kArray, {}, 0, {integer(1), bulk("x"), Reply{}}};
  expected.elements.push_back(Reply{Reply::Type::kArray, {}, 0, {integer(2)}});
  EXPECT_EQ(parse_whole("*4\r\n:1\r\n$1\r\nx\r\n$-1\r\n*1\r\n:2\r\n"), expected);
  EXPECT_EQ(parse_whole("*0\r\n"), (Reply{Reply::Type::kArray, {}, 0, {}}));
}

TEST(Resp, EverySplitPointIsIncompleteUntilTheLastByte) {
  expect_split_safe("+OK\r\n", Reply{Reply::Type::kSimple, "OK", 0, {}});
  expect_split_safe("$5\r\nhello\r\n", bulk("hello"));
  expect_split_safe(
      "*4\r\n:1\r\n:4\r\n:1000000\r\n:0\r\n",
      Reply{Reply::Type::kArray, {}, 0, {integer(1), integer(4), integer(1000000), integer(0)}});
}

TEST(Resp, TakesOneReplyAndLeavesTheNext) {
  Reply r;
  std::size_t used = 0;
  ASSERT_EQ(parse_reply(":1\r\n+OK\r\n", r, used), ParseStatus::kComplete);
  EXPECT_EQ(r, integer(1));
  EXPECT_EQ(used, 4u);
}

TEST(Resp, RejectsMalformedInput) {
  for (std::string_view bad : {"?\r\n", "+OK\n", "+O\rK\r\n", ":\r\n", ":12a\r\n", ":+1\r\n",
                               ":-\r\n", ":99999999999999999999\r\n", "$-2\r\n", "$3\r\nabcd\r\n",
                               "$3\r\nabc\rx", "$x\r\n", "*-2\r\n", "*1\r\n?\r\n", "\r\n"}) {
    Reply r;
    std::size_t used = 0;
    EXPECT_EQ(parse_reply(bad, r, used), ParseStatus::kError) << bad;
  }
}

TEST(Resp, BoundsSizesAndDepth) {
  Reply r;
  std::size_t used = 0;
  const std::string too_big = "$" + std::to_string(kMaxBulk + 1) + "\r\n";
  EXPECT_EQ(parse_reply(too_big, r, used), ParseStatus::kError);
  const std::string too_many = "*" + std::to_string(kMaxElements + 1) + "\r\n";
  EXPECT_EQ(parse_reply(too_many, r, used), ParseStatus::kError);
  std::string deep;
  for (std::size_t i = 0; i <= kMaxDepth; ++i)
    deep += "*1\r\n";
  deep += ":1\r\n";
  EXPECT_EQ(parse_reply(deep, r, used), ParseStatus::kError);
  EXPECT_EQ(parse_reply(std::string(kMaxLine + 3, '+'), r, used), ParseStatus::kError);
}

TEST(Resp, CommandsAreArraysOfBulkStrings) {
  std::string out;
  const std::string_view args[] = {"EVALSHA", "abc", "1", std::string_view("k\0\r\n", 4), ""};
  append_command(out, args);
  constexpr char kWire[] =
      "*5\r\n$7\r\nEVALSHA\r\n$3\r\nabc\r\n$1\r\n1\r\n$4\r\nk\0\r\n\r\n$0\r\n\r\n";
  EXPECT_EQ(out, std::string(kWire, sizeof kWire - 1));
  // A command parses back as the array it is.
  Reply r = parse_whole(out);
  ASSERT_EQ(r.type, Reply::Type::kArray);
  ASSERT_EQ(r.elements.size(), 5u);
  EXPECT_EQ(r.elements[3], bulk(std::string("k\0\r\n", 4)));
}

}  // namespace
}  // namespace rws::redis
