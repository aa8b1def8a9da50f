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
// lock). Concurrent misses for one key each go upstream (no request collapsing).

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
  // The time source (tests inject one); steady_clock::now when empty.
  std::function<std::chrono::steady_clock::time_point()> clock;
};

// Throws std::invalid_argument for max_entries == 0 or max_bytes < max_entry_bytes.
Middleware cache(CacheOptions options = {});

}  // namespace rws::middleware
