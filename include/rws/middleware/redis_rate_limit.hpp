#pragma once
// Rate limiting with the counts kept in Redis, so that several rws processes share one limit.
//
// Same algorithms and same answers as rate_limit() over a RateLimiter (rate_limiter.hpp): 429
// with `Retry-After` when refused, `RateLimit-Limit/-Remaining/-Reset` on every answer. Each
// decision is one Lua script that Redis runs atomically, on Redis's own clock (TIME), against
// the key `<key_prefix><algorithm>:<request key>` ("tb" or "sw"; the request key as
// rate_limit_key() makes it). The key expires when its state has decayed to "never seen" (a
// full bucket; both windows over), so idle clients leave nothing behind. The script is sent by
// its SHA-1 (EVALSHA) and, when Redis does not know it (NOSCRIPT), whole (EVAL).
//
// Nothing fails open: when Redis cannot be reached, refuses AUTH/SELECT, answers with an error,
// or gives no answer within `timeout`, the request gets 503 with a body naming the problem, and
// a warning is logged with the request id (when the request_id middleware set one).
//
// Each worker thread keeps one pipelined connection per Redis server (redis/connection.hpp).

#include <chrono>
#include <string>

#include <rws/app/handler.hpp>
#include <rws/middleware/rate_limit.hpp>
#include <rws/middleware/rate_limiter.hpp>
#include <rws/redis/url.hpp>

namespace rws::middleware {

struct RedisRateLimitOptions {
  redis::RedisUrl url;
  std::chrono::milliseconds timeout{250};  // per Redis answer; > 0
  std::string key_prefix = "rws:rl:";      // the gateway makes it "rws:rl:<route>:"
  RateLimiterOptions limits;               // max_keys is unused: expiry bounds Redis's keys
  RateLimitKey key;
};

// Throws std::invalid_argument for limits RateLimiter refuses, or a timeout that is not positive.
Middleware redis_rate_limit(RedisRateLimitOptions options);

}  // namespace rws::middleware
