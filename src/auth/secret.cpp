#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <rws/auth/secret.hpp>

namespace rws::auth {

bool secret_equal(std::string_view given, std::string_view expected) {
  unsigned char a[SHA256_DIGEST_LENGTH];
  unsigned char b[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(given.data()), given.size(), a);
  SHA256(reinterpret_cast<const unsigned char*>(expected.data()), expected.size(), b);
  // Equal digests of different strings would need a SHA-256 collision.
  return CRYPTO_memcmp(a, b, sizeof a) == 0;
}

}  // namespace rws::auth
