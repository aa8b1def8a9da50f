// JwtVerifier: JWS compact serialisation, signature and claims checks (RFC 7515, 7518, 7519).

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <atomic>
#include <cctype>
#include <cmath>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include <rws/auth/jwt.hpp>

#include "auth/base64.hpp"
#include "core/log.hpp"

namespace rws::auth {
namespace {

// Tokens travel in a header field; anything longer is not worth decoding.
constexpr std::size_t kMaxToken = 16 * 1024;

using Json = nlohmann::json;

bool is_hmac(JwtAlg alg) {
  return alg == JwtAlg::kHS256 || alg == JwtAlg::kHS384 || alg == JwtAlg::kHS512;
}

const EVP_MD* digest_of(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHS384:
      return EVP_sha384();
    case JwtAlg::kHS512:
      return EVP_sha512();
    default:
      return EVP_sha256();
  }
}

// Parses a base64url JSON object; nullopt when either layer is malformed.
std::optional<Json> json_object(std::string_view part) {
  std::optional<std::string> raw = decode_base64url(part);
  if (!raw) return std::nullopt;
  Json j = Json::parse(*raw, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

// ES256 signatures in JWS are r || s (32 bytes each); OpenSSL verifies DER.
std::optional<std::string> ecdsa_der(std::string_view raw) {
  if (raw.size() != 64) return std::nullopt;
  std::unique_ptr<ECDSA_SIG, decltype(&ECDSA_SIG_free)> sig(ECDSA_SIG_new(), ECDSA_SIG_free);
  const auto* bytes = reinterpret_cast<const unsigned char*>(raw.data());
  BIGNUM* r = BN_bin2bn(bytes, 32, nullptr);
  BIGNUM* s = BN_bin2bn(bytes + 32, 32, nullptr);
  if (!sig || r == nullptr || s == nullptr || ECDSA_SIG_set0(sig.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return std::nullopt;
  }
  unsigned char* der = nullptr;
  const int size = i2d_ECDSA_SIG(sig.get(), &der);
  if (size <= 0) return std::nullopt;
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(size));
  OPENSSL_free(der);
  return out;
}

bool verify_public(EVP_PKEY* pkey, std::string_view input, std::string_view signature) {
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, pkey) == 1 &&
         EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()),
                          signature.size(), reinterpret_cast<const unsigned char*>(input.data()),
                          input.size()) == 1;
}

// A NumericDate claim; nullopt when absent, `bad` set when present but not a number.
std::optional<double> numeric_date(const Json& claims, const char* name, bool& bad) {
  auto it = claims.find(name);
  if (it == claims.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>())) {
    bad = true;
    return std::nullopt;
  }
  return it->get<double>();
}

JwtResult invalid(std::string why) {
  return JwtResult{false, std::move(why), {}, false};
}

}  // namespace

struct JwtVerifier::Shared {
  mutable std::mutex mutex;
  std::shared_ptr<const JwtKeys> keys;  // replaced whole, never modified
  std::condition_variable wake;         // the refresh thread's sleep; notified on stop
  bool stop = false;
  std::atomic<std::size_t> refreshes{0};
  // Early fetches (refetch_unknown_kid); only with a refresh thread.
  bool has_url = false;
  std::chrono::milliseconds unknown_kid_interval{0};
  bool early = false;     // asked for, not started yet
  bool fetching = false;  // a fetch (periodic or early) is under way
  std::optional<std::chrono::steady_clock::time_point> last_early;  // when one was last asked
  std::vector<std::function<void()>> waiting;  // called when the next fetch is over

  std::shared_ptr<const JwtKeys> current() const {
    std::lock_guard lock(mutex);
    return keys;
  }
};

