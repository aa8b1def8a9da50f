#include <crypt.h>
#include <openssl/sha.h>

#include <cctype>
#include <cstring>
#include <memory>
#include <optional>
#include <stdexcept>

#include <rws/auth/htpasswd.hpp>
#include <rws/auth/secret.hpp>

#include "auth/base64.hpp"
#include "auth/md5crypt.hpp"
#include "auth/read_file.hpp"

namespace rws::auth {
namespace {

bool is_crypt64(std::string_view s) {
  for (char c : s) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '.' && c != '/') return false;
  }
  return true;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

// $2y$NN$ + 22 characters of salt + 31 of hash.
bool valid_bcrypt(std::string_view h) {
  if (h.size() != 60 || h[6] != '$') return false;
  if (!std::isdigit(static_cast<unsigned char>(h[4])) ||
      !std::isdigit(static_cast<unsigned char>(h[5]))) {
    return false;
  }
  const int cost = (h[4] - '0') * 10 + (h[5] - '0');
  return cost >= 4 && cost <= 31 && is_crypt64(h.substr(7));
}

// $apr1$ + 1..8 salt characters + $ + 22 characters.
bool valid_apr1(std::string_view h) {
  std::string_view rest = h.substr(6);
  const std::size_t dollar = rest.find('$');
  if (dollar == std::string_view::npos || dollar == 0 || dollar > 8) return false;
  return is_crypt64(rest.substr(0, dollar)) && rest.size() - dollar - 1 == 22 &&
         is_crypt64(rest.substr(dollar + 1));
}

bool valid_base64_digest(std::string_view text, std::size_t size) {
  std::optional<std::string> raw = decode_base64(text);
  return raw && raw->size() == size;
}

// crypt_r with a per-thread work area (struct crypt_data is ~32 KiB: not for the stack).
std::optional<std::string> crypt_hash(std::string_view password, const std::string& setting) {
  if (password.find('\0') != std::string_view::npos) return std::nullopt;
  thread_local std::unique_ptr<crypt_data> data = std::make_unique<crypt_data>();
  std::memset(data.get(), 0, sizeof(crypt_data));
  const std::string pw(password);
  const char* out = crypt_r(pw.c_str(), setting.c_str(), data.get());
  // Failure is NULL or a string starting with '*' (never a valid hash).
  if (out == nullptr || out[0] == '*') return std::nullopt;
  return std::string(out);
}

std::string sha_base64(std::string_view password, bool sha256) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  const auto* data = reinterpret_cast<const unsigned char*>(password.data());
  if (sha256) {
    SHA256(data, password.size(), digest);
  } else {
    SHA1(data, password.size(), digest);
  }
  return encode_base64(std::string_view(reinterpret_cast<const char*>(digest),
                                        sha256 ? SHA256_DIGEST_LENGTH : SHA_DIGEST_LENGTH));
}

// The scheme of `hash`, or an error message.
std::string classify(std::string_view hash, Htpasswd::Scheme& scheme) {
  if (starts_with(hash, "$2y$") || starts_with(hash, "$2b$") || starts_with(hash, "$2a$")) {
    scheme = Htpasswd::Scheme::kBcrypt;
    return valid_bcrypt(hash) ? "" : "malformed bcrypt hash";
  }
  if (starts_with(hash, "$apr1$")) {
    scheme = Htpasswd::Scheme::kApr1;
    return valid_apr1(hash) ? "" : "malformed $apr1$ hash";
  }
  if (starts_with(hash, "$1$") || starts_with(hash, "$5$") || starts_with(hash, "$6$")) {
    scheme = Htpasswd::Scheme::kCrypt;
    // libxcrypt itself says whether it can use the setting: hash a dummy password with it.
    return crypt_hash("x", std::string(hash)) ? "" : "malformed crypt hash";
  }
  if (starts_with(hash, "{SHA}")) {
    scheme = Htpasswd::Scheme::kSha1;
    return valid_base64_digest(hash.substr(5), SHA_DIGEST_LENGTH) ? "" : "malformed {SHA} hash";
  }
  if (starts_with(hash, "{SHA256}")) {
    scheme = Htpasswd::Scheme::kSha256;
    return valid_base64_digest(hash.substr(8), SHA256_DIGEST_LENGTH) ? ""
                                                                     : "malformed {SHA256} hash";
  }
  if (hash.front() == '$' || hash.front() == '{') {
    return "unsupported hash scheme (supported: bcrypt, $apr1$, $1$, $5$, $6$, {SHA}, "
           "{SHA256}, plain text)";
  }
  scheme = Htpasswd::Scheme::kPlain;
  return "";
}

}  // namespace

Htpasswd Htpasswd::parse(std::string_view text, const std::string& source) {
  Htpasswd out;
  std::size_t number = 0;
  while (!text.empty()) {
    ++number;
    const std::size_t end = text.find('\n');
    std::string_view line = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line.front() == '#') continue;
    auto fail = [&](const std::string& message) {
      throw std::runtime_error(source + ":" + std::to_string(number) + ": " + message);
    };
    const std::size_t colon = line.find(':');
    if (colon == std::string_view::npos) fail("expected 'user:hash'");
    std::string user(line.substr(0, colon));
    std::string_view hash = line.substr(colon + 1);
    if (user.empty()) fail("empty user name");
    if (hash.empty()) fail("empty password hash for user '" + user + "'");
    Scheme scheme = Scheme::kPlain;
    if (std::string problem = classify(hash, scheme); !problem.empty()) {
      fail(problem + " for user '" + user + "'");
    }
    if (out.entries_.count(user) != 0) fail("user '" + user + "' appears twice");
    if (out.decoy_.empty() && (scheme == Scheme::kBcrypt || scheme == Scheme::kCrypt)) {
      out.decoy_ = std::string(hash);
    }
    out.entries_.emplace(std::move(user), Entry{scheme, std::string(hash)});
  }
  return out;
}

Htpasswd Htpasswd::load(const std::string& path) {
  return parse(read_credential_file(path), path);
}

bool Htpasswd::slow(std::string_view user) const {
  auto it = entries_.find(std::string(user));
  if (it == entries_.end()) return !decoy_.empty();
  return it->second.scheme == Scheme::kBcrypt || it->second.scheme == Scheme::kCrypt;
}

bool Htpasswd::verify(std::string_view user, std::string_view password) const {
  auto it = entries_.find(std::string(user));
  if (it == entries_.end()) {
    if (!decoy_.empty()) crypt_hash(password, decoy_);  // the same work as for a known user
    return false;
  }
  const Entry& e = it->second;
  switch (e.scheme) {
    case Scheme::kBcrypt:
    case Scheme::kCrypt: {
      std::optional<std::string> computed = crypt_hash(password, e.hash);
      return computed && secret_equal(*computed, e.hash);
    }
    case Scheme::kApr1:
      return secret_equal(md5crypt(password, std::string_view(e.hash).substr(6), "$apr1$"), e.hash);
    case Scheme::kSha1:
      return secret_equal("{SHA}" + sha_base64(password, false), e.hash);
    case Scheme::kSha256:
      return secret_equal("{SHA256}" + sha_base64(password, true), e.hash);
    case Scheme::kPlain:
      return secret_equal(password, e.hash);
  }
  return false;
}

}  // namespace rws::auth
