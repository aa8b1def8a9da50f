#include <algorithm>
#include <cstdint>
#include <list>
#include <mutex>
#include <stdexcept>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <rws/http/body.hpp>
#include <rws/http/headers.hpp>
#include <rws/middleware/cache.hpp>

#include "http/syntax.hpp"
#include "middleware/cache_fills.hpp"

namespace rws::middleware {
namespace {

using Clock = std::chrono::steady_clock;
using Bytes = std::shared_ptr<const std::string>;

constexpr std::int64_t kMaxSeconds = std::int64_t{1} << 31;  // RFC 9111 §1.2.2

// Delta-seconds (RFC 9111 §1.2.2): digits, capped at 2^31; nullopt when not a number.
std::optional<std::int64_t> delta_seconds(std::string_view s) {
  if (s.size() >= 2 && s.front() == '"' && s.back() == '"') s = s.substr(1, s.size() - 2);
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = std::min(kMaxSeconds, v * 10 + (c - '0'));
  }
  return v;
}

struct Directives {
  bool no_store = false;
  bool is_private = false;
  bool no_cache = false;
  bool is_public = false;
  std::optional<std::int64_t> max_age;
  std::optional<std::int64_t> s_maxage;
};

// Cache-Control directives (RFC 9111 §5.2); unknown ones are ignored.
Directives parse_cache_control(std::string_view value) {
  Directives d;
  while (!value.empty()) {
    std::size_t comma = value.find(',');
    std::string_view item = http::syntax::trim_ows(value.substr(0, comma));
    value = comma == std::string_view::npos ? std::string_view() : value.substr(comma + 1);
    std::size_t eq = item.find('=');
    std::string_view name = http::syntax::trim_ows(item.substr(0, eq));
    std::string_view arg =
        eq == std::string_view::npos ? "" : http::syntax::trim_ows(item.substr(eq + 1));
    if (http::iequals(name, "no-store")) d.no_store = true;
    if (http::iequals(name, "private")) d.is_private = true;
    if (http::iequals(name, "no-cache")) d.no_cache = true;
    if (http::iequals(name, "public")) d.is_public = true;
    if (http::iequals(name, "max-age")) d.max_age = delta_seconds(arg);
    if (http::iequals(name, "s-maxage")) d.s_maxage = delta_seconds(arg);
  }
  return d;
}

// The freshness lifetime: s-maxage, else max-age, else the configured default.
std::optional<std::chrono::seconds> freshness(const Directives& d,
                                              std::optional<std::chrono::seconds> fallback) {
  if (d.s_maxage) return std::chrono::seconds(*d.s_maxage);
  if (d.max_age) return std::chrono::seconds(*d.max_age);
  return fallback;
}

std::chrono::seconds age_field(const http::Headers& h) {
  const std::string* age = h.find("Age");
  std::optional<std::int64_t> v =
      age != nullptr ? delta_seconds(http::syntax::trim_ows(*age)) : std::nullopt;
  return std::chrono::seconds(v.value_or(0));
}

// Fields a stored response head never keeps: framing (rewritten from the stored body), Age
// (kept as `initial_age`) and the cache's own marker.
bool unstored_field(std::string_view name) {
  return http::iequals(name, "Content-Length") || http::iequals(name, "Transfer-Encoding") ||
         http::iequals(name, "Age") || http::iequals(name, "X-Cache");
}

struct Entry {
  std::string primary;
  std::vector<std::pair<std::string, std::string>> vary;  // field name → request value
  http::ResponseHead head;
  Bytes body;
  Clock::time_point stored;
  std::chrono::seconds initial_age{0};
  std::chrono::seconds lifetime{0};
  bool no_cache = false;

  bool matches(const http::Headers& request) const {
    return std::all_of(vary.begin(), vary.end(),
                       [&](const auto& f) { return request.joined(f.first) == f.second; });
  }
  std::chrono::seconds age(Clock::time_point now) const {
    return initial_age + std::chrono::duration_cast<std::chrono::seconds>(now - stored);
  }
  bool fresh(Clock::time_point now) const { return !no_cache && age(now) < lifetime; }
};

// The LRU store shared by every copy of one cache middleware.
class Store {
 public:
  Store(std::size_t max_entries, std::size_t max_bytes)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // A copy of the entry for `primary` whose Vary fields match `request` (the body is shared),
  // marked most recently used.
  std::optional<Entry> find(const std::string& primary, const http::Headers& request) {
    std::lock_guard lock(mutex_);
    return take(primary, request);
  }

