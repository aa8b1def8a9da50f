#include "server/https_redirect.hpp"

#include <gtest/gtest.h>

namespace rws::server {
namespace {

TEST(HttpsLocation, KeepsTheHostAndTargetAndUsesTheTlsPort) {
  EXPECT_EQ(https_location("example.com", "/a/b?x=1", 8443), "https://example.com:8443/a/b?x=1");
  EXPECT_EQ(https_location("example.com:80", "/", 8443), "https://example.com:8443/");
  EXPECT_EQ(https_location("Example.COM:8080", "/p", 443), "https://Example.COM/p");
  EXPECT_EQ(https_location("127.0.0.1:8080", "/p", 443), "https://127.0.0.1/p");
}

TEST(HttpsLocation, Ipv6LiteralsKeepTheirBrackets) {
  EXPECT_EQ(https_location("[::1]:8080", "/v6", 8443), "https://[::1]:8443/v6");
  EXPECT_EQ(https_location("[2001:db8::1]", "/", 443), "https://[2001:db8::1]/");
}

TEST(HttpsLocation, RefusesAuthoritiesThatAreNotHosts) {
  EXPECT_EQ(https_location("", "/", 443), "");
  EXPECT_EQ(https_location("evil.test/x", "/", 443), "");
  EXPECT_EQ(https_location("user@evil.test", "/", 443), "");
  EXPECT_EQ(https_location("a.test:80x", "/", 443), "");
  EXPECT_EQ(https_location("[::1", "/", 443), "");
  EXPECT_EQ(https_location("[::1]x", "/", 443), "");
  EXPECT_EQ(https_location("[]:80", "/", 443), "");
  EXPECT_EQ(https_location("a.test\r\nX: y", "/", 443), "");
}

TEST(HttpsLocation, ATargetThatIsNotAPathBecomesTheRoot) {
  EXPECT_EQ(https_location("a.test", "*", 443), "https://a.test/");
  EXPECT_EQ(https_location("a.test", "", 443), "https://a.test/");
}

}  // namespace
}  // namespace rws::server
