#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <vector>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/http/cidr.hpp>
#include <rws/middleware/ip_filter.hpp>

namespace rws::middleware {
namespace {

http::Cidr cidr(std::string_view text) {
  std::optional<http::Cidr> c = http::Cidr::parse(text);
  if (!c) throw std::invalid_argument("test CIDR '" + std::string(text) + "' does not parse");
  return *c;
}

// ----- Cidr -------------------------------------------------------------------------------------

TEST(Cidr, ParseAcceptsBlocksAndSingleAddresses) {
  for (std::string_view text :
       {"10.0.0.0/8", "192.168.0.0/22", "192.0.2.7", "192.0.2.7/32", "0.0.0.0/0", "2001:db8::/32",
        "2001:db8:8000::/33", "::1", "::1/128", "::/0", "fe80::/10", "::ffff:10.0.0.0/104",
        "2001:DB8::/32"}) {
    EXPECT_TRUE(http::Cidr::parse(text).has_value()) << text;
  }
}

TEST(Cidr, ParseRefusesInvalidText) {
  for (std::string_view text : {
           "10.0.0.1/8",           // host bits set
           "192.168.1.0/22",       // host bits set (not a multiple of 8)
           "2001:db8::1/32",       // host bits set
           "::1/127",              // host bit set
           "10.0.0.0/33",          // prefix past 32
           "2001:db8::/129",       // prefix past 128
           "10.0.0.0/",            // empty prefix
           "2001:db8::/",          // empty prefix
           "10.0.0.0/-1",          // sign
           "10.0.0.0/+8",          // sign
           "10.0.0.0/8x",          // trailing garbage
           "10.0.0.0/8/8",         // two prefixes
           "10.0.0.0/ 8",          // space
           "10.0.0.0/4294967304",  // overflows unsigned
           "",                     // nothing
           "/8",                   // no address
           "garbage",
           "10.0.0",
           "10.0.0.256",
           "10.0.0.0.0",
           " 10.0.0.0/8",
           "example.com",
           "[::1]",
           "2001:db8:::/32",
           "::ffff:10.0.0.1/104",  // host bits set in the mapped form
       }) {
    EXPECT_FALSE(http::Cidr::parse(text).has_value()) << "'" << text << "'";
  }
}

TEST(Cidr, ContainsIpv4) {
  http::Cidr ten = cidr("10.0.0.0/8");
  EXPECT_TRUE(ten.contains("10.0.0.0"));
  EXPECT_TRUE(ten.contains("10.255.255.255"));
  EXPECT_FALSE(ten.contains("11.0.0.0"));
  EXPECT_FALSE(ten.contains("9.255.255.255"));

  http::Cidr odd = cidr("192.168.0.0/22");
  EXPECT_TRUE(odd.contains("192.168.0.1"));
  EXPECT_TRUE(odd.contains("192.168.3.255"));
  EXPECT_FALSE(odd.contains("192.168.4.0"));
  EXPECT_FALSE(odd.contains("192.169.0.0"));

  http::Cidr host = cidr("192.0.2.7");
  EXPECT_TRUE(host.contains("192.0.2.7"));
  EXPECT_FALSE(host.contains("192.0.2.6"));
  EXPECT_FALSE(host.contains("192.0.2.8"));

  http::Cidr all = cidr("0.0.0.0/0");
  EXPECT_TRUE(all.contains("0.0.0.0"));
  EXPECT_TRUE(all.contains("255.255.255.255"));
  EXPECT_FALSE(all.contains("::1"));  // IPv4's /0 is every IPv4 address, not every address
  EXPECT_FALSE(all.contains("2001:db8::1"));

  EXPECT_FALSE(ten.contains("not an address"));
  EXPECT_FALSE(ten.contains(""));
}

TEST(Cidr, ContainsIpv6) {
  http::Cidr doc = cidr("2001:db8::/32");
  EXPECT_TRUE(doc.contains("2001:db8::"));
  EXPECT_TRUE(doc.contains("2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"));
  EXPECT_TRUE(doc.contains("2001:DB8::1"));
  EXPECT_FALSE(doc.contains("2001:db9::"));
  EXPECT_FALSE(doc.contains("2001:db7:ffff::"));

  http::Cidr half = cidr("2001:db8::/33");
  EXPECT_TRUE(half.contains("2001:db8:7fff::1"));
  EXPECT_FALSE(half.contains("2001:db8:8000::"));

  http::Cidr loopback = cidr("::1");
  EXPECT_TRUE(loopback.contains("::1"));
  EXPECT_TRUE(loopback.contains("0:0:0:0:0:0:0:1"));
  EXPECT_FALSE(loopback.contains("::2"));
  EXPECT_FALSE(loopback.contains("127.0.0.1"));

  http::Cidr all = cidr("::/0");
  EXPECT_TRUE(all.contains("2001:db8::1"));
  EXPECT_TRUE(all.contains("10.1.2.3"));  // every address, IPv4 included

  EXPECT_FALSE(doc.contains("10.0.0.1"));
}

TEST(Cidr, Ipv4BlocksMatchIpv4MappedAddressesAndBack) {
  http::Cidr ten = cidr("10.0.0.0/8");
  EXPECT_TRUE(ten.contains("::ffff:10.1.2.3"));
  EXPECT_TRUE(ten.contains("::ffff:a01:203"));
  EXPECT_FALSE(ten.contains("::ffff:11.1.2.3"));
  EXPECT_FALSE(ten.contains("::10.1.2.3"));  // IPv4-compatible is not IPv4-mapped

  http::Cidr mapped = cidr("::ffff:10.0.0.0/104");
  EXPECT_TRUE(mapped.contains("10.1.2.3"));
  EXPECT_FALSE(mapped.contains("11.1.2.3"));

  std::optional<std::array<std::uint8_t, 16>> ip = http::parse_ip("10.1.2.3");
  ASSERT_TRUE(ip.has_value());
  EXPECT_EQ(ip, http::parse_ip("::ffff:10.1.2.3"));
  EXPECT_TRUE(ten.contains(*ip));
  EXPECT_FALSE(http::parse_ip("10.1.2.3/8").has_value());
}

// ----- the middleware ---------------------------------------------------------------------------

struct Fixture {
  explicit Fixture(IpFilterOptions options) {
    app.use(ip_filter(std::move(options)));
    app.get("/", [this](Context&) {
      ++calls;
      return text("welcome\n");
    });
  }
  TestResponse from(std::string peer) {
    TestClient client(app);
    return client.get("/").peer(std::move(peer)).send();
  }