  struct Found {
    std::optional<Entry> entry;  // as `find`
    // Unless the entry is fresh at `now`: what concurrent misses collapse on, `primary` and,
    // once an entry for it is stored, the request's values of the fields it names in Vary.
    std::string fill_key;
  };
  Found lookup(const std::string& primary, const http::Headers& request, Clock::time_point now) {
    std::lock_guard lock(mutex_);
    Found found{take(primary, request), {}};
    if (found.entry && found.entry->fresh(now)) return found;
    found.fill_key = primary;
    auto known = index_.find(primary);
    if (known != index_.end()) {
      for (const auto& [name, value] : known->second->vary) {
        found.fill_key += '\n';
        found.fill_key += name;
        found.fill_key += ':';
        found.fill_key += request.joined(name);
      }
    }
    return found;
  }

  // Stores `entry`, replacing the variant `request` would have matched; evicts the least
  // recently used entries past the bounds.
  void put(Entry entry, const http::Headers& request) {
    std::lock_guard lock(mutex_);
    auto old = locate(entry.primary, request);
    if (old != lru_.end()) erase(old);
    bytes_ += entry.body->size();
    lru_.push_front(std::move(entry));
    index_.emplace(lru_.front().primary, lru_.begin());
    while (lru_.size() > max_entries_ || bytes_ > max_bytes_)
      erase(std::prev(lru_.end()));
  }

  // Applies a 304's fields to the matching entry (RFC 9111 §4.3.4) and restarts its age;
  // returns the refreshed copy, or nullopt when the entry is gone.
  std::optional<Entry> refresh(const std::string& primary, const http::Headers& request,
                               const http::Headers& update, Clock::time_point now,
                               std::optional<std::chrono::seconds> default_ttl) {
    std::lock_guard lock(mutex_);
    auto it = locate(primary, request);
    if (it == lru_.end()) return std::nullopt;
    http::Headers& stored = it->head.headers;
    for (const auto& field : update) {
      if (!unstored_field(field.name)) stored.remove(field.name);
    }
    for (const auto& field : update) {
      if (!unstored_field(field.name)) stored.add(field.name, field.value);
    }
    Directives d = parse_cache_control(stored.joined("Cache-Control"));
    it->stored = now;
    it->initial_age = age_field(update);
    it->lifetime = freshness(d, default_ttl).value_or(std::chrono::seconds(0));
    it->no_cache = d.no_cache;
    lru_.splice(lru_.begin(), lru_, it);
    return *it;
  }

 private:
  using Iter = std::list<Entry>::iterator;

  std::optional<Entry> take(const std::string& primary, const http::Headers& request) {
    auto it = locate(primary, request);
    if (it == lru_.end()) return std::nullopt;
    lru_.splice(lru_.begin(), lru_, it);
    return *it;
  }

  Iter locate(const std::string& primary, const http::Headers& request) {
    auto [first, last] = index_.equal_range(primary);
    for (auto i = first; i != last; ++i) {
      if (i->second->matches(request)) return i->second;
    }
    return lru_.end();
  }

  void erase(Iter it) {
    auto [first, last] = index_.equal_range(it->primary);
    for (auto i = first; i != last; ++i) {
      if (i->second == it) {
        index_.erase(i);
        break;
      }
    }
    bytes_ -= it->body->size();
    lru_.erase(it);
  }

  std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_multimap<std::string, Iter> index_;
  std::size_t bytes_ = 0;
  std::size_t max_entries_;
  std::size_t max_bytes_;
};

// Hands out a shared stored body.
class StoredBody final : public http::BodySource {
 public:
  explicit StoredBody(Bytes bytes) : bytes_(std::move(bytes)) {}
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    if (offset_ == bytes_->size()) co_return http::BodyFrame::end();
    std::size_t n = std::min(max_bytes, bytes_->size() - offset_);
    std::string_view piece(bytes_->data() + offset_, n);
    offset_ += n;
    co_return http::BodyFrame::bytes(piece);
  }

 private:
  Bytes bytes_;
  std::size_t offset_ = 0;
};

