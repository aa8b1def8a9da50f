#include <chrono>
#include <memory>
#include <optional>
#include <stdexcept>

#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/auth/secret.hpp>
#include <rws/http/headers.hpp>
#include <rws/middleware/auth.hpp>

#include "auth/base64.hpp"
#include "core/blocking_pool.hpp"

namespace rws::middleware {
namespace {

constexpr auto kTuple = asio::experimental::as_tuple(asio::use_awaitable);

// The credentials after `scheme` in the single Authorization field; nullopt when there is no
// such field, "" when the field is there but not for this scheme (or there are several).
std::optional<std::string_view> credentials(const http::Request& request, std::string_view scheme) {
  const http::Headers& headers = request.head.headers;
  const std::size_t count = headers.count("authorization");
  if (count == 0) return std::nullopt;
  if (count > 1) return std::string_view();
  std::string_view value = headers.get("authorization");
  if (value.size() <= scheme.size() || !http::iequals(value.substr(0, scheme.size()), scheme) ||
      value[scheme.size()] != ' ') {
    return std::string_view();
  }
  value.remove_prefix(scheme.size());
  while (!value.empty() && value.front() == ' ')
    value.remove_prefix(1);
  while (!value.empty() && (value.back() == ' ' || value.back() == '\t'))
    value.remove_suffix(1);
  return value;
}

http::Response challenge(std::string value) {
  http::Response response = http::Response::text(401, "Unauthorized\n");
  response.head.headers.set("WWW-Authenticate", value);
  return response;
}

// A quoted-string (RFC 9110 §5.6.4) holding `text`.
std::string quoted(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

// Asks `verifier` for an early JWKS fetch and waits for it without blocking the worker: the
// refresh thread's callback posts the wake-up to this coroutine's executor. False when no fetch
// is coming.
asio::awaitable<bool> refetched(const auth::JwtVerifier& verifier) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  auto timer =
      std::make_shared<asio::steady_timer>(executor, asio::steady_timer::time_point::max());
  // A weak reference: a request abandoned meanwhile (its frame and timer gone) is not woken.
  std::weak_ptr<asio::steady_timer> weak = timer;
  const bool fetching = verifier.refetch_unknown_kid([executor, weak] {
    asio::post(executor, [weak] {
      if (std::shared_ptr<asio::steady_timer> t = weak.lock()) t->cancel();
    });
  });
  if (!fetching) co_return false;
  // The wake-up is posted to this executor, so it runs after this wait has begun.
  auto [ec] = co_await timer->async_wait(kTuple);
  (void)ec;  // cancelled: the fetch is over
  co_return true;
}

}  // namespace

Middleware bearer_auth(BearerAuthOptions options) {
  if (options.token.empty()) throw std::invalid_argument("bearer_auth: the token is empty");
  auto token = std::make_shared<const std::string>(std::move(options.token));
  return [token](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    std::optional<std::string_view> given = credentials(request, "Bearer");
    if (!given) co_return challenge("Bearer");
    if (given->empty() || !auth::secret_equal(*given, *token)) {
      co_return challenge("Bearer error=\"invalid_token\"");
    }
    co_return co_await next(request, context);
  };
}

Middleware basic_auth(BasicAuthOptions options) {
  if (!options.users) throw std::invalid_argument("basic_auth: no user file");
  struct State {
    std::shared_ptr<const auth::Htpasswd> users;
    std::string challenge;
  };
  auto state = std::make_shared<const State>(State{
      std::move(options.users), "Basic realm=" + quoted(options.realm) + ", charset=\"UTF-8\""});
  return [state](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    std::optional<std::string_view> given = credentials(request, "Basic");
    std::optional<std::string> decoded;
    if (given && !given->empty()) decoded = auth::decode_base64(*given);
    const std::size_t colon = decoded ? decoded->find(':') : std::string::npos;
    if (colon == std::string::npos) co_return challenge(state->challenge);
    const std::string_view user = std::string_view(*decoded).substr(0, colon);
    const std::string_view password = std::string_view(*decoded).substr(colon + 1);
    bool ok = false;
    if (state->users->slow(user)) {
      // Only pointers into this frame cross to the pool; the frame outlives the call.
      const auth::Htpasswd* users = state->users.get();
      const std::string_view* u = &user;
      const std::string_view* p = &password;
      ok = co_await run_blocking([users, u, p] { return users->verify(*u, *p); });
    } else {
      ok = state->users->verify(user, password);
    }
    if (!ok) co_return challenge(state->challenge);
    context.set(AuthenticatedUser{std::string(user)});
    co_return co_await next(request, context);
  };
}

Middleware jwt_auth(JwtAuthOptions options) {
  if (!options.verifier) throw std::invalid_argument("jwt_auth: no verifier");
  auto state = std::make_shared<const JwtAuthOptions>(std::move(options));
  return [state](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    // Before anything else: a client never gets to choose what the upstream sees here.
    if (!state->claims_header.empty()) request.head.headers.remove(state->claims_header);
    std::optional<std::string_view> given = credentials(request, "Bearer");
    if (!given) co_return challenge("Bearer");
    auth::JwtResult result =
        given->empty() ? auth::JwtResult{false, "malformed Authorization field", {}, false}
                       : state->verifier->verify(*given, std::chrono::system_clock::now());
    if (result.unknown_kid) {
      // Perhaps a key the identity provider has just rotated in: once the early JWKS fetch is
      // over (or refused by its rate limit), verify again.
      const bool fetching = co_await refetched(*state->verifier);
      if (fetching) result = state->verifier->verify(*given, std::chrono::system_clock::now());
    }
    if (!result.valid) {
      co_return challenge("Bearer error=\"invalid_token\", error_description=" +
                          quoted(result.error));
    }
    if (!state->claims_header.empty())
      request.head.headers.set(state->claims_header, result.claims);
    context.set(JwtClaims{std::move(result.claims)});
    co_return co_await next(request, context);
  };
}

}  // namespace rws::middleware
