#pragma once
// Authentication middleware: bearer tokens, HTTP Basic against an htpasswd file, and JWTs.
// Each answers 401 with a WWW-Authenticate challenge when the request does not authenticate,
// and passes it on otherwise. Credentials are read once at setup (the gateway rebuilds its
// chains on reload, so files are re-read then); per request nothing touches the disk.
//
// Only the Authorization field is read; a request with more than one is refused.

#include <memory>
#include <string>

#include <rws/app/handler.hpp>
#include <rws/auth/htpasswd.hpp>
#include <rws/auth/jwt.hpp>

namespace rws::middleware {

// `Authorization: Bearer <token>`, compared with `token` in constant time. 401 with
// `WWW-Authenticate: Bearer` when absent, plus `error="invalid_token"` when wrong (RFC 6750).
struct BearerAuthOptions {
  std::string token;  // must not be empty (std::invalid_argument)
};
Middleware bearer_auth(BearerAuthOptions options);

// HTTP Basic (RFC 7617). 401 with `WWW-Authenticate: Basic realm="…", charset="UTF-8"`.
// bcrypt and crypt hashes are checked on the blocking pool, not on the event loop.
struct BasicAuthOptions {
  std::shared_ptr<const auth::Htpasswd> users;  // required
  std::string realm = "Restricted";
};
Middleware basic_auth(BasicAuthOptions options);

// What basic_auth leaves in the Context for later handlers: ctx.get<AuthenticatedUser>().
struct AuthenticatedUser {
  std::string name;
};

// `Authorization: Bearer <JWT>` checked by `verifier`. 401 with
// `WWW-Authenticate: Bearer error="invalid_token", error_description="…"` naming the problem.
// With `claims_header` set, any incoming field of that name is removed, and a valid token's
// claims (compact JSON) are set in it for the handler or upstream.
struct JwtAuthOptions {
  std::shared_ptr<const auth::JwtVerifier> verifier;  // required
  std::string claims_header;                          // empty: none
};
Middleware jwt_auth(JwtAuthOptions options);

// What jwt_auth leaves in the Context: the verified claims as compact JSON.
struct JwtClaims {
  std::string json;
};

}  // namespace rws::middleware
