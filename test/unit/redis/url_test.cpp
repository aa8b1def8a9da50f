#include <gtest/gtest.h>

#include <string>

#include <rws/redis/url.hpp>

namespace rws::redis {
namespace {

RedisUrl parse_ok(std::string_view text) {
  std::string error;
  std::optional<RedisUrl> url = parse_redis_url(text, error);
  EXPECT_TRUE(url.has_value()) << text << ": " << error;
  return url.value_or(RedisUrl{});
}

std::string parse_error(std::string_view text) {
  std::string error;
  EXPECT_FALSE(parse_redis_url(text, error).has_value()) << text;
  return error;
}

TEST(RedisUrl, HostPortAndDefaults) {
  EXPECT_EQ(parse_ok("redis://127.0.0.1"), (RedisUrl{"127.0.0.1", 6379, "", "", 0}));
  EXPECT_EQ(parse_ok("redis://127.0.0.1:6380"), (RedisUrl{"127.0.0.1", 6380, "", "", 0}));
  EXPECT_EQ(parse_ok("redis://cache.internal:7000/3"),
            (RedisUrl{"cache.internal", 7000, "", "", 3}));
  EXPECT_EQ(parse_ok("redis://[::1]:6379/0"), (RedisUrl{"::1", 6379, "", "", 0}));
  EXPECT_EQ(parse_ok("redis://localhost/"), (RedisUrl{"localhost", 6379, "", "", 0}));
}

TEST(RedisUrl, Credentials) {
  EXPECT_EQ(parse_ok("redis://:s3cret@127.0.0.1:6379/2"),
            (RedisUrl{"127.0.0.1", 6379, "", "s3cret", 2}));
  EXPECT_EQ(parse_ok("redis://app:pw@h:1/0"), (RedisUrl{"h", 1, "app", "pw", 0}));
  EXPECT_EQ(parse_ok("redis://app:p%40ss%3Aw%2Fd@h"), (RedisUrl{"h", 6379, "app", "p@ss:w/d", 0}));
}

TEST(RedisUrl, AddressNeverShowsCredentials) {
  EXPECT_EQ(parse_ok("redis://u:pw@[::1]:7000").address(), "[::1]:7000");
  EXPECT_EQ(parse_ok("redis://:pw@10.0.0.1").address(), "10.0.0.1:6379");
}

TEST(RedisUrl, RejectsWhatCannotBeUsed) {
  EXPECT_EQ(parse_error("rediss://h"), "rediss:// (TLS) is not supported; use redis://");
  EXPECT_EQ(parse_error("http://h"), "must start with redis://");
  EXPECT_EQ(parse_error("redis://"), "the host is missing");
  EXPECT_EQ(parse_error("redis://:6379"), "the host is missing");
  EXPECT_EQ(parse_error("redis://h:0"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(parse_error("redis://h:65536"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(parse_error("redis://h:x"), "the port must be a number from 1 to 65535");
  EXPECT_EQ(parse_error("redis://h:"), "empty port after ':'");
  EXPECT_EQ(parse_error("redis://h/x"),
            "the database after '/' must be a number from 0 to 1000000");
  EXPECT_EQ(parse_error("redis://h/-1"),
            "the database after '/' must be a number from 0 to 1000000");
  EXPECT_EQ(parse_error("redis://h?db=1"), "query and fragment are not supported");
  EXPECT_EQ(parse_error("redis://pw@h"), "the part before '@' must be [username]:password");
  EXPECT_EQ(parse_error("redis://u:@h"), "the password before '@' is empty");
  EXPECT_EQ(parse_error("redis://u:p%4@h"), "malformed percent-encoding in the credentials");
  EXPECT_EQ(parse_error("redis://[::1"), "unterminated '[' in the host");
  EXPECT_EQ(parse_error("redis://[xyz]:1"), "'xyz' is not an IPv6 address");
  EXPECT_EQ(parse_error("redis://ho st"), "'ho st' is not a host name or address");
}

TEST(RedisUrl, ErrorsDoNotEchoThePassword) {
  EXPECT_EQ(parse_error("redis://u:topsecret@bad host").find("topsecret"), std::string::npos);
}

}  // namespace
}  // namespace rws::redis
