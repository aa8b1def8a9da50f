#pragma once
// A shared HTTP response cache (a subset of RFC 9111).
//
// Only GET and HEAD requests use the cache; a HEAD is answered from a stored GET response. A
// response is stored when it is a 200 to a GET whose body fits `max_entry_bytes`, its
// Cache-Control has neither no-store nor private, it sets no cookie (Set-Cookie), its Vary is
// not "*", and it has a freshness
// lifetime: s-maxage, else max-age, else `default_ttl` (without any of them it is not stored;
// Expires is not read). `no-cache` responses are stored but always revalidated. The body is
// copied into the cache as it streams to the client (never delaying it); a body that turns out
// larger than `max_entry_bytes`, fails, or ends with trailers is simply not stored.
//
// Requests bypass the cache entirely when they carry `Cache-Control: no-store` or a conditional
// field of their own (If-None-Match, If-Modified-Since). A request with Authorization is never
// answered from the cache, and its response is stored only when it says `public` or
// `s-maxage` (RFC 9111 §3.5).
//
// Key: the request's authority, path and query (method-independent), the request values of the
// fields in `vary_by`, and the request values of the fields the stored response names in Vary.
//
// Answers carry `X-Cache: HIT` (served from the cache, with `Age` = upstream Age + seconds
// since stored), `X-Cache: MISS` (went upstream) or `X-Cache: REVALIDATED` (a stale entry with
// an ETag or Last-Modified was revalidated upstream with If-None-Match / If-Modified-Since, the
// 304 refreshed the entry's stored fields (RFC 9111 §4.3.4) and the cached body was served; a
// 200 instead replaces the entry). A stale entry without a validator is fetched again.
//
// The store is an LRU bounded by `max_entries` and `max_bytes` (body bytes), shared by every
// thread that runs the middleware (one mutex; hits share the body, nothing is copied under the
// lock).
//
// Concurrent misses are collapsed (like nginx's proxy_cache_lock): the first GET that finds no
// fresh entry for a key leads a fill and goes upstream, streaming to its own client while the
// body is copied; GETs and HEADs for the same key (the same `vary_by` values and, once a
// response for the key has been stored, the same values of the fields it names in Vary) that
// arrive meanwhile wait — at most `lock_timeout` — and are then answered from the stored entry
// (`X-Cache: HIT`). When the leader's response is not stored (not cacheable, too large, failed,
// abandoned) the waiters are released at once and each goes upstream itself (and may store);
// a waiter whose `lock_timeout` passes goes upstream itself and stores nothing (`X-Cache:
// MISS`). A released waiter whose Vary values do not match the stored entry goes upstream
// itself. Requests with Authorization neither lead nor wait. A waiter's executor must run its
// handlers one at a time (a worker's io_context, or a strand): it is woken by a handler posted
// there. A waiter that is cancelled (an outer timeout) or destroyed leaves the queue.

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <rws/app/handler.hpp>

namespace rws::middleware {

struct CacheOptions {
  std::optional<std::chrono::seconds> default_ttl;  // freshness when the response gives none
  std::vector<std::string> vary_by;                 // request fields added to every key
  std::size_t max_entries = 10000;                  // > 0
  std::size_t max_entry_bytes = std::size_t{1} << 20;
  std::size_t max_bytes = std::size_t{64} << 20;  // all bodies together, >= max_entry_bytes
  // How long a request waits for another request's fill of the same key; 0: concurrent misses
  // are not collapsed (each goes upstream and may store).
  std::chrono::milliseconds lock_timeout{5000};
  // The time source (tests inject one); steady_clock::now when empty.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

namespace detail {
struct CacheState;
}  // namespace detail

// The stored responses and the fills in flight of one cache.
//
// Lifecycle: made once per configured cache (the gateway keeps a route's cache across reloads
// while the route keeps its name and cache settings), then shared by every copy of its
// middleware on every thread; the state lives until the last middleware holding it goes.
class ResponseCache {
 public:
  // Throws std::invalid_argument for max_entries == 0, max_bytes < max_entry_bytes or a
  // negative lock_timeout.
  explicit ResponseCache(CacheOptions options);
  ~ResponseCache();
  ResponseCache(const ResponseCache&) = delete;
  ResponseCache& operator=(const ResponseCache&) = delete;

  // The middleware over this cache; every middleware made here shares it (and keeps its
  // state alive).
  Middleware middleware() const;

  // Requests waiting right now for another request's fill (any thread; for tests and metrics).
  std::size_t waiting() const;

 private:
  std::shared_ptr<detail::CacheState> state_;
};

// A middleware with a cache of its own. Throws as ResponseCache's constructor does.
Middleware cache(CacheOptions options = {});

}  // namespace rws::middleware
