#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>

#include <rws/http/headers.hpp>
#include <rws/middleware/rate_limit.hpp>

#include "http/syntax.hpp"
#include "middleware/rate_limit_answer.hpp"

namespace rws::middleware {
namespace {

constexpr std::size_t kMaxInlineKey = 64;

// Key kind tags: a header value can never be mistaken for an address, nor a digest for either.
constexpr char kAddressTag = 'a';
constexpr char kHeaderTag = 'h';
constexpr char kDigestTag = 'd';

std::uint64_t fnv1a(std::string_view s) {
  std::uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;
  }
  return h;
}

// Whole seconds, rounded up: "retry in 0 s" would invite an immediate, refused retry.
std::string ceil_seconds(std::chrono::nanoseconds d) {
  constexpr std::int64_t kSecond = 1'000'000'000;
  return std::to_string((d.count() + kSecond - 1) / kSecond);
}

}  // namespace

void set_quota_fields(http::Headers& headers, const RateLimitDecision& d) {
  headers.set("RateLimit-Limit", std::to_string(d.limit));
  headers.set("RateLimit-Remaining", std::to_string(d.remaining));
  headers.set("RateLimit-Reset", ceil_seconds(d.reset));
}

http::Response refused_response(const RateLimitDecision& d) {
  const std::string retry = ceil_seconds(d.retry_after);
  http::Response refused = http::Response::text(
      429, "Too Many Requests: the rate limit is exceeded; retry in " + retry + " s\n");
  refused.head.headers.set("Retry-After", retry);
  set_quota_fields(refused.head.headers, d);
  return refused;
}

std::optional<RateLimitKey> RateLimitKey::parse(std::string_view text) {
  if (text == "ip") return RateLimitKey{};
  constexpr std::string_view kHeader = "header:";
  if (text.substr(0, kHeader.size()) != kHeader) return std::nullopt;
  std::string_view name = text.substr(kHeader.size());
  if (!http::syntax::is_token(name)) return std::nullopt;
  return RateLimitKey{Kind::kHeader, std::string(name)};
}

std::string rate_limit_key(const RateLimitKey& key, const Context& context) {
  std::string out;
  std::string_view value;
  if (key.kind == RateLimitKey::Kind::kHeader) value = context.header(key.header);
  if (value.empty()) {
    out += kAddressTag;
    out += context.client_address();
  } else if (value.size() <= kMaxInlineKey) {
    out += kHeaderTag;
    out += value;
  } else {
    const std::uint64_t parts[2] = {std::hash<std::string_view>{}(value), fnv1a(value)};
    out.resize(1 + sizeof parts);
    out[0] = kDigestTag;
    std::memcpy(out.data() + 1, parts, sizeof parts);
  }
  return out;
}

Middleware rate_limit(std::shared_ptr<RateLimiter> limiter, RateLimitKey key) {
  return
      [limiter = std::move(limiter), key = std::move(key)](
          http::Request& request, Context& context, Next next) -> asio::awaitable<http::Response> {
        const RateLimitDecision d = limiter->acquire(rate_limit_key(key, context));
        if (!d.allowed) co_return refused_response(d);
        http::Response response = co_await next(request, context);
        set_quota_fields(response.head.headers, d);
        co_return response;
      };
}

}  // namespace rws::middleware
