// Keys and tokens come from PyJWT and python3-cryptography (test/support/make_jwt_fixtures.py),
// never from rws, so a symmetric bug in encoding and verifying cannot hide.

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <memory>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/auth/jwt.hpp>
#include <rws/middleware/auth.hpp>

namespace rws::auth {
namespace {

using std::chrono::seconds;
using Clock = std::chrono::system_clock;

const Clock::time_point kNow = Clock::from_time_t(1700000000);  // 2023: fixtures' valid window

std::string fixture(const std::string& name) {
  std::ifstream in("middleware/fixtures/jwt/" + name, std::ios::binary);
  if (!in) throw std::runtime_error("missing fixture " + name);
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (name.ends_with(".jwt") && !text.empty() && text.back() == '\n') text.pop_back();
  return text;
}
std::string token(const std::string& name) {
  return fixture(name + ".jwt");
}

JwtVerifier hmac_verifier(JwtRules rules = {}) {
  return JwtVerifier(JwtKeys::secret(fixture("hs_secret.txt")), std::move(rules));
}

std::string error_of(const JwtVerifier& v, const std::string& name, Clock::time_point now = kNow) {
  JwtResult r = v.verify(token(name), now);
  return r.valid ? "(valid)" : r.error;
}

TEST(Jwt, HmacTokensOfEverySizeVerify) {
  const JwtVerifier v = hmac_verifier();
  for (const char* name : {"hs256_valid", "hs384_valid", "hs512_valid", "hs256_no_exp"}) {
    SCOPED_TRACE(name);
    JwtResult r = v.verify(token(name), kNow);
    ASSERT_TRUE(r.valid) << r.error;
    EXPECT_NE(r.claims.find("\"sub\":\"alice\""), std::string::npos) << r.claims;
    // Compact ASCII JSON: fit for a header field.
    EXPECT_NE(r.claims.find("Alice \\u00e9"), std::string::npos) << r.claims;
  }
  EXPECT_EQ(error_of(v, "hs256_wrong_secret"), "bad signature");
}

TEST(Jwt, AlgorithmListRestrictsTokens) {
  const JwtVerifier only256 = hmac_verifier({{JwtAlg::kHS256}});
  EXPECT_EQ(error_of(only256, "hs256_valid"), "(valid)");
  EXPECT_EQ(error_of(only256, "hs512_valid"), "algorithm HS512 not allowed");
  EXPECT_EQ(error_of(only256, "alg_none"), "algorithm none not allowed");
  EXPECT_EQ(error_of(only256, "rs256_valid"), "algorithm RS256 not allowed");
}

TEST(Jwt, TimeClaimsWithLeeway) {
  const JwtVerifier strict = hmac_verifier();
  EXPECT_EQ(error_of(strict, "hs256_expired"), "token expired");
  EXPECT_EQ(error_of(strict, "hs256_nbf_future"), "token not valid yet (nbf)");
  // exp = 2100-01-01; nbf 1000 s before it.
  const Clock::time_point exp = Clock::from_time_t(4102444800);
  EXPECT_EQ(error_of(strict, "hs256_valid", exp - seconds(1)), "(valid)");
  EXPECT_EQ(error_of(strict, "hs256_valid", exp), "token expired");
  EXPECT_EQ(error_of(strict, "hs256_nbf_future", exp - seconds(1001)), "token not valid yet (nbf)");
  EXPECT_EQ(error_of(strict, "hs256_nbf_future", exp - seconds(1000)), "(valid)");
  JwtRules rules;
  rules.leeway = seconds(30);
  const JwtVerifier lenient = hmac_verifier(rules);
  EXPECT_EQ(error_of(lenient, "hs256_valid", exp + seconds(29)), "(valid)");
  EXPECT_EQ(error_of(lenient, "hs256_valid", exp + seconds(30)), "token expired");
  EXPECT_EQ(error_of(lenient, "hs256_nbf_future", exp - seconds(1030)), "(valid)");
  EXPECT_EQ(error_of(lenient, "hs256_nbf_future", exp - seconds(1031)),
            "token not valid yet (nbf)");
}

TEST(Jwt, IssuerAndAudience) {
  JwtRules rules;
  rules.issuer = "https://issuer.example";
  rules.audience = {"api", "web"};
  const JwtVerifier v = hmac_verifier(rules);
  EXPECT_EQ(error_of(v, "hs256_valid"), "(valid)");
  EXPECT_EQ(error_of(v, "hs256_aud_array"), "(valid)");
  EXPECT_EQ(error_of(v, "hs256_wrong_iss"), "wrong issuer");
  EXPECT_EQ(error_of(v, "hs256_wrong_aud"), "wrong audience");
  rules.audience = {"other-api"};
  EXPECT_EQ(error_of(hmac_verifier(rules), "hs256_valid"), "wrong audience");
}

TEST(Jwt, RsaAndEcPublicKeys) {
  const JwtVerifier rsa(JwtKeys::pem_file("middleware/fixtures/jwt/rsa_public.pem"), {});
  EXPECT_EQ(rsa.algorithms(), std::vector<JwtAlg>{JwtAlg::kRS256});
  EXPECT_EQ(error_of(rsa, "rs256_valid"), "(valid)");
  EXPECT_EQ(error_of(rsa, "rs256_no_kid"), "(valid)");
  EXPECT_EQ(error_of(rsa, "rs256_expired"), "token expired");
  EXPECT_EQ(error_of(rsa, "rs256_other_key"), "bad signature");
  EXPECT_EQ(error_of(rsa, "rs256_tampered"), "bad signature");
  // No algorithm confusion: an HMAC over the public key's PEM is not a signature.
  EXPECT_EQ(error_of(rsa, "hs256_confusion_rsa_pem"), "algorithm HS256 not allowed");
  EXPECT_EQ(error_of(rsa, "alg_none"), "algorithm none not allowed");
  EXPECT_EQ(error_of(rsa, "es256_valid"), "algorithm ES256 not allowed");

  const JwtVerifier ec(JwtKeys::pem_file("middleware/fixtures/jwt/ec_public.pem"), {});
  EXPECT_EQ(ec.algorithms(), std::vector<JwtAlg>{JwtAlg::kES256});
  EXPECT_EQ(error_of(ec, "es256_valid"), "(valid)");
  EXPECT_EQ(error_of(ec, "rs256_valid"), "algorithm RS256 not allowed");
  // A flipped bit in r.
  std::string forged = token("es256_valid");
  const std::size_t sig = forged.rfind('.') + 1;
  forged[sig + 2] = forged[sig + 2] == 'A' ? 'B' : 'A';
  EXPECT_EQ(ec.verify(forged, kNow).error, "bad signature");
}

TEST(Jwt, AlgorithmsMustFitTheKeys) {
  EXPECT_THROW(
      JwtVerifier(JwtKeys::pem_file("middleware/fixtures/jwt/rsa_public.pem"), {{JwtAlg::kHS256}}),
      std::invalid_argument);
  EXPECT_THROW(JwtVerifier(JwtKeys::secret("s"), {{JwtAlg::kRS256}}), std::invalid_argument);
  EXPECT_THROW(JwtKeys::secret(""), std::runtime_error);
  EXPECT_THROW(JwtKeys::pem_file("middleware/fixtures/jwt/rsa1024_public.pem"), std::runtime_error);
  EXPECT_THROW(JwtKeys::pem_file("middleware/fixtures/jwt/ec_p384_public.pem"), std::runtime_error);
  EXPECT_THROW(JwtKeys::pem_file("middleware/fixtures/jwt/hs_secret.txt"), std::runtime_error);
  EXPECT_THROW(JwtKeys::pem_file("middleware/fixtures/jwt/missing.pem"), std::runtime_error);
}

TEST(Jwt, JwksSelectsKeysByKid) {
  const JwtKeys keys = JwtKeys::jwks(fixture("jwks.json"), "jwks.json");
  EXPECT_EQ(keys.size(), 2u);  // the "oct" key is skipped
  const JwtVerifier v(keys, {});
  EXPECT_EQ(v.algorithms(), (std::vector<JwtAlg>{JwtAlg::kRS256, JwtAlg::kES256}));
  EXPECT_EQ(error_of(v, "rs256_valid"), "(valid)");
  EXPECT_EQ(error_of(v, "es256_valid"), "(valid)");
  EXPECT_EQ(error_of(v, "rs256_no_kid"), "(valid)");
  EXPECT_EQ(error_of(v, "rs256_unknown_kid"), "unknown key id");
  EXPECT_EQ(error_of(v, "rs256_other_key"), "bad signature");
  EXPECT_EQ(error_of(v, "hs256_confusion_rsa_pem"), "algorithm HS256 not allowed");
}

TEST(Jwt, MalformedJwksAndTokens) {
  EXPECT_THROW(JwtKeys::jwks("[]", "x"), std::runtime_error);
  EXPECT_THROW(JwtKeys::jwks(R"({"keys":[]})", "x"), std::runtime_error);
  EXPECT_THROW(JwtKeys::jwks(R"({"keys":[{"kty":"RSA","n":"!!","e":"AQAB"}]})", "x"),
               std::runtime_error);
  // A point that is not on the curve.
  EXPECT_THROW(JwtKeys::jwks(R"({"keys":[{"kty":"EC","crv":"P-256",)"
                             R"("x":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",)"
                             R"("y":"AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}]})",
                             "x"),
               std::runtime_error);
  const JwtVerifier v = hmac_verifier();
  EXPECT_EQ(v.verify("abc", kNow).error, "malformed token (expected header.payload.signature)");
  EXPECT_EQ(v.verify("a.b.c.d", kNow).error, "malformed token (expected header.payload.signature)");
  EXPECT_EQ(v.verify("!!.e30.c2ln", kNow).error, "malformed token header");
  std::string valid = token("hs256_valid");
  EXPECT_EQ(v.verify(valid.substr(0, valid.rfind('.') + 1), kNow).error, "malformed signature");
  EXPECT_EQ(v.verify(std::string(20000, 'a'), kNow).error, "token too long");
}