// Passes a body through unchanged while copying it; `done` receives the copy when the body
// ends normally within `limit` bytes and without trailers, and then the fill `lease` (if any)
// ends as stored. It ends as not stored as soon as the copy is given up (too large, failed,
// trailers) or when the body is abandoned.
class TeeBody final : public http::BodySource {
 public:
  TeeBody(std::unique_ptr<http::BodySource> source, std::size_t limit,
          std::function<void(std::string)> done, FillLease lease)
      : source_(std::move(source)),
        limit_(limit),
        done_(std::move(done)),
        lease_(std::move(lease)) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    Result<http::BodyFrame> frame = co_await source_->next(max_bytes);
    if (!frame) {
      stop();
    } else if (frame->kind == http::BodyFrame::Kind::kData) {
      if (copying_ && copy_.size() + frame->data.size() <= limit_) {
        copy_.append(frame->data);
      } else {
        stop();
      }
    } else if (frame->kind == http::BodyFrame::Kind::kTrailers) {
      stop();
    } else if (copying_) {
      copying_ = false;
      done_(std::move(copy_));
      lease_.finish(true);
    }
    co_return frame;
  }

 private:
  void stop() {
    copying_ = false;
    std::string().swap(copy_);
    lease_.finish(false);
  }

  std::unique_ptr<http::BodySource> source_;
  std::size_t limit_;
  std::function<void(std::string)> done_;
  FillLease lease_;
  bool copying_ = true;
  std::string copy_;
};

http::Response serve(const Entry& entry, std::string_view how, Clock::time_point now) {
  http::Response response;
  response.head = entry.head;
  response.head.headers.set("Age", std::to_string(entry.age(now).count()));
  response.head.headers.set("X-Cache", how);
  const std::uint64_t size = entry.body->size();
  response.body = http::Body::from_stream(std::make_unique<StoredBody>(entry.body), size);
  return response;
}

}  // namespace

namespace detail {

// What one ResponseCache holds; shared by its middleware and the bodies still filling it.
struct CacheState {
  CacheState(CacheOptions o, std::size_t entries, std::size_t bytes)
      : options(std::move(o)), store(entries, bytes) {}
  CacheOptions options;
  Store store;
  std::shared_ptr<FillRegistry> fills = std::make_shared<FillRegistry>();
  Clock::time_point now() const { return options.clock ? options.clock() : Clock::now(); }
};

}  // namespace detail

