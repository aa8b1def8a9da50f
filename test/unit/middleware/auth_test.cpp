#include <gtest/gtest.h>

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/middleware/auth.hpp>

#include "auth/base64.hpp"

namespace rws::middleware {
namespace {

std::string basic(std::string_view user_password) {
  return "Basic " + auth::encode_base64(user_password);
}

std::string jwt_fixture(const std::string& name) {
  std::ifstream in("middleware/fixtures/jwt/" + name);
  std::string line;
  std::getline(in, line);
  return line;
}

// An App whose handler records what it saw.
struct Fixture {
  explicit Fixture(Middleware auth) {
    app.use(std::move(auth));
    app.get("/", [this](http::Request& request, Context& context) {
      ++calls;
      if (const AuthenticatedUser* u = context.get<AuthenticatedUser>()) user = u->name;
      if (const JwtClaims* c = context.get<JwtClaims>()) claims = c->json;
      claims_header = std::string(request.head.headers.get("X-Jwt-Claims"));
      claims_header_count = request.head.headers.count("X-Jwt-Claims");
      return text("ok\n");
    });
  }
  App app;
  int calls = 0;
  std::string user;
  std::string claims;
  std::string claims_header;
  std::size_t claims_header_count = 0;
};

TEST(BearerAuth, TokenComparedExactly) {
  Fixture f(bearer_auth({"s3cret-token"}));
  TestClient client(f.app);
  TestResponse r = client.get("/").send();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");
  r = client.get("/").header("Authorization", "Bearer s3cret-tokeN").send();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer error=\"invalid_token\"");
  for (const char* wrong : {"Bearer s3cret-token2", "Bearer s3cret-toke", "Bearer ",
                            "Basic s3cret-token", "Bearers3cret-token", "s3cret-token"}) {
    EXPECT_EQ(client.get("/").header("Authorization", wrong).send().status, 401) << wrong;
  }
  EXPECT_EQ(f.calls, 0);
  r = client.get("/").header("Authorization", "Bearer s3cret-token").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(client.get("/").header("Authorization", "bearer  s3cret-token").send().status, 200);
  EXPECT_EQ(f.calls, 2);
  // Two Authorization fields: refused, whichever is right.
  r = client.get("/")
          .header("Authorization", "Bearer s3cret-token")
          .header("Authorization", "Bearer other")
          .send();
  EXPECT_EQ(r.status, 401);
  EXPECT_THROW(bearer_auth({""}), std::invalid_argument);
}

TEST(BasicAuth, EveryHashKindAndTheUserForHandlers) {
  auto users = std::make_shared<const auth::Htpasswd>(
      auth::Htpasswd::load("middleware/fixtures/htpasswd/users.htpasswd"));
  Fixture f(basic_auth({users, "Team \"A\" \\ area"}));
  TestClient client(f.app);
  TestResponse r = client.get("/").send();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"),
            "Basic realm=\"Team \\\"A\\\" \\\\ area\", charset=\"UTF-8\"");
  for (const char* good :
       {"bob:bcrypt-pw", "judy:bcrypt-2b", "carol:apr1:pw", "dave:pässwörd", "erin:sha256-pw",
        "frank:plain-pw", "gina:md5-pw", "hank:sha256crypt", "ivy:sha512crypt"}) {
    SCOPED_TRACE(good);
    r = client.get("/").header("Authorization", basic(good)).send();
    EXPECT_EQ(r.status, 200);
    const std::string_view s(good);
    EXPECT_EQ(f.user, s.substr(0, s.find(':')));
    r = client.get("/").header("Authorization", basic(std::string(good) + "!")).send();
    EXPECT_EQ(r.status, 401);
    EXPECT_EQ(r.header("WWW-Authenticate").substr(0, 12), "Basic realm=");
  }
  EXPECT_EQ(f.calls, 9);
  for (const char* bad : {"Basic !!!!", "Basic Ym9i", "Bearer Ym9iOmJjcnlwdC1wdw==", "Basic"}) {
    EXPECT_EQ(client.get("/").header("Authorization", bad).send().status, 401) << bad;
  }
  EXPECT_EQ(client.get("/").header("Authorization", basic("nobody:plain-pw")).send().status, 401);
  EXPECT_EQ(f.calls, 9);
}

TEST(BasicAuth, DefaultRealm) {
  auto users = std::make_shared<const auth::Htpasswd>(auth::Htpasswd::parse("u:p\n", "x"));
  Fixture f(basic_auth({users}));
  TestClient client(f.app);
  EXPECT_EQ(client.get("/").send().header("WWW-Authenticate"),
            "Basic realm=\"Restricted\", charset=\"UTF-8\"");
}

TEST(JwtAuth, ValidTokenClaimsReachTheHandlerAndSpoofedClaimsDoNot) {
  auth::JwtRules rules;
  rules.issuer = "https://issuer.example";
  auto verifier = std::make_shared<const auth::JwtVerifier>(
      auth::JwtKeys::pem_file("middleware/fixtures/jwt/rsa_public.pem"), rules);
  Fixture f(jwt_auth({verifier, "X-Jwt-Claims"}));
  TestClient client(f.app);

  TestResponse r = client.get("/").header("X-Jwt-Claims", "{\"sub\":\"admin\"}").send();
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.header("WWW-Authenticate"), "Bearer");

  r = client.get("/")
          .header("Authorization", "Bearer " + jwt_fixture("rs256_valid.jwt"))
          .header("X-Jwt-Claims", "{\"sub\":\"admin\"}")
          .send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.claims_header_count, 1u);
  EXPECT_NE(f.claims_header.find("\"sub\":\"alice\""), std::string::npos) << f.claims_header;
  EXPECT_EQ(f.claims, f.claims_header);

  struct Case {
    const char* token;
    const char* description;
  };
  for (const Case& c :
       {Case{"rs256_expired.jwt", "token expired"}, Case{"rs256_tampered.jwt", "bad signature"},
        Case{"hs256_confusion_rsa_pem.jwt", "algorithm HS256 not allowed"},
        Case{"alg_none.jwt", "algorithm none not allowed"}}) {
    r = client.get("/").header("Authorization", "Bearer " + jwt_fixture(c.token)).send();
    EXPECT_EQ(r.status, 401) << c.token;
    EXPECT_EQ(
        r.header("WWW-Authenticate"),
        std::string("Bearer error=\"invalid_token\", error_description=\"") + c.description + "\"");
  }
  EXPECT_EQ(f.calls, 1);
}

TEST(JwtAuth, WithoutClaimsHeaderIncomingFieldIsLeftAlone) {
  auto verifier = std::make_shared<const auth::JwtVerifier>(
      auth::JwtKeys::secret("fixture-hmac-secret-0123456789abcdef"), auth::JwtRules{});
  Fixture f(jwt_auth({verifier, ""}));
  TestClient client(f.app);
  TestResponse r = client.get("/")
                       .header("Authorization", "Bearer " + jwt_fixture("hs256_valid.jwt"))
                       .header("X-Jwt-Claims", "client value")
                       .send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(f.claims_header, "client value");
  EXPECT_NE(f.claims.find("\"iss\":\"https://issuer.example\""), std::string::npos);
}

}  // namespace
}  // namespace rws::middleware
