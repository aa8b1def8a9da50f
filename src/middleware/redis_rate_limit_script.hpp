#pragma once
// The Lua script behind redis_rate_limit(): one decision, run atomically by Redis. It mirrors
// RateLimiter::decide (src/middleware/rate_limiter.cpp) on Redis's clock, in microseconds.
//
// KEYS[1]: the client's key. ARGV: "tb" (token bucket) or "sw" (sliding window), max_requests,
// the window in microseconds, burst. Returns {allowed (0 or 1), remaining, reset, retry_after},
// the durations in microseconds.
//
// Token bucket (GCRA): the key holds the time the bucket is full again and expires then.
// Sliding window: a hash of the current window's start ("at") and the counts of it ("cur") and
// of the previous one ("prev"); it expires when both windows are over. Lua numbers are doubles:
// exact while the products stay below 2^53, which the loader's bounds on window and burst keep
// true for the token bucket and any realistic sliding window.

#include <string_view>

namespace rws::middleware {

inline constexpr std::string_view kRedisRateLimitScript = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local max = tonumber(ARGV[2])
local w = tonumber(ARGV[3])
local function ms(us) return math.max(1, math.ceil(us / 1000)) end
if ARGV[1] == 'tb' then
  local interval = math.ceil(w / max)
  local capacity = (max + tonumber(ARGV[4])) * interval
  local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tat < now then tat = now end
  local nxt = tat + interval
  if nxt - now > capacity then
    return {0, 0, tat - now, nxt - now - capacity}
  end
  redis.call('SET', KEYS[1], string.format('%.0f', nxt), 'PX', ms(nxt - now))
  return {1, math.floor((capacity - (nxt - now)) / interval), nxt - now, 0}
end
local s = redis.call('HMGET', KEYS[1], 'at', 'prev', 'cur')
local at, prev, cur = tonumber(s[1]), tonumber(s[2]) or 0, tonumber(s[3]) or 0
local tn = now
if at and at > tn then tn = at end
local start = tn - (tn % w)
if not at or at + w < start then
  at, prev, cur = start, 0, 0
elseif at + w == start then
  at, prev, cur = start, cur, 0
end
local elapsed = tn - start
local unelapsed = w - elapsed
local weighted = prev * unelapsed
if weighted + (cur + 1) * w <= max * w then
  cur = cur + 1
  redis.call('HSET', KEYS[1], 'at', string.format('%.0f', at), 'prev', prev, 'cur', cur)
  redis.call('PEXPIRE', KEYS[1], ms(at + 2 * w - now))
  return {1, math.floor((max * w - weighted) / w) - cur, 2 * w - elapsed, 0}
end
local reset = w - elapsed
if cur > 0 then reset = 2 * w - elapsed end
if cur < max and prev > 0 then
  local room = math.floor((max - cur - 1) * w / prev)
  if room > 0 then
    return {0, 0, reset, w - math.min(room, w) - elapsed}
  end
end
local wait = 0
if cur > 0 then wait = w - math.min(math.floor((max - 1) * w / cur), w) end
return {0, 0, reset, unelapsed + wait}
)lua";

}  // namespace rws::middleware
