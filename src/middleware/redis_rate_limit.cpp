#include <openssl/sha.h>

#include <array>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

#include <asio/this_coro.hpp>

#include <rws/middleware/redis_rate_limit.hpp>

#include "core/log.hpp"
#include "middleware/rate_limit_answer.hpp"
#include "middleware/redis_rate_limit_script.hpp"
#include "redis/connection.hpp"
#include "redis/resp.hpp"

namespace rws::middleware {
namespace {

// The script's integers are doubles in Redis's Lua: all of them must stay exact.
constexpr std::uint64_t kMaxExactUs = std::uint64_t{1} << 52;

std::string sha1_hex(std::string_view text) {
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest.data());
  constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char byte : digest) {
    out += kHex[byte >> 4];
    out += kHex[byte & 15];
  }
  return out;
}

// What every request of one middleware shares; immutable.
struct Limit {
  RedisRateLimitOptions options;
  std::string algorithm;  // "tb" or "sw": the script's ARGV[1] and part of the key
  std::string max_requests;
  std::string window_us;
  std::string burst;
  std::string sha;
  std::uint64_t quota = 0;  // RateLimit-Limit

  // EVALSHA (by_sha) or EVAL of the script for `key`.
  std::string command(std::string_view key, bool by_sha) const {
    const std::string_view args[] = {by_sha ? "EVALSHA" : "EVAL",
                                     by_sha ? std::string_view(sha) : kRedisRateLimitScript,
                                     "1",
                                     key,
                                     algorithm,
                                     max_requests,
                                     window_us,
                                     burst};
    std::string out;
    redis::append_command(out, args);
    return out;
  }
};

std::shared_ptr<const Limit> make_limit(RedisRateLimitOptions options) {
  const RateLimiterOptions& l = options.limits;
  if (l.max_requests == 0 || l.max_requests > UINT32_MAX) {
    throw std::invalid_argument("rate limit: max_requests must be between 1 and 4294967295");
  }
  if (l.window.count() <= 0) throw std::invalid_argument("rate limit: the window must be positive");
  const bool bucket = l.algorithm == RateLimitAlgorithm::kTokenBucket;
  if (l.burst > 0 && !bucket) {
    throw std::invalid_argument("rate limit: burst applies to the token bucket only");
  }
  if (options.timeout.count() <= 0) {
    throw std::invalid_argument("rate limit: the Redis timeout must be positive");
  }
  const std::uint64_t window_us = static_cast<std::uint64_t>(l.window.count()) * 1000;
  const std::uint64_t interval = (window_us + l.max_requests - 1) / l.max_requests;
  const long double capacity = static_cast<long double>(l.max_requests + l.burst) * interval;
  if (window_us > kMaxExactUs || capacity > static_cast<long double>(kMaxExactUs)) {
    throw std::invalid_argument("rate limit: burst is too large for this window");
  }
  auto limit = std::make_shared<Limit>();
  limit->algorithm = bucket ? "tb" : "sw";
  limit->max_requests = std::to_string(l.max_requests);
  limit->window_us = std::to_string(window_us);
  limit->burst = std::to_string(l.burst);
  limit->sha = sha1_hex(kRedisRateLimitScript);
  limit->quota = l.max_requests + l.burst;
  limit->options = std::move(options);
  return limit;
}

// The decision in the script's reply, or nullopt with `problem` saying what Redis answered.
std::optional<RateLimitDecision> decode(const redis::Reply& reply, std::uint64_t quota,
                                        std::string& problem) {
  if (reply.type == redis::Reply::Type::kError) {
    problem = "Redis answered with an error: " + reply.text;
    return std::nullopt;
  }
  if (reply.type != redis::Reply::Type::kArray || reply.elements.size() != 4) {
    problem = "Redis answered the rate limit script with an unexpected reply";
    return std::nullopt;
  }
  for (const redis::Reply& e : reply.elements) {
    if (e.type != redis::Reply::Type::kInteger || e.integer < 0) {
      problem = "Redis answered the rate limit script with an unexpected reply";
      return std::nullopt;
    }
  }
  RateLimitDecision d;
  d.allowed = reply.elements[0].integer == 1;
  d.limit = quota;
  d.remaining = static_cast<std::uint64_t>(reply.elements[1].integer);
  d.reset = std::chrono::microseconds(reply.elements[2].integer);
  d.retry_after = std::chrono::microseconds(reply.elements[3].integer);
  return d;
}

}  // namespace

Middleware redis_rate_limit(RedisRateLimitOptions options) {
  std::shared_ptr<const Limit> limit = make_limit(std::move(options));
  return [limit](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    const RedisRateLimitOptions& o = limit->options;
    const std::string key = o.key_prefix + limit->algorithm + ":" + rate_limit_key(o.key, context);
    const asio::any_io_executor executor = co_await asio::this_coro::executor;
    std::shared_ptr<redis::Connection> connection = redis::Connection::local(o.url, executor);
    std::string command = limit->command(key, true);
    Result<redis::Reply> reply = co_await connection->call(std::move(command), o.timeout);
    if (reply && reply->type == redis::Reply::Type::kError && reply->text.starts_with("NOSCRIPT")) {
      command = limit->command(key, false);
      reply = co_await connection->call(std::move(command), o.timeout);
    }
    std::string problem;
    std::optional<RateLimitDecision> d;
    if (!reply) {
      problem = reply.error().describe();
    } else {
      d = decode(*reply, limit->quota, problem);
    }
    if (!d) {
      const http::ExchangeNotes* notes = context.connection().notes;
      log::http().warn("rate_limit: request {} refused with 503: {}",
                       notes != nullptr && !notes->request_id.empty()
                           ? notes->request_id
                           : "#" + std::to_string(context.connection().connection_id),
                       problem);
      co_return http::Response::text(
          503, "Service Unavailable: the rate limit store cannot decide (" + problem + ")\n");
    }
    if (!d->allowed) co_return refused_response(*d);
    Next n = next;
    http::Response response = co_await n(request, context);
    set_quota_fields(response.head.headers, *d);
    co_return response;
  };
}

}  // namespace rws::middleware