// An HTTP server on 127.0.0.1 answering every connection with the current `response`, then
// closing it; it records the first request and counts them all (each before it is answered).
class CannedServer {
 public:
  explicit CannedServer(std::string response) : response_(std::move(response)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(fd_, reinterpret_cast<sockaddr*>(&a), len) != 0 || ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
      throw std::runtime_error("cannot listen");
    }
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { serve(); });
  }
  ~CannedServer() {
    ::shutdown(fd_, SHUT_RDWR);  // wakes accept()
    thread_.join();
    ::close(fd_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  void set_response(std::string response) {
    std::lock_guard lock(mutex_);
    response_ = std::move(response);
  }
  std::string first_request() {
    std::lock_guard lock(mutex_);
    return first_request_;
  }
  int requests() const { return requests_.load(); }

 private:
  void serve() {
    for (;;) {
      const int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      char buffer[4096];
      std::string request;
      while (request.find("\r\n\r\n") == std::string::npos) {
        const ssize_t n = ::recv(c, buffer, sizeof buffer, 0);
        if (n <= 0) break;
        request.append(buffer, static_cast<std::size_t>(n));
      }
      std::string response;
      {
        std::lock_guard lock(mutex_);
        if (first_request_.empty()) first_request_ = request;
        response = response_;
      }
      ++requests_;  // before answering: a client that got the answer sees the count
      ::send(c, response.data(), response.size(), MSG_NOSIGNAL);
      ::close(c);
    }
  }

  std::mutex mutex_;
  std::string response_;
  std::string first_request_;
  std::atomic<int> requests_{0};
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

std::string ok_json(const std::string& body) {
  return "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n\r\n" + body;
}

// Polls `done` until it holds or 30 s pass.
template <class F>
bool eventually(F done) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (!done()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

TEST(Jwt, JwksUrlFetchedOverHttp) {
  const std::string jwks = fixture("jwks.json");
  {
    CannedServer server(ok_json(jwks));
    const JwtVerifier v(JwtKeys::jwks_url(server.url("/keys?x=1"), std::chrono::seconds(5)), {});
    EXPECT_EQ(error_of(v, "rs256_valid"), "(valid)");
    const std::string request = server.first_request();
    EXPECT_EQ(request.substr(0, request.find("\r\n")), "GET /keys?x=1 HTTP/1.1");
    EXPECT_NE(request.find("\r\nHost: 127.0.0.1:"), std::string::npos);
  }
  {
    // Chunked, split mid-document.
    const std::string half = jwks.substr(0, jwks.size() / 2);
    const std::string rest = jwks.substr(half.size());
    std::ostringstream body;
    body << std::hex << half.size() << "\r\n"
         << half << "\r\n"
         << rest.size() << "\r\n"
         << rest << "\r\n0\r\n\r\n";
    CannedServer server("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" + body.str());
    const JwtVerifier v(JwtKeys::jwks_url(server.url("/"), std::chrono::seconds(5)), {});
    EXPECT_EQ(error_of(v, "es256_valid"), "(valid)");
  }
  {
    CannedServer server("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    try {
      JwtKeys::jwks_url(server.url("/"), std::chrono::seconds(5));
      FAIL() << "a 404 was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("status 404"), std::string::npos) << e.what();
    }
  }
  {
    // https: a TLS handshake is started, and a server that never answers it (this one waits
    // for an HTTP head) runs into the deadline, which the message names with the URL.
    CannedServer server(ok_json(jwks));
    const std::string url = "https" + server.url("/keys").substr(4);
    try {
      JwtKeys::jwks_url(url, std::chrono::milliseconds(300));
      FAIL() << "no TLS server, yet the keys were fetched";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), url + ": timed out: TLS handshake");
    }
  }
  try {
    JwtKeys::jwks_url("ftp://127.0.0.1/keys", std::chrono::seconds(5));
    FAIL() << "ftp was accepted";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "ftp://127.0.0.1/keys: the URL must start with http:// or https://");
  }
}

