// JwtKeys: HMAC secrets, PEM public keys and JWK Sets turned into EVP_PKEYs (OpenSSL 3 APIs).

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include <rws/auth/jwt.hpp>

#include "auth/base64.hpp"
#include "auth/jwks_fetch.hpp"
#include "auth/read_file.hpp"

namespace rws::auth {
namespace {

constexpr int kMinRsaBits = 2048;

template <class T, void (*Free)(T*)>
struct Deleter {
  void operator()(T* p) const { Free(p); }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO, BIO_free_all>>;
using BnPtr = std::unique_ptr<BIGNUM, Deleter<BIGNUM, BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Deleter<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Deleter<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Deleter<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509, X509_free>>;

// A public key from OSSL parameters; nullptr when OpenSSL refuses them (a point not on the
// curve, for instance).
EVP_PKEY* pkey_from_params(const char* type, OSSL_PARAM_BLD* builder) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(builder));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    return nullptr;
  }
  return pkey;
}

std::string member(const nlohmann::json& jwk, const char* name) {
  auto it = jwk.find(name);
  return it != jwk.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// A JWK's base64url member decoded; throws naming the member when absent or malformed.
std::string decoded_member(const nlohmann::json& jwk, const char* name, const std::string& where) {
  std::optional<std::string> raw = decode_base64url(member(jwk, name));
  if (!raw || raw->empty()) {
    throw std::runtime_error(where + ": '" + name + "' is missing or not base64url");
  }
  return *raw;
}

EVP_PKEY* rsa_from_jwk(const nlohmann::json& jwk, const std::string& where) {
  const std::string n = decoded_member(jwk, "n", where);
  const std::string e = decoded_member(jwk, "e", where);
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                       nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                       nullptr));
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !builder ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(builder.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    throw std::runtime_error(where + ": cannot build the RSA key");
  }
  EVP_PKEY* pkey = pkey_from_params("RSA", builder.get());
  if (pkey == nullptr) throw std::runtime_error(where + ": OpenSSL rejects the RSA key");
  return pkey;
}

EVP_PKEY* ec_from_jwk(const nlohmann::json& jwk, const std::string& where) {
  const std::string x = decoded_member(jwk, "x", where);
  const std::string y = decoded_member(jwk, "y", where);
  if (x.size() != 32 || y.size() != 32) {
    throw std::runtime_error(where + ": P-256 'x' and 'y' must be 32 bytes each");
  }
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  ParamBldPtr builder(OSSL_PARAM_BLD_new());
  if (!builder ||
      OSSL_PARAM_BLD_push_utf8_string(builder.get(), OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) !=
          1 ||
      OSSL_PARAM_BLD_push_octet_string(builder.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    throw std::runtime_error(where + ": cannot build the EC key");
  }
  EVP_PKEY* pkey = pkey_from_params("EC", builder.get());
  if (pkey == nullptr) throw std::runtime_error(where + ": OpenSSL rejects the EC point");
  return pkey;
}

}  // namespace

std::optional<JwtAlg> jwt_alg_from_name(std::string_view name) {
  if (name == "HS256") return JwtAlg::kHS256;
  if (name == "HS384") return JwtAlg::kHS384;
  if (name == "HS512") return JwtAlg::kHS512;
  if (name == "RS256") return JwtAlg::kRS256;
  if (name == "ES256") return JwtAlg::kES256;
  return std::nullopt;
}

std::string_view jwt_alg_name(JwtAlg alg) {
  switch (alg) {
    case JwtAlg::kHS256:
      return "HS256";
    case JwtAlg::kHS384:
      return "HS384";
    case JwtAlg::kHS512:
      return "HS512";
    case JwtAlg::kRS256:
      return "RS256";
    case JwtAlg::kES256:
      return "ES256";
  }
  return "?";
}

JwtKeys JwtKeys::secret(std::string secret) {
  if (secret.empty()) throw std::runtime_error("the HMAC secret is empty");
  JwtKeys keys;
  keys.secret_ = std::move(secret);
  return keys;
}