// Sleeps `interval` (or until an early fetch is asked for), fetches, swaps, tells those
// waiting; until the verifier is destroyed. Runs on its own detached thread and touches nothing
// but `shared`.
void JwtVerifier::refresh_loop(std::shared_ptr<Shared> shared, std::string url,
                               JwksRefresh refresh) {
  std::unique_lock lock(shared->mutex);
  for (;;) {
    shared->wake.wait_for(lock, refresh.interval, [&] { return shared->stop || shared->early; });
    if (shared->stop) break;
    shared->early = false;
    shared->fetching = true;
    lock.unlock();
    std::shared_ptr<const JwtKeys> fresh;
    try {
      fresh = std::make_shared<const JwtKeys>(JwtKeys::jwks_url(url, refresh.timeout));
    } catch (const std::exception& e) {
      log::server().warn("JWKS refresh failed, keeping the previous keys: {}", e.what());
    }
    lock.lock();
    shared->fetching = false;
    if (fresh) {
      shared->keys = std::move(fresh);
      shared->refreshes.fetch_add(1, std::memory_order_relaxed);
    }
    std::vector<std::function<void()>> done = std::move(shared->waiting);
    shared->waiting.clear();
    lock.unlock();
    for (auto& f : done)
      f();
    lock.lock();
  }
  // Stopped: nobody is left waiting for a fetch that will not come.
  std::vector<std::function<void()>> done = std::move(shared->waiting);
  shared->waiting.clear();
  lock.unlock();
  for (auto& f : done)
    f();
}

bool JwtVerifier::refetch_unknown_kid(std::function<void()> done) const {
  std::lock_guard lock(shared_->mutex);
  if (!shared_->has_url || shared_->stop) return false;
  if (!shared_->early && !shared_->fetching) {
    const auto now = std::chrono::steady_clock::now();
    if (shared_->last_early && now - *shared_->last_early < shared_->unknown_kid_interval) {
      return false;
    }
    shared_->last_early = now;
    shared_->early = true;
    shared_->wake.notify_all();
  }
  shared_->waiting.push_back(std::move(done));
  return true;
}

JwtVerifier::JwtVerifier(JwtKeys keys, JwtRules rules)
    : shared_(std::make_shared<Shared>()), rules_(std::move(rules)) {
  shared_->keys = std::make_shared<const JwtKeys>(std::move(keys));
  const JwtKeys& initial = *shared_->keys;
  if (rules_.algorithms.empty()) rules_.algorithms = initial.algorithms();
  for (JwtAlg alg : rules_.algorithms) {
    if (!initial.can_verify(alg)) {
      throw std::invalid_argument("algorithm " + std::string(jwt_alg_name(alg)) +
                                  " does not fit the configured key(s)");
    }
  }
  if (rules_.algorithms.empty()) throw std::invalid_argument("no algorithm fits the keys");
}

JwtVerifier::JwtVerifier(const std::string& jwks_url, JwtRules rules, JwksRefresh refresh)
    : JwtVerifier(JwtKeys::jwks_url(jwks_url, refresh.timeout), std::move(rules), jwks_url,
                  refresh) {}

JwtVerifier::JwtVerifier(JwtKeys fetched, JwtRules rules, const std::string& jwks_url,
                         JwksRefresh refresh)
    : JwtVerifier(std::move(fetched), std::move(rules)) {
  shared_->has_url = true;
  shared_->unknown_kid_interval = refresh.unknown_kid_interval;
  std::thread(&JwtVerifier::refresh_loop, shared_, jwks_url, refresh).detach();
}

JwtVerifier::~JwtVerifier() {
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stop = true;
  }
  shared_->wake.notify_all();
}

std::size_t JwtVerifier::refreshes() const noexcept {
  return shared_->refreshes.load(std::memory_order_relaxed);
}

bool JwtKeys::has_kid(std::string_view kid) const {
  for (const PublicKey& key : keys_) {
    if (key.kid == kid) return true;
  }
  return false;
}

bool JwtKeys::check_signature(JwtAlg alg, std::string_view kid, std::string_view input,
                              std::string_view signature, std::string& error) const {
  if (is_hmac(alg)) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int size = 0;
    if (HMAC(digest_of(alg), secret_.data(), static_cast<int>(secret_.size()),
             reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac,
             &size) == nullptr ||
        signature.size() != size || CRYPTO_memcmp(mac, signature.data(), size) != 0) {
      error = "bad signature";
      return false;
    }
    return true;
  }
  const Kind kind = alg == JwtAlg::kRS256 ? Kind::kRsa : Kind::kEcP256;
  std::string der;
  if (alg == JwtAlg::kES256) {
    std::optional<std::string> converted = ecdsa_der(signature);
    if (!converted) {
      error = "bad signature";
      return false;
    }
    der = std::move(*converted);
    signature = der;
  }
  bool candidate = false;
  for (const PublicKey& key : keys_) {
    if (key.kind != kind || (key.alg && *key.alg != alg)) continue;
    if (!kid.empty() && !key.kid.empty() && key.kid != kid) continue;
    candidate = true;
    if (verify_public(key.pkey.get(), input, signature)) return true;
  }
  error = candidate ? "bad signature" : "unknown key id";
  return false;
}