TEST(Jwt, JwksUrlIsRefreshedAndAFailedRefreshKeepsTheKeys) {
  // At first the RSA key is published under another id.
  std::string renamed = fixture("jwks.json");
  renamed.replace(renamed.find("\"rsa1\""), 6, "\"old\"");
  CannedServer server(ok_json(renamed));
  JwtRules rules;
  rules.algorithms = {JwtAlg::kRS256};
  const JwtVerifier v(server.url("/jwks"), rules, {std::chrono::milliseconds(20)});
  EXPECT_EQ(error_of(v, "rs256_valid"), "unknown key id");

  server.set_response(ok_json(fixture("jwks.json")));
  const std::size_t before = v.refreshes();
  ASSERT_TRUE(eventually([&] { return v.refreshes() > before + 1; }));
  EXPECT_EQ(error_of(v, "rs256_valid"), "(valid)");

  // The IdP fails: the last good set stays.
  server.set_response("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n");
  const int served = server.requests();
  ASSERT_TRUE(eventually([&] { return server.requests() > served + 2; }));
  const std::size_t after_failures = v.refreshes();
  EXPECT_EQ(error_of(v, "rs256_valid"), "(valid)");
  EXPECT_LE(v.refreshes(), after_failures + 1);  // at most the one in flight at the switch
}