  App app;
  int calls = 0;
};

void expect_denied(Fixture& f, const std::string& peer) {
  const int before = f.calls;
  TestResponse r = f.from(peer);
  EXPECT_EQ(r.status, 403) << peer;
  EXPECT_EQ(r.body, "Forbidden: client address " + peer + " is not allowed\n") << peer;
  EXPECT_EQ(f.calls, before) << peer << ": the handler must not run";
}

void expect_allowed(Fixture& f, const std::string& peer) {
  const int before = f.calls;
  TestResponse r = f.from(peer);
  EXPECT_EQ(r.status, 200) << peer;
  EXPECT_EQ(r.body, "welcome\n") << peer;
  EXPECT_EQ(f.calls, before + 1) << peer;
}

TEST(IpFilter, AllowListAdmitsOnlyItsAddresses) {
  Fixture f(IpFilterOptions{{cidr("10.0.0.0/8"), cidr("2001:db8::/32")}, {}});
  expect_allowed(f, "10.1.2.3");
  expect_allowed(f, "::ffff:10.1.2.3");
  expect_allowed(f, "2001:db8::7");
  expect_denied(f, "127.0.0.1");
  expect_denied(f, "11.0.0.1");
  expect_denied(f, "::1");
  expect_denied(f, "2001:db9::7");
}

TEST(IpFilter, DenyListRefusesOnlyItsAddresses) {
  Fixture f(IpFilterOptions{{}, {cidr("192.0.2.0/24"), cidr("::1")}});
  expect_denied(f, "192.0.2.200");
  expect_denied(f, "::ffff:192.0.2.1");
  expect_denied(f, "::1");
  expect_allowed(f, "192.0.3.1");
  expect_allowed(f, "127.0.0.1");
  expect_allowed(f, "2001:db8::1");
}

TEST(IpFilter, DenyWinsOverAllow) {
  Fixture f(IpFilterOptions{{cidr("10.0.0.0/8")}, {cidr("10.6.0.0/16"), cidr("10.0.0.1")}});
  expect_allowed(f, "10.5.255.255");
  expect_allowed(f, "10.7.0.0");
  expect_allowed(f, "10.0.0.2");
  expect_denied(f, "10.6.0.1");
  expect_denied(f, "10.0.0.1");
  expect_denied(f, "172.16.0.1");  // on neither list
}

TEST(IpFilter, UnparsablePeerIsDenied) {
  // Fail closed: a peer that is not an IP literal can be on no allow list and must not slip
  // past a deny list.
  Fixture deny_only(IpFilterOptions{{}, {cidr("10.0.0.0/8")}});
  expect_denied(deny_only, "");
  expect_denied(deny_only, "unix:/run/rws.sock");
  expect_denied(deny_only, "[::1]");
}

TEST(IpFilter, AlsoGuardsUnroutedPaths) {
  Fixture f(IpFilterOptions{{cidr("10.0.0.0/8")}, {}});
  TestClient client(f.app);
  TestResponse r = client.get("/missing").peer("192.0.2.1").send();
  EXPECT_EQ(r.status, 403);
  r = client.get("/missing").peer("10.0.0.1").send();
  EXPECT_EQ(r.status, 404);
}

}  // namespace
}  // namespace rws::middleware