JwtResult JwtVerifier::verify(std::string_view token,
                              std::chrono::system_clock::time_point now) const {
  if (token.size() > kMaxToken) return invalid("token too long");
  const std::size_t dot1 = token.find('.');
  const std::size_t dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos) {
    return invalid("malformed token (expected header.payload.signature)");
  }
  const std::string_view header_part = token.substr(0, dot1);
  const std::string_view payload_part = token.substr(dot1 + 1, dot2 - dot1 - 1);
  const std::string_view signature_part = token.substr(dot2 + 1);

  std::optional<Json> header = json_object(header_part);
  if (!header) return invalid("malformed token header");
  auto alg_it = header->find("alg");
  if (alg_it == header->end() || !alg_it->is_string()) return invalid("token header has no alg");
  const std::string alg_name = alg_it->get<std::string>();
  std::optional<JwtAlg> alg = jwt_alg_from_name(alg_name);
  bool allowed = false;
  for (JwtAlg a : rules_.algorithms)
    allowed = allowed || (alg && a == *alg);
  if (!allowed) {
    // The name goes into a quoted string: only print it when it is a plain word.
    bool plain = alg_name.size() <= 16;
    for (char c : alg_name)
      plain = plain && std::isalnum(static_cast<unsigned char>(c));
    return invalid("algorithm " + (plain ? alg_name : std::string("(unprintable)")) +
                   " not allowed");
  }
  if (header->contains("crit")) return invalid("unsupported critical header parameters");
  std::string kid;
  if (auto it = header->find("kid"); it != header->end()) {
    if (!it->is_string()) return invalid("malformed kid");
    kid = it->get<std::string>();
  }

  std::optional<std::string> signature = decode_base64url(signature_part);
  if (!signature || signature->empty()) return invalid("malformed signature");
  std::string error;
  const std::shared_ptr<const JwtKeys> keys = shared_->current();
  if (!keys->check_signature(*alg, kid, token.substr(0, dot2), *signature, error)) {
    JwtResult r = invalid(std::move(error));
    r.unknown_kid = !kid.empty() && !keys->has_kid(kid);
    return r;
  }

  std::optional<Json> claims = json_object(payload_part);
  if (!claims) return invalid("malformed claims");
  const double t = std::chrono::duration<double>(now.time_since_epoch()).count();
  const double leeway = static_cast<double>(rules_.leeway.count());
  bool bad = false;
  std::optional<double> exp = numeric_date(*claims, "exp", bad);
  std::optional<double> nbf = numeric_date(*claims, "nbf", bad);
  if (bad) return invalid("exp or nbf is not a number");
  if (exp && t >= *exp + leeway) return invalid("token expired");
  if (nbf && t + leeway < *nbf) return invalid("token not valid yet (nbf)");
  if (rules_.issuer) {
    auto it = claims->find("iss");
    if (it == claims->end() || !it->is_string() || it->get<std::string>() != *rules_.issuer) {
      return invalid("wrong issuer");
    }
  }
  if (!rules_.audience.empty()) {
    bool match = false;
    auto accept = [&](const Json& v) {
      if (!v.is_string()) return;
      for (const std::string& a : rules_.audience)
        match = match || v.get<std::string>() == a;
    };
    if (auto it = claims->find("aud"); it != claims->end()) {
      if (it->is_array()) {
        for (const Json& v : *it)
          accept(v);
      } else {
        accept(*it);
      }
    }
    if (!match) return invalid("wrong audience");
  }
  return JwtResult{true, {}, claims->dump(-1, ' ', true, Json::error_handler_t::replace), false};
}

}  // namespace rws::auth