JwtKeys::PublicKey JwtKeys::from_pkey(EVP_PKEY* raw, const std::string& source) {
  std::shared_ptr<EVP_PKEY> pkey(raw, EVP_PKEY_free);
  if (EVP_PKEY_is_a(raw, "RSA")) {
    if (EVP_PKEY_get_bits(raw) < kMinRsaBits) {
      throw std::runtime_error(source + ": RSA key of " + std::to_string(EVP_PKEY_get_bits(raw)) +
                               " bits; at least 2048 are required");
    }
    return PublicKey{Kind::kRsa, "", std::nullopt, std::move(pkey)};
  }
  if (EVP_PKEY_is_a(raw, "EC")) {
    char group[64] = {};
    std::size_t length = 0;
    if (EVP_PKEY_get_group_name(raw, group, sizeof group, &length) != 1 ||
        std::string_view(group) != "prime256v1") {
      throw std::runtime_error(source + ": EC key on curve '" + std::string(group) +
                               "'; only P-256 (ES256) is supported");
    }
    return PublicKey{Kind::kEcP256, "", std::nullopt, std::move(pkey)};
  }
  throw std::runtime_error(source + ": key type " + std::string(EVP_PKEY_get0_type_name(raw)) +
                           " is not supported (RSA or EC P-256)");
}

JwtKeys JwtKeys::pem(std::string_view pem, const std::string& source) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  EVP_PKEY* pkey = bio ? PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr) : nullptr;
  if (pkey == nullptr) {
    // Not a bare public key: a certificate carrying one?
    BioPtr again(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
    X509Ptr cert(again ? PEM_read_bio_X509(again.get(), nullptr, nullptr, nullptr) : nullptr);
    if (cert) pkey = X509_get_pubkey(cert.get());
  }
  if (pkey == nullptr) {
    throw std::runtime_error(source +
                             ": no PEM public key (\"BEGIN PUBLIC KEY\") or certificate found");
  }
  JwtKeys keys;
  keys.keys_.push_back(from_pkey(pkey, source));
  return keys;
}

JwtKeys JwtKeys::pem_file(const std::string& path) {
  return pem(read_credential_file(path), path);
}

JwtKeys JwtKeys::jwks(std::string_view json, const std::string& source) {
  nlohmann::json document = nlohmann::json::parse(json, nullptr, false);
  if (document.is_discarded() || !document.is_object() || !document.contains("keys") ||
      !document["keys"].is_array()) {
    throw std::runtime_error(source + ": not a JWK Set (a JSON object with a \"keys\" array)");
  }
  JwtKeys keys;
  std::size_t index = 0;
  for (const nlohmann::json& jwk : document["keys"]) {
    const std::string where = source + ": keys[" + std::to_string(index++) + "]";
    if (!jwk.is_object()) throw std::runtime_error(where + ": not an object");
    const std::string kty = member(jwk, "kty");
    const std::string use = member(jwk, "use");
    if (!use.empty() && use != "sig") continue;
    std::optional<JwtAlg> alg;
    if (jwk.contains("alg")) {
      alg = jwt_alg_from_name(member(jwk, "alg"));
      if (!alg) continue;  // an algorithm rws does not verify
    }
    PublicKey key;
    if (kty == "RSA") {
      key = from_pkey(rsa_from_jwk(jwk, where), where);
    } else if (kty == "EC" && member(jwk, "crv") == "P-256") {
      key = from_pkey(ec_from_jwk(jwk, where), where);
    } else {
      continue;  // RFC 7517 §5: keys of unknown types are ignored
    }
    if (alg && !((key.kind == Kind::kRsa && *alg == JwtAlg::kRS256) ||
                 (key.kind == Kind::kEcP256 && *alg == JwtAlg::kES256))) {
      throw std::runtime_error(where + ": \"alg\" " + std::string(jwt_alg_name(*alg)) +
                               " does not fit a " + kty + " key");
    }
    key.kid = member(jwk, "kid");
    key.alg = alg;
    keys.keys_.push_back(std::move(key));
  }
  if (keys.keys_.empty()) {
    throw std::runtime_error(source + ": no usable key (RSA or EC P-256 signature keys)");
  }
  return keys;
}

JwtKeys JwtKeys::jwks_url(const std::string& url, std::chrono::milliseconds timeout) {
  return jwks(http_get(url, timeout), url);
}

bool JwtKeys::can_verify(JwtAlg alg) const {
  switch (alg) {
    case JwtAlg::kHS256:
    case JwtAlg::kHS384:
    case JwtAlg::kHS512:
      return !secret_.empty();
    case JwtAlg::kRS256:
    case JwtAlg::kES256:
      for (const PublicKey& k : keys_) {
        if ((k.kind == Kind::kRsa) == (alg == JwtAlg::kRS256)) return true;
      }
      return false;
  }
  return false;
}

std::vector<JwtAlg> JwtKeys::algorithms() const {
  std::vector<JwtAlg> out;
  for (JwtAlg alg :
       {JwtAlg::kHS256, JwtAlg::kHS384, JwtAlg::kHS512, JwtAlg::kRS256, JwtAlg::kES256}) {
    if (can_verify(alg)) out.push_back(alg);
  }
  return out;
}

}  // namespace rws::auth
