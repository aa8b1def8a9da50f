#include "proxy/forwarding.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <utility>
#include <vector>

#include "h1/request_parser.hpp"
#include "proxy/upstream_request.hpp"

namespace rws::proxy {
namespace {

using Fields = std::initializer_list<std::pair<std::string_view, std::string_view>>;

http::Headers headers(Fields fields) {
  http::Headers h;
  for (const auto& [name, value] : fields)
    h.add(name, value);
  return h;
}

// Names of the fields left, in order, lower case.
std::vector<std::string> names(const http::Headers& h) {
  std::vector<std::string> out;
  for (const http::Field& f : h)
    out.push_back(http::to_lower(f.name));
  return out;
}

using Names = std::vector<std::string>;

// The head append_upstream_request_head() writes, and its fields as a backend parses them.
std::string upstream_head(const http::RequestHead& in, const UpstreamHead& up,
                          const ForwardedFor& client) {
  std::string out;
  append_upstream_request_head(out, in, up, client);
  return out;
}

http::RequestHead parsed(std::string_view head) {
  h1::RequestParser parser;
  EXPECT_EQ(parser.parse(head), h1::RequestParser::Status::kComplete) << head;
  EXPECT_EQ(parser.head_size(), head.size());
  return parser.head();
}

// The fields a backend receives for a GET carrying `fields` from `client`.
http::Headers forwarded(const http::Headers& fields, const ForwardedFor& client) {
  http::RequestHead in;
  in.method = "GET";
  in.path = "/";
  in.headers = fields;
  UpstreamHead up;
  up.host = "backend:8080";
  return parsed(upstream_head(in, up, client)).headers;
}

std::string target(std::string_view path, std::string_view query, std::string_view strip,
                   std::string_view add) {
  std::string out;
  append_target(out, path, query, strip, add);
  return out;
}

// ----- hop-by-hop -------------------------------------------------------------------------------

TEST(RemoveHopByHop, RemovesTheFixedSet) {
  http::Headers h = headers({{"Host", "example.com"},
                             {"Connection", "keep-alive"},
                             {"Keep-Alive", "timeout=5"},
                             {"Proxy-Connection", "keep-alive"},
                             {"TE", "trailers"},
                             {"Transfer-Encoding", "chunked"},
                             {"Content-Length", "10"},
                             {"Upgrade", "h2c"},
                             {"Accept", "*/*"},
                             {"Cache-Control", "no-cache"},
                             {"User-Agent", "t"},    // as long as "connection", kept
                             {"Keep-Alivf", "t"}});  // one letter off, kept
  remove_hop_by_hop(h);
  EXPECT_EQ(names(h), (Names{"host", "accept", "cache-control", "user-agent", "keep-alivf"}));
  EXPECT_EQ(h.get("accept"), "*/*");
}

TEST(RemoveHopByHop, RemovesFieldsNamedInConnection) {
  http::Headers h = headers({{"Connection", "X-Secret, close"},
                             {"Connection", " X-Other ,,"},
                             {"X-Secret", "s"},
                             {"x-secret", "t"},
                             {"X-OTHER", "o"},
                             {"X-Kept", "k"}});
  remove_hop_by_hop(h);
  EXPECT_EQ(names(h), Names{"x-kept"});
}

TEST(RemoveHopByHop, NamesAreCaseInsensitive) {
  http::Headers h = headers(
      {{"CONNECTION", "x-a"}, {"X-A", "1"}, {"keep-ALIVE", "t"}, {"transfer-encoding", "gzip"}});
  remove_hop_by_hop(h);
  EXPECT_TRUE(h.empty()) << h.size();
}

TEST(RemoveHopByHop, KeepUpgradeKeepsTheUpgradeField) {
  http::Headers h = headers({{"Connection", "Upgrade"},
                             {"Upgrade", "websocket"},
                             {"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="},
                             {"Keep-Alive", "timeout=5"}});
  remove_hop_by_hop(h, /*keep_upgrade=*/true);
  EXPECT_EQ(h.get("upgrade"), "websocket");
  EXPECT_EQ(h.get("sec-websocket-key"), "dGhlIHNhbXBsZSBub25jZQ==");
  EXPECT_FALSE(h.contains("connection"));
  EXPECT_FALSE(h.contains("keep-alive"));

  http::Headers without = headers({{"Connection", "Upgrade"}, {"Upgrade", "websocket"}});
  remove_hop_by_hop(without);
  EXPECT_TRUE(without.empty());
}

TEST(RemoveHopByHop, KeepUpgradeStillRemovesOtherNamedFields) {
  http::Headers h =
      headers({{"Connection", "upgrade, X-Hop"}, {"Upgrade", "websocket"}, {"X-Hop", "1"}});
  remove_hop_by_hop(h, true);
  EXPECT_EQ(names(h), Names{"upgrade"});
}

// ----- forwarding fields ------------------------------------------------------------------------

TEST(ForwardingFields, AddsAllFieldsToAFreshRequest) {
  http::Headers h = headers({{"Host", "example.com"}});
  h = forwarded(h, {"192.0.2.7", "https", "example.com"});
  EXPECT_EQ(h.get("x-forwarded-for"), "192.0.2.7");
  EXPECT_EQ(h.get("x-forwarded-proto"), "https");
  EXPECT_EQ(h.get("x-forwarded-host"), "example.com");
  EXPECT_EQ(h.get("forwarded"), "for=192.0.2.7;proto=https;host=example.com");
  EXPECT_EQ(h.get("via"), "1.1 rws");
}

TEST(ForwardingFields, XForwardedForAppendsInOneField) {
  http::Headers h = headers({{"X-Forwarded-For", "203.0.113.1"},
                             {"Accept", "*/*"},
                             {"x-forwarded-for", "198.51.100.2, 198.51.100.3"}});
  h = forwarded(h, {"192.0.2.7", "http", "example.com"});
  EXPECT_EQ(h.count("x-forwarded-for"), 1u);
  EXPECT_EQ(h.get("x-forwarded-for"), "203.0.113.1, 198.51.100.2, 198.51.100.3, 192.0.2.7");
}

TEST(ForwardingFields, ProtoAndHostAreReplacedNotTrusted) {
  http::Headers h = headers({{"X-Forwarded-Proto", "https"}, {"X-Forwarded-Host", "evil.example"}});
  h = forwarded(h, {"192.0.2.7", "http", "example.com"});
  EXPECT_EQ(h.count("x-forwarded-proto"), 1u);
  EXPECT_EQ(h.get("x-forwarded-proto"), "http");
  EXPECT_EQ(h.count("x-forwarded-host"), 1u);
  EXPECT_EQ(h.get("x-forwarded-host"), "example.com");
}

TEST(ForwardingFields, NoHostMeansNoForwardedHost) {
  http::Headers h;
  h = forwarded(h, {"192.0.2.7", "http", ""});
  EXPECT_FALSE(h.contains("x-forwarded-host"));
  EXPECT_EQ(h.get("forwarded"), "for=192.0.2.7;proto=http");
}

TEST(ForwardingFields, AClientCertificateFieldFromTheClientIsNeverForwarded) {
  http::Headers h = headers({{"X-Forwarded-Client-Cert", "Hash=00;Subject=\"CN=admin\""}});
  h = forwarded(h, {"192.0.2.7", "https", "example.com"});
  EXPECT_FALSE(h.contains("x-forwarded-client-cert"));
}

TEST(ForwardingFields, TheVerifiedClientCertificateReplacesTheClientsField) {
  http::ClientCertificate cert;
  cert.subject = "CN=al\"ice\\,O=Example";
  cert.sha256_fingerprint = "ab12";
  http::Headers h = headers({{"x-forwarded-client-cert", "Hash=00"}});
  h = forwarded(h, {"192.0.2.7", "https", "example.com", 11, &cert});
  EXPECT_EQ(h.count("x-forwarded-client-cert"), 1u);
  EXPECT_EQ(h.get("x-forwarded-client-cert"), "Hash=ab12;Subject=\"CN=al\\\"ice\\\\,O=Example\"");
}

TEST(ForwardingFields, ForwardedQuotesIpv6) {
  http::Headers h;
  h = forwarded(h, {"::1", "http", "example.com"});
  EXPECT_EQ(h.get("forwarded"), "for=\"[::1]\";proto=http;host=example.com");
  EXPECT_EQ(h.get("x-forwarded-for"), "::1");  // X-Forwarded-For has no brackets

  http::Headers g;
  g = forwarded(g, {"2001:db8:cafe::17", "https", ""});
  EXPECT_EQ(g.get("forwarded"), "for=\"[2001:db8:cafe::17]\";proto=https");
}

TEST(ForwardingFields, ForwardedQuotesAHostWithAPort) {
  // ':' is not a token character (RFC 7239 §4: value = token / quoted-string).
  http::Headers h;
  h = forwarded(h, {"192.0.2.7", "http", "example.com:8080"});
  EXPECT_EQ(h.get("forwarded"), "for=192.0.2.7;proto=http;host=\"example.com:8080\"");
  EXPECT_EQ(h.get("x-forwarded-host"), "example.com:8080");
}

TEST(ForwardingFields, ForwardedAndViaAppendToEarlierProxies) {
  http::Headers h = headers({{"Forwarded", "for=198.51.100.1;proto=https"},
                             {"Via", "1.0 fred"},
                             {"Via", "1.1 p.example.net"}});
  h = forwarded(h, {"192.0.2.7", "http", "example.com"});
  EXPECT_EQ(h.count("forwarded"), 1u);
  EXPECT_EQ(h.get("forwarded"),
            "for=198.51.100.1;proto=https, for=192.0.2.7;proto=http;host=example.com");
  EXPECT_EQ(h.count("via"), 1u);
  EXPECT_EQ(h.get("via"), "1.0 fred, 1.1 p.example.net, 1.1 rws");
}

TEST(FilterResponseFields, RemovesHopByHopAndAddsVia) {
  http::Headers h = headers({{"Content-Type", "text/plain"},
                             {"Connection", "close, X-Backend-Only"},
                             {"X-Backend-Only", "1"},
                             {"Keep-Alive", "timeout=5"},
                             {"Transfer-Encoding", "chunked"},
                             {"Via", "1.1 origin"},
                             {"Set-Cookie", "a=1"}});
  filter_response_fields(h);
  Names left = names(h);
  std::sort(left.begin(), left.end());
  EXPECT_EQ(left, (Names{"content-type", "set-cookie", "via"}));
  EXPECT_EQ(h.get("via"), "1.1 origin, 1.1 rws");
}

TEST(IsUpgradeRequest, NeedsConnectionUpgradeAndAnUpgradeField) {
  http::RequestHead head;
  head.method = "GET";
  head.headers = headers({{"Connection", "keep-alive, Upgrade"}, {"Upgrade", "websocket"}});
  EXPECT_TRUE(is_upgrade_request(head));
  head.headers = headers({{"Connection", "keep-alive"}, {"Upgrade", "websocket"}});
  EXPECT_FALSE(is_upgrade_request(head));
  head.headers = headers({{"Connection", "upgrade"}});
  EXPECT_FALSE(is_upgrade_request(head));
  head.headers = headers({{"Upgrade", "websocket"}});
  EXPECT_FALSE(is_upgrade_request(head));
  head.headers =
      headers({{"Connection", "keep-alive"}, {"connection", "UPGRADE"}, {"upgrade", "websocket"}});
  EXPECT_TRUE(is_upgrade_request(head));
}

// ----- append_target ----------------------------------------------------------------------------

TEST(RewriteTarget, NothingToDo) {
  EXPECT_EQ(target("/a/b", "", "", ""), "/a/b");
  EXPECT_EQ(target("/a/b", "x=1&y=2", "", ""), "/a/b?x=1&y=2");
  EXPECT_EQ(target("/", "", "", ""), "/");
}

TEST(RewriteTarget, StripIsBySegment) {
  EXPECT_EQ(target("/api/users", "", "/api", ""), "/users");
  EXPECT_EQ(target("/api/users/7", "", "/api", ""), "/users/7");
  EXPECT_EQ(target("/api/", "", "/api", ""), "/");
  EXPECT_EQ(target("/api", "", "/api", ""), "/");  // never an empty target
  EXPECT_EQ(target("/apix/users", "", "/api", ""), "/apix/users");
  EXPECT_EQ(target("/ap", "", "/api", ""), "/ap");
  EXPECT_EQ(target("/v1/api/x", "", "/api", ""), "/v1/api/x");
  EXPECT_EQ(target("/api/v1/x", "", "/api/v1", ""), "/x");
  EXPECT_EQ(target("/api/v10/x", "", "/api/v1", ""), "/api/v10/x");
}

TEST(RewriteTarget, EncodedSlashIsNotASegmentBoundary) {
  EXPECT_EQ(target("/api%2Fusers", "", "/api", ""), "/api%2Fusers");
}

TEST(RewriteTarget, AddPrefix) {
  EXPECT_EQ(target("/users", "", "", "/v2"), "/v2/users");
  EXPECT_EQ(target("/", "", "", "/v2"), "/v2/");
}

TEST(RewriteTarget, StripThenAddKeepsTheQuery) {
  EXPECT_EQ(target("/api/users", "page=2", "/api", "/v2"), "/v2/users?page=2");
  EXPECT_EQ(target("/api", "q=a%20b", "/api", "/internal/v2"), "/internal/v2/?q=a%20b");
  EXPECT_EQ(target("/other", "q=1", "/api", "/v2"), "/v2/other?q=1");
}

TEST(Forwarding, ViaNamesTheVersionTheMessageWasReceivedIn) {
  http::Headers request;
  request = forwarded(request, {"192.0.2.7", "http", "example.com", 10});
  EXPECT_EQ(request.get("via"), "1.0 rws");
  http::Headers response;
  response.add("Via", "2 edge");
  filter_response_fields(response, 20);
  EXPECT_EQ(response.get("via"), "2 edge, 2 rws");
}

// ----- append_upstream_request_head --------------------------------------------------------------

TEST(UpstreamRequestHead, WritesTheRequestLineHostAndFramingItself) {
  http::RequestHead in;
  in.method = "POST";
  in.path = "/api/users";
  in.query = "q=1";
  in.headers = headers({{"Host", "example.com"},
                        {"Content-Length", "999"},
                        {"Transfer-Encoding", "chunked"},
                        {"Expect", "100-continue"},
                        {"Accept", "*/*"}});
  UpstreamHead up;
  up.host = "backend:8080";
  up.strip_prefix = "/api";
  up.add_prefix = "/v2";
  up.content_length = 3;
  up.expect_continue = true;
  http::RequestHead out = parsed(upstream_head(in, up, {"192.0.2.7", "http", "example.com"}));
  EXPECT_EQ(out.method, "POST");
  EXPECT_EQ(out.path, "/v2/users");
  EXPECT_EQ(out.query, "q=1");
  EXPECT_EQ(out.headers.count("host"), 1u);
  EXPECT_EQ(out.headers.get("host"), "backend:8080");
  EXPECT_EQ(out.headers.get("content-length"), "3");
  EXPECT_FALSE(out.headers.contains("transfer-encoding"));
  EXPECT_EQ(out.headers.count("expect"), 1u);
  EXPECT_EQ(out.headers.get("accept"), "*/*");

  up.content_length.reset();
  up.chunked = true;
  up.expect_continue = false;
  out = parsed(upstream_head(in, up, {"192.0.2.7", "http", "example.com"}));
  EXPECT_EQ(out.headers.get("transfer-encoding"), "chunked");
  EXPECT_FALSE(out.headers.contains("content-length"));
  EXPECT_FALSE(out.headers.contains("expect"));
}

TEST(UpstreamRequestHead, RemovesHopByHopFieldsAndThoseConnectionNames) {
  http::Headers in = headers({{"Connection", "keep-alive, X-Secret, Via"},
                              {"X-Secret", "s"},
                              {"Via", "1.0 fred"},
                              {"TE", "trailers"},
                              {"Keep-Alive", "5"},
                              {"Proxy-Connection", "x"},
                              {"Upgrade", "h2c"},
                              {"X-Kept", "1"}});
  http::Headers out = forwarded(in, {"192.0.2.7", "http", "example.com"});
  for (const char* gone :
       {"connection", "x-secret", "te", "keep-alive", "proxy-connection", "upgrade"})
    EXPECT_FALSE(out.contains(gone)) << gone;
  EXPECT_EQ(out.get("x-kept"), "1");
  // The client's Via was named in Connection: only this proxy's entry is left.
  EXPECT_EQ(out.get("via"), "1.1 rws");
}

TEST(UpstreamRequestHead, AFieldNamedInConnectionIsReplacedNotAppendedTo) {
  http::Headers out =
      forwarded(headers({{"Connection", "X-Forwarded-For"}, {"X-Forwarded-For", "7.7.7.7"}}),
                {"192.0.2.7", "http", "example.com"});
  EXPECT_EQ(out.get("x-forwarded-for"), "192.0.2.7");
}

TEST(UpstreamRequestHead, EmptyListValuesDoNotLeaveEmptyElements) {
  http::Headers out = forwarded(
      headers({{"X-Forwarded-For", ""}, {"x-forwarded-for", "1.1.1.1"}, {"Forwarded", ""}}),
      {"192.0.2.7", "http", ""});
  EXPECT_EQ(out.get("x-forwarded-for"), "1.1.1.1, 192.0.2.7");
  EXPECT_EQ(out.get("forwarded"), "for=192.0.2.7;proto=http");
}

TEST(UpstreamRequestHead, UpgradeKeepsUpgradeAndSendsConnectionUpgrade) {
  http::RequestHead in;
  in.method = "GET";
  in.path = "/ws";
  in.headers =
      headers({{"Connection", "Upgrade, X-Hop"}, {"Upgrade", "websocket"}, {"X-Hop", "1"}});
  UpstreamHead up;
  up.host = "b";
  up.upgrade = true;
  http::Headers out = parsed(upstream_head(in, up, {"192.0.2.7", "http", ""})).headers;
  EXPECT_EQ(out.get("upgrade"), "websocket");
  EXPECT_EQ(out.get("connection"), "upgrade");
  EXPECT_FALSE(out.contains("x-hop"));
}

TEST(UpstreamRequestHead, DropsFieldsThatAreNotSafeToSend) {
  http::RequestHead in;
  in.method = "GET";
  in.path = "/";
  in.headers = headers({{"Bad Name", "v"}, {"X-Ctl", "a\rb"}, {"X-Ok", "1"}});
  UpstreamHead up;
  up.host = "b";
  std::string out;
  EXPECT_EQ(append_upstream_request_head(out, in, up, {"192.0.2.7", "http", "bad\rhost"}), 4u);
  http::Headers fields = parsed(out).headers;
  EXPECT_EQ(fields.get("x-ok"), "1");
  EXPECT_FALSE(fields.contains("x-ctl"));
  // The fields that would repeat a Host with a control character are dropped whole.
  EXPECT_FALSE(fields.contains("x-forwarded-host"));
  EXPECT_FALSE(fields.contains("forwarded"));
  EXPECT_EQ(fields.get("x-forwarded-for"), "192.0.2.7");
}

TEST(UpstreamRequestHead, KeepsAsteriskForm) {
  http::RequestHead in;
  in.method = "OPTIONS";
  in.path = "*";
  UpstreamHead up;
  up.host = "b";
  std::string out;
  append_upstream_request_head(out, in, up, {"192.0.2.7", "http", "", 11});
  EXPECT_EQ(out.substr(0, out.find('\r')), "OPTIONS * HTTP/1.1");
}

}  // namespace
}  // namespace rws::proxy
