#include "auth/md5crypt.hpp"

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <stdexcept>

namespace rws::auth {
namespace {

using Digest = std::array<unsigned char, 16>;

// One MD5 computation over consecutive parts, through EVP (MD5() is deprecated in OpenSSL 3).
class Md5 {
 public:
  Md5() : ctx_(EVP_MD_CTX_new(), EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_md5(), nullptr) != 1) {
      throw std::runtime_error("MD5 is not available");
    }
  }
  Md5& add(std::string_view bytes) {
    EVP_DigestUpdate(ctx_.get(), bytes.data(), bytes.size());
    return *this;
  }
  Md5& add(const Digest& d, std::size_t n = 16) {
    EVP_DigestUpdate(ctx_.get(), d.data(), n);
    return *this;
  }
  Digest finish() {
    Digest d{};
    unsigned int size = 0;
    EVP_DigestFinal_ex(ctx_.get(), d.data(), &size);
    return d;
  }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
};

constexpr char kItoa64[] = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

void to64(std::string& out, unsigned long v, int n) {
  while (n-- > 0) {
    out.push_back(kItoa64[v & 0x3f]);
    v >>= 6;
  }
}

}  // namespace

std::string md5crypt(std::string_view password, std::string_view salt, std::string_view magic) {
  salt = salt.substr(0, std::min(salt.find('$'), std::size_t{8}));

  Md5 alternate;
  Digest alt = alternate.add(password).add(salt).add(password).finish();

  Md5 main;
  main.add(password).add(magic).add(salt);
  for (std::size_t left = password.size(); left > 0; left -= std::min(left, std::size_t{16})) {
    main.add(alt, std::min(left, std::size_t{16}));
  }
  for (std::size_t i = password.size(); i != 0; i >>= 1) {
    main.add((i & 1) != 0 ? std::string_view("\0", 1) : password.substr(0, 1));
  }
  Digest final = main.finish();

  // 1000 rounds, to slow brute force down (by 1990s standards).
  for (int round = 0; round < 1000; ++round) {
    Md5 step;
    if ((round & 1) != 0) {
      step.add(password);
    } else {
      step.add(final);
    }
    if (round % 3 != 0) step.add(salt);
    if (round % 7 != 0) step.add(password);
    if ((round & 1) != 0) {
      step.add(final);
    } else {
      step.add(password);
    }
    final = step.finish();
  }

  std::string out(magic);
  out.append(salt).push_back('$');
  constexpr int kTriples[5][3] = {{0, 6, 12}, {1, 7, 13}, {2, 8, 14}, {3, 9, 15}, {4, 10, 5}};
  for (const auto& t : kTriples) {
    to64(out,
         (static_cast<unsigned long>(final[t[0]]) << 16) |
             (static_cast<unsigned long>(final[t[1]]) << 8) | final[t[2]],
         4);
  }
  to64(out, final[11], 2);
  return out;
}

}  // namespace rws::auth