// Calls refetch_unknown_kid and waits for its `done` (at most 30 s); false when no fetch came.
bool refetch_and_wait(const JwtVerifier& v) {
  auto done = std::make_shared<std::promise<void>>();
  std::future<void> over = done->get_future();
  if (!v.refetch_unknown_kid([done] { done->set_value(); })) return false;
  return over.wait_for(std::chrono::seconds(30)) == std::future_status::ready;
}

TEST(Jwt, UnknownKidFetchesEarlyAtMostOncePerInterval) {
  // At first the RSA key is published under another id; then the IdP rotates to "rsa1".
  std::string renamed = fixture("jwks.json");
  renamed.replace(renamed.find("\"rsa1\""), 6, "\"old\"");
  CannedServer server(ok_json(renamed));
  JwtRules rules;
  rules.algorithms = {JwtAlg::kRS256};
  const JwtVerifier v(server.url("/jwks"), rules, {std::chrono::hours(1), seconds(5), seconds(30)});
  ASSERT_EQ(server.requests(), 1);
  JwtResult r = v.verify(token("rs256_valid"), kNow);
  EXPECT_EQ(r.error, "unknown key id");
  EXPECT_TRUE(r.unknown_kid);

  server.set_response(ok_json(fixture("jwks.json")));
  ASSERT_TRUE(refetch_and_wait(v));
  EXPECT_EQ(server.requests(), 2);
  EXPECT_EQ(error_of(v, "rs256_valid"), "(valid)");

  // A garbage kid, again and again: no more fetches within the interval.
  for (int i = 0; i < 50; ++i) {
    r = v.verify(token("rs256_unknown_kid"), kNow);
    ASSERT_TRUE(r.unknown_kid);
    EXPECT_FALSE(refetch_and_wait(v));
  }
  EXPECT_EQ(server.requests(), 2);
}

