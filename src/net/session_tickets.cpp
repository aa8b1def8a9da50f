#include "net/session_tickets.hpp"

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include <array>
#include <cstring>
#include <deque>
#include <mutex>

namespace rws::net {
namespace {

constexpr std::size_t kKeysKept = 3;

struct TicketKey {
  std::array<unsigned char, 16> name;
  std::array<unsigned char, 32> aes_key;
  std::array<unsigned char, 32> hmac_key;
  std::chrono::steady_clock::time_point created;
};

class TicketKeyRing {
 public:
  // The key to issue a ticket under, rotating first when the newest is too old.
  bool current(TicketKey& out) {
    std::lock_guard lock(mutex_);
    auto now = std::chrono::steady_clock::now();
    if (keys_.empty() || now - keys_.front().created >= kTicketKeyLifetime) {
      TicketKey key;
      if (RAND_bytes(key.name.data(), key.name.size()) != 1 ||
          RAND_priv_bytes(key.aes_key.data(), key.aes_key.size()) != 1 ||
          RAND_priv_bytes(key.hmac_key.data(), key.hmac_key.size()) != 1) {
        return false;
      }
      key.created = now;
      keys_.push_front(key);
      if (keys_.size() > kKeysKept) keys_.pop_back();
    }
    out = keys_.front();
    return true;
  }

  // The key named `name`; `newest` tells whether it is the one tickets are issued under.
  bool find(const unsigned char* name, TicketKey& out, bool& newest) {
    std::lock_guard lock(mutex_);
    for (std::size_t i = 0; i < keys_.size(); ++i) {
      if (std::memcmp(keys_[i].name.data(), name, keys_[i].name.size()) == 0) {
        out = keys_[i];
        newest = i == 0;
        return true;
      }
    }
    return false;
  }

 private:
  std::mutex mutex_;
  std::deque<TicketKey> keys_;  // newest first
};

TicketKeyRing& ring() {
  static TicketKeyRing keys;
  return keys;
}

bool set_hmac_key(EVP_MAC_CTX* hmac, TicketKey& key) {
  char digest[] = "SHA256";
  OSSL_PARAM params[] = {OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, key.hmac_key.data(),
                                                           key.hmac_key.size()),
                         OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, digest, 0),
                         OSSL_PARAM_construct_end()};
  return EVP_MAC_CTX_set_params(hmac, params) == 1;
}

// OpenSSL's ticket key callback contract: encrypting returns 1 (or -1 on failure); decrypting
// returns 0 for an unknown key (full handshake), 1 to accept, 2 to accept and issue a new ticket.
int ticket_key_callback(SSL*, unsigned char* name, unsigned char* iv, EVP_CIPHER_CTX* cipher,
                        EVP_MAC_CTX* hmac, int encrypt) {
  TicketKey key;
  if (encrypt) {
    if (!ring().current(key)) return -1;
    if (RAND_bytes(iv, EVP_MAX_IV_LENGTH) != 1) return -1;
    std::memcpy(name, key.name.data(), key.name.size());
    if (EVP_EncryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes_key.data(), iv) != 1 ||
        !set_hmac_key(hmac, key)) {
      return -1;
    }
    return 1;
  }
  bool newest = false;
  if (!ring().find(name, key, newest)) return 0;
  if (EVP_DecryptInit_ex(cipher, EVP_aes_256_cbc(), nullptr, key.aes_key.data(), iv) != 1 ||
      !set_hmac_key(hmac, key)) {
    return -1;
  }
  return newest ? 1 : 2;
}

}  // namespace

void use_rotating_ticket_keys(SSL_CTX* ctx) {
  SSL_CTX_set_tlsext_ticket_key_evp_cb(ctx, ticket_key_callback);
}

}  // namespace rws::net