namespace {

using State = std::shared_ptr<detail::CacheState>;

std::string primary_key(const http::Request& request, const std::vector<std::string>& vary_by) {
  std::string key = request.head.authority;
  key += ' ';
  key += request.head.path;
  key += '?';
  key += request.head.query;
  for (const std::string& name : vary_by) {
    key += '\n';
    key += request.head.headers.joined(name);
  }
  return key;
}

// Makes `response` (to a GET whose request fields were `request`) fill the cache if it may be
// stored. The fill `lease` (if any) ends when the entry is stored, or as soon as it is known
// that it will not be.
void maybe_store(const State& shared, const http::Headers& request, std::string primary,
                 http::Response& response, FillLease lease) {
  if (response.head.status != 200 || response.upgrade) return;
  const http::Headers& fields = response.head.headers;
  Directives d = parse_cache_control(fields.joined("Cache-Control"));
  if (d.no_store || d.is_private) return;
  // One client's cookie must never be handed to another (nginx does not cache these either).
  if (fields.contains("Set-Cookie")) return;
  if (request.contains("Authorization") && !d.is_public && !d.s_maxage) return;
  std::optional<std::chrono::seconds> lifetime = freshness(d, shared->options.default_ttl);
  if (!lifetime) return;
  Entry entry;
  std::string vary = fields.joined("Vary");
  while (!vary.empty()) {
    std::size_t comma = vary.find(',');
    std::string name(http::syntax::trim_ows(std::string_view(vary).substr(0, comma)));
    vary = comma == std::string::npos ? std::string() : vary.substr(comma + 1);
    if (name == "*") return;
    if (!name.empty()) entry.vary.emplace_back(name, request.joined(name));
  }
  std::optional<std::uint64_t> size = response.body.size();
  const std::size_t limit = shared->options.max_entry_bytes;
  if (size && *size > limit) return;
  entry.primary = std::move(primary);
  entry.head.status = response.head.status;
  entry.head.reason = response.head.reason;
  for (const auto& field : fields) {
    if (!unstored_field(field.name)) entry.head.headers.add(field.name, field.value);
  }
  entry.stored = shared->now();
  entry.initial_age = age_field(fields);
  entry.lifetime = *lifetime;
  entry.no_cache = d.no_cache;
  if (response.body.is_empty() || response.body.is_bytes()) {
    entry.body = std::make_shared<const std::string>(
        response.body.is_bytes() ? response.body.bytes() : std::string());
    if (entry.body->size() <= limit) {
      shared->store.put(std::move(entry), request);
      lease.finish(true);
    }
    return;
  }
  // Teed: the entry is stored when the body has been sent in full.
  auto done = [shared, entry = std::move(entry),
               request_fields = request](std::string body) mutable {
    entry.body = std::make_shared<const std::string>(std::move(body));
    shared->store.put(std::move(entry), request_fields);
  };
  response.body =
      http::Body::from_stream(std::make_unique<TeeBody>(std::move(response.body).into_source(),
                                                        limit, std::move(done), std::move(lease)),
                              size);
}

asio::awaitable<http::Response> run(State shared, http::Request& req, Context& ctx, Next next) {
  const bool get = req.head.method == "GET";
  http::Headers& fields = req.head.headers;
  if ((!get && req.head.method != "HEAD") ||
      parse_cache_control(fields.joined("Cache-Control")).no_store ||
      fields.contains("If-None-Match") || fields.contains("If-Modified-Since")) {
    Next n = next;
    co_return co_await n(req, ctx);
  }
  std::string primary = primary_key(req, shared->options.vary_by);
  std::optional<Entry> cached;
  FillLease lease;       // held while this request fills the entry others wait for
  bool may_store = get;  // false after a timed-out wait: the fill in flight will store
  if (!fields.contains("Authorization")) {
    const Clock::time_point now = shared->now();
    Store::Found found = shared->store.lookup(primary, fields, now);
    if (found.entry && found.entry->fresh(now)) co_return serve(*found.entry, "HIT", now);
    cached = std::move(found.entry);
    const std::chrono::milliseconds timeout = shared->options.lock_timeout;
    if (timeout.count() > 0) {
      asio::awaitable<FillJoin> joining =
          shared->fills->join(std::move(found.fill_key), get, timeout);
      FillJoin joined = co_await std::move(joining);
      if (joined.lease || joined.outcome) {
        // A fill may have ended since the lookup (then this request leads for nothing), or the
        // one waited for has: answer from its entry when it matches.
        cached = shared->store.find(primary, fields);
        if (cached && cached->fresh(shared->now())) {
          joined.lease.finish(true);
          co_return serve(*cached, "HIT", shared->now());
        }
      }
      lease = std::move(joined.lease);
      if (joined.outcome == FillOutcome::kTimedOut) may_store = false;
    }
  }

  // The request head as the client sent it: the inner chain may change it (the proxy does),
  // Vary refers to the client's values, and a retry must start from it.
  const http::RequestHead original = req.head;
  const http::Headers& sent = original.headers;
  bool revalidating = false;
  if (cached && get) {
    std::string_view etag = cached->head.headers.get("ETag");
    std::string_view modified = cached->head.headers.get("Last-Modified");
    if (!etag.empty()) fields.set("If-None-Match", etag);
    if (!modified.empty()) fields.set("If-Modified-Since", modified);
    revalidating = !etag.empty() || !modified.empty();
  }
  Next n = next;
  http::Response response = co_await n(req, ctx);
  if (revalidating) {
    if (response.head.status == 304) {
      std::optional<Entry> refreshed = shared->store.refresh(
          primary, sent, response.head.headers, shared->now(), shared->options.default_ttl);
      if (refreshed) {
        lease.finish(true);
        co_return serve(*refreshed, "REVALIDATED", shared->now());
      }
    }
    if (response.head.status == 304) {  // the entry was evicted meanwhile: fetch it in full
      req.head = original;
      Next again = next;
      response = co_await again(req, ctx);
    }
  }
  if (may_store) maybe_store(shared, sent, std::move(primary), response, std::move(lease));
  response.head.headers.set("X-Cache", "MISS");
  co_return response;
}

}  // namespace

ResponseCache::ResponseCache(CacheOptions options) {
  if (options.max_entries == 0) throw std::invalid_argument("cache: max_entries must be > 0");
  if (options.max_bytes < options.max_entry_bytes) {
    throw std::invalid_argument("cache: max_bytes must be at least max_entry_bytes");
  }
  if (options.lock_timeout.count() < 0) {
    throw std::invalid_argument("cache: lock_timeout must not be negative");
  }
  const std::size_t entries = options.max_entries;
  const std::size_t bytes = options.max_bytes;
  state_ = std::make_shared<detail::CacheState>(std::move(options), entries, bytes);
}

ResponseCache::~ResponseCache() = default;

std::size_t ResponseCache::waiting() const {
  return state_->fills->waiting();
}

Middleware ResponseCache::middleware() const {
  return [shared = state_](http::Request& req, Context& ctx,
                           Next next) -> asio::awaitable<http::Response> {
    return run(shared, req, ctx, std::move(next));
  };
}

Middleware cache(CacheOptions options) {
  return ResponseCache(std::move(options)).middleware();
}

}  // namespace rws::middleware
