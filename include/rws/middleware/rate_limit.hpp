#pragma once
// Rate limiting as middleware, over a RateLimiter shared by every worker thread.
//
// Each request counts against a key: the client address, or the value of a request header
// (requests without that header, or with it empty, count against their client address, so
// leaving the header out does not escape the limit; the two kinds of key never collide).
// Admitted requests pass on; refused ones get 429 with `Retry-After` (seconds, rounded up).
// Every answer carries the IETF draft's `RateLimit-Limit`, `RateLimit-Remaining` and
// `RateLimit-Reset` (seconds until the quota is whole again, rounded up), replacing any an
// inner handler set.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <rws/app/handler.hpp>
#include <rws/middleware/rate_limiter.hpp>

namespace rws::middleware {

struct RateLimitKey {
  enum class Kind { kClientAddress, kHeader } kind = Kind::kClientAddress;
  std::string header;  // kHeader: the field name

  // "ip" or "header:NAME" (NAME a valid field name); nullopt otherwise.
  static std::optional<RateLimitKey> parse(std::string_view text);
};

// The limiter key of a request: a one-byte kind tag, then the header value or client address.
// Header values over 64 bytes are replaced by a 128-bit digest, so a key costs bounded memory.
std::string rate_limit_key(const RateLimitKey& key, const Context& context);

Middleware rate_limit(std::shared_ptr<RateLimiter> limiter, RateLimitKey key = {});

}  // namespace rws::middleware
