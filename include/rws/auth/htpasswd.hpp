#pragma once
// A user file in Apache's htpasswd format: one `user:hash` per line; empty lines and lines
// starting with '#' are skipped. Hash kinds:
//   bcrypt        $2y$ / $2b$ / $2a$  (libxcrypt)
//   crypt         $1$ (MD5), $5$ (SHA-256), $6$ (SHA-512)  (libxcrypt)
//   Apache MD5    $apr1$
//   SHA-1         {SHA}base64     (htpasswd -s)
//   SHA-256       {SHA256}base64  (as written by some tools)
//   plain text    anything else not starting with '$' or '{'
// Any other "$id$" or "{SCHEME}" prefix, a line without ':', an empty user or hash and a user
// named twice are errors: an entry rws cannot check must not silently become a plain-text
// password.
//
// Immutable after load, so one instance is shared by all worker threads.

#include <string>
#include <string_view>
#include <unordered_map>

namespace rws::auth {

class Htpasswd {
 public:
  enum class Scheme { kBcrypt, kCrypt, kApr1, kSha1, kSha256, kPlain };

  // Parses `text`; errors throw std::runtime_error "SOURCE:LINE: message".
  static Htpasswd parse(std::string_view text, const std::string& source);
  // Reads and parses the file at `path`; an unreadable file throws std::runtime_error too.
  static Htpasswd load(const std::string& path);

  // Whether `password` is `user`'s. The hash comparison takes constant time. When the file has
  // slow hashes (bcrypt, crypt), an unknown user's password is hashed against one of them too,
  // so response time does not tell which users exist.
  bool verify(std::string_view user, std::string_view password) const;
  // Whether checking `user`'s password costs real CPU time (bcrypt, crypt; and an unknown user
  // when the file has such hashes): callers on an event loop run those on a blocking pool.
  bool slow(std::string_view user) const;

  std::size_t size() const noexcept { return entries_.size(); }

 private:
  struct Entry {
    Scheme scheme;
    std::string hash;  // as in the file, prefix included
  };
  std::unordered_map<std::string, Entry> entries_;
  std::string decoy_;  // a slow hash of the file, checked for unknown users; empty: none
};

}  // namespace rws::auth
