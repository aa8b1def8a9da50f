#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include <rws/http/client_address.hpp>

namespace rws::http {
namespace {

std::vector<Cidr> blocks(std::initializer_list<const char*> texts) {
  std::vector<Cidr> out;
  for (const char* t : texts)
    out.push_back(*Cidr::parse(t));
  return out;
}

Headers fields(std::initializer_list<std::pair<const char*, const char*>> list) {
  Headers h;
  for (const auto& [name, value] : list)
    h.add(name, value);
  return h;
}

const std::vector<Cidr> kTrusted = blocks({"10.0.0.0/8", "::1"});

TEST(ClientAddress, WithoutTrustedProxiesThePeerIsTheClient) {
  EXPECT_EQ(client_address("10.0.0.1", fields({{"X-Forwarded-For", "203.0.113.9"}}), {}),
            "10.0.0.1");
}

TEST(ClientAddress, AnUntrustedPeerCannotClaimAnotherAddress) {
  EXPECT_EQ(client_address("192.0.2.1", fields({{"X-Forwarded-For", "203.0.113.9"}}), kTrusted),
            "192.0.2.1");
}

TEST(ClientAddress, TakesTheRightmostUntrustedHop) {
  // A client may put anything on the left; only what trusted proxies appended counts.
  Headers h =
      fields({{"X-Forwarded-For", "1.1.1.1, 203.0.113.9"}, {"x-forwarded-for", "10.1.1.1"}});
  EXPECT_EQ(client_address("10.0.0.1", h, kTrusted), "203.0.113.9");
}

TEST(ClientAddress, AllTrustedMeansTheLeftmost) {
  EXPECT_EQ(
      client_address("10.0.0.1", fields({{"X-Forwarded-For", "10.2.2.2, 10.3.3.3"}}), kTrusted),
      "10.2.2.2");
}

TEST(ClientAddress, NoForwardingFieldsMeansThePeer) {
  EXPECT_EQ(client_address("::1", fields({{"Accept", "*/*"}}), kTrusted), "::1");
}

TEST(ClientAddress, GarbageEndsTheWalk) {
  EXPECT_EQ(
      client_address("10.0.0.1", fields({{"X-Forwarded-For", "203.0.113.9, unknown"}}), kTrusted),
      "10.0.0.1");
  EXPECT_EQ(client_address("10.0.0.1",
                           fields({{"X-Forwarded-For", "evil, 10.9.9.9, 2001:db8::7, 10.4.4.4"}}),
                           kTrusted),
            "2001:db8::7");
}

TEST(ClientAddress, UsesForwardedWhenThereIsNoXForwardedFor) {
  Headers h =
      fields({{"Forwarded", "for=198.51.100.17;proto=https, for=\"[2001:db8:cafe::17]:4711\""},
              {"forwarded", "for=10.5.5.5:8080;by=10.0.0.1"}});
  EXPECT_EQ(client_address("10.0.0.1", h, kTrusted), "2001:db8:cafe::17");
  EXPECT_EQ(client_address("10.0.0.1", fields({{"Forwarded", "for=unknown"}}), kTrusted),
            "10.0.0.1");
  EXPECT_EQ(
      client_address("10.0.0.1", fields({{"Forwarded", "For=192.0.2.60;proto=http"}}), kTrusted),
      "192.0.2.60");
}

TEST(ClientAddress, XForwardedForWinsOverForwarded) {
  Headers h = fields({{"Forwarded", "for=198.51.100.17"}, {"X-Forwarded-For", "203.0.113.9"}});
  EXPECT_EQ(client_address("10.0.0.1", h, kTrusted), "203.0.113.9");
}

}  // namespace
}  // namespace rws::http