TEST(Jwt, ConcurrentUnknownKidRequestsShareOneFetch) {
  CannedServer server(ok_json(fixture("jwks.json")));
  const JwtVerifier v(server.url("/jwks"), {}, {std::chrono::hours(1), seconds(5), seconds(30)});
  std::mutex mutex;
  int called = 0;
  int accepted = 0;
  for (int i = 0; i < 20; ++i) {
    if (v.refetch_unknown_kid([&] {
          std::lock_guard lock(mutex);
          ++called;
        })) {
      ++accepted;
    }
  }
  EXPECT_GE(accepted, 1);
  ASSERT_TRUE(eventually([&] {
    std::lock_guard lock(mutex);
    return called == accepted;
  }));
  EXPECT_EQ(server.requests(), 2);  // the first fetch and one early fetch
  EXPECT_EQ(v.refreshes(), 1u);
}

TEST(Jwt, NoEarlyFetchWithoutAJwksUrl) {
  const JwtVerifier v(JwtKeys::jwks(fixture("jwks.json"), "jwks.json"), {});
  JwtResult r = v.verify(token("rs256_unknown_kid"), kNow);
  EXPECT_TRUE(r.unknown_kid);
  EXPECT_FALSE(v.refetch_unknown_kid([] {}));
  // A known kid under the wrong algorithm is not an unknown kid.
  EXPECT_FALSE(v.verify(token("rs256_other_key"), kNow).unknown_kid);
}

TEST(Jwt, JwtAuthWaitsForTheEarlyFetchOfARotatedKey) {
  std::string renamed = fixture("jwks.json");
  renamed.replace(renamed.find("\"rsa1\""), 6, "\"old\"");
  CannedServer server(ok_json(renamed));
  auto v = std::make_shared<const JwtVerifier>(
      server.url("/jwks"), JwtRules{}, JwksRefresh{std::chrono::hours(1), seconds(5), seconds(30)});
  server.set_response(ok_json(fixture("jwks.json")));  // rotated after the first fetch
  App app;
  app.use(middleware::jwt_auth({v, ""}));
  app.get("/", [](http::Request&, Context&) { return text("ok\n"); });
  TestClient client(app);
  TestResponse r = client.get("/").header("Authorization", "Bearer " + token("rs256_valid")).send();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server.requests(), 2);
  // A garbage kid is refused at once, without another fetch within the interval.
  r = client.get("/").header("Authorization", "Bearer " + token("rs256_unknown_kid")).send();
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.header("WWW-Authenticate").find("unknown key id"), std::string::npos);
  EXPECT_EQ(server.requests(), 2);
}

}  // namespace
}  // namespace rws::auth
