#pragma once
// JSON Web Tokens (RFC 7519) in JWS compact form, verified with HS256/384/512, RS256 or ES256.
//
// JwtKeys holds what signatures are checked against: one HMAC secret, or public keys (RSA,
// EC P-256) from a PEM file or a JWKS document, each with an optional key id. A token's `alg`
// must be one of the verifier's algorithms AND fit the key kind: "none" is never accepted and an
// HMAC algorithm is never tried with a public key (no algorithm confusion).
//
// Both classes are immutable after construction and shared by all worker threads; verify()
// allocates its own OpenSSL contexts.

#include <openssl/types.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace rws::auth {

enum class JwtAlg { kHS256, kHS384, kHS512, kRS256, kES256 };

// The JWA name ("HS256", ...) of an algorithm rws verifies; nullopt for anything else,
// including "none".
std::optional<JwtAlg> jwt_alg_from_name(std::string_view name);
std::string_view jwt_alg_name(JwtAlg alg);

class JwtKeys {
 public:
  // Setup failures throw std::runtime_error naming the source and the problem.
  static JwtKeys secret(std::string secret);
  // A SubjectPublicKeyInfo ("PUBLIC KEY") or a certificate, RSA (2048 bits or more) or P-256.
  static JwtKeys pem(std::string_view pem, const std::string& source);
  static JwtKeys pem_file(const std::string& path);
  // A JWK Set: RSA (n, e) and EC P-256 (x, y) keys are used, keys of other types or with
  // "use" other than "sig" are skipped; no usable key is an error.
  static JwtKeys jwks(std::string_view json, const std::string& source);
  // The JWK Set at an http:// or https:// URL, fetched now (blocking, at most `timeout`); an
  // https server's certificate must be valid for the URL's host and chain to the system's
  // trust store (SSL_CERT_FILE / SSL_CERT_DIR override it).
  static JwtKeys jwks_url(const std::string& url, std::chrono::milliseconds timeout);

  // The algorithms these keys can verify (the default allow list).
  std::vector<JwtAlg> algorithms() const;
  bool can_verify(JwtAlg alg) const;
  std::size_t size() const noexcept { return secret_.empty() ? keys_.size() : 1; }
  // Whether one of the public keys has the key id `kid`.
  bool has_kid(std::string_view kid) const;

 private:
  friend class JwtVerifier;
  enum class Kind { kRsa, kEcP256 };
  struct PublicKey {
    Kind kind;
    std::string kid;                 // empty: none
    std::optional<JwtAlg> alg;       // the JWK's "alg", when given
    std::shared_ptr<EVP_PKEY> pkey;  // read-only after setup
  };
  static PublicKey from_pkey(EVP_PKEY* pkey, const std::string& source);
  // Whether `signature` signs `input` under `alg` with one of these keys (the one named `kid`
  // when both have ids); `error` says why not.
  bool check_signature(JwtAlg alg, std::string_view kid, std::string_view input,
                       std::string_view signature, std::string& error) const;

  std::string secret_;  // non-empty: HMAC keys
  std::vector<PublicKey> keys_;
};

struct JwtRules {
  std::vector<JwtAlg> algorithms;     // empty: all that the keys can verify
  std::optional<std::string> issuer;  // "iss" must equal it
  std::vector<std::string> audience;  // "aud" (string or array) must contain one of them
  std::chrono::seconds leeway{0};     // clock skew allowed on "exp" and "nbf"
};

struct JwtResult {
  bool valid = false;
  // When invalid: why, in words fit for an error_description (no quotes, no backslashes).
  std::string error;
  // When valid: the claims as compact ASCII JSON (safe as a header field value).
  std::string claims;
  // The token names a key id that none of the keys has (it may be a newly rotated key).
  bool unknown_kid = false;
};

// How a JWK Set fetched from a URL is kept current.
struct JwksRefresh {
  std::chrono::milliseconds interval{std::chrono::minutes(5)};
  std::chrono::milliseconds timeout{5000};  // per fetch
  // Early fetches for tokens with an unknown key id start at most once per this.
  std::chrono::milliseconds unknown_kid_interval{std::chrono::seconds(30)};
};

// Lifecycle: built at setup (config load); verify() is called from any worker thread; with a
// JWKS URL a detached background thread refetches the set every `interval` and swaps it in
// (a failed fetch keeps the previous keys and is logged), and fetches early when asked by
// refetch_unknown_kid(). The destructor tells that thread to stop; it exits at its next wake-up
// without being waited for.
class JwtVerifier {
 public:
  // Throws std::invalid_argument when one of `rules.algorithms` does not fit the keys.
  JwtVerifier(JwtKeys keys, JwtRules rules);
  // Fetches the JWK Set at `jwks_url` now (failures throw std::runtime_error, as
  // JwtKeys::jwks_url) and keeps it current as described above.
  JwtVerifier(const std::string& jwks_url, JwtRules rules, JwksRefresh refresh);
  // The same with the set already fetched from `jwks_url` (JwtKeys::jwks_url).
  JwtVerifier(JwtKeys fetched, JwtRules rules, const std::string& jwks_url, JwksRefresh refresh);
  ~JwtVerifier();
  JwtVerifier(const JwtVerifier&) = delete;
  JwtVerifier& operator=(const JwtVerifier&) = delete;

  JwtResult verify(std::string_view token, std::chrono::system_clock::time_point now) const;
  const std::vector<JwtAlg>& algorithms() const noexcept { return rules_.algorithms; }
  // Key sets swapped in by the refresh thread so far.
  std::size_t refreshes() const noexcept;

  // For a token whose key id none of the keys has (JwtResult::unknown_kid), as when the
  // identity provider has rotated its keys: asks the refresh thread to fetch the JWK Set now.
  // Returns false when no fetch is coming: no JWKS URL, or an early fetch started less than
  // `unknown_kid_interval` ago (so bad tokens cannot make rws hammer the JWKS server). Else
  // `done` is called once, from the refresh thread, when the fetch is over (whether it
  // succeeded or not; verify() again then); concurrent callers share one fetch, and a fetch
  // already under way is joined. Never blocks on the fetch.
  bool refetch_unknown_kid(std::function<void()> done) const;

 private:
  struct Shared;
  static void refresh_loop(std::shared_ptr<Shared> shared, std::string url, JwksRefresh refresh);

  std::shared_ptr<Shared> shared_;  // the current keys; shared with the refresh thread
  JwtRules rules_;
};

}  // namespace rws::auth
