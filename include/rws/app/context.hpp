#pragma once
// Context: everything a handler or middleware knows about the exchange besides the request:
// route parameters, the query, cookies, connection facts, the App's state and per-request
// extensions. Created by the App for each request; valid until the response is returned.

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <typeinfo>
#include <utility>
#include <vector>

#include <rws/app/error.hpp>
#include <rws/app/extract.hpp>
#include <rws/app/state.hpp>
#include <rws/http/request.hpp>
#include <rws/http/service.hpp>

namespace rws {

namespace detail {
template <class T>
constexpr const char* value_kind() {
  if constexpr (std::is_same_v<T, bool>) {
    return "boolean (true or false)";
  } else if constexpr (std::is_same_v<T, Uuid>) {
    return "UUID";
  } else if constexpr (std::is_floating_point_v<T>) {
    return "number";
  } else if constexpr (std::is_integral_v<T>) {
    return "integer in range";
  } else {
    return "value";
  }
}
}  // namespace detail

class Context {
 public:
  Context(http::Request& request, const http::RequestContext& connection, const TypeMap& state)
      : request_(request), connection_(connection), state_(state) {}
  Context(const Context&) = delete;
  Context& operator=(const Context&) = delete;

  http::Request& request() noexcept { return request_; }
  const http::RequestContext& connection() const noexcept { return connection_; }
  std::string_view peer_address() const noexcept { return connection_.peer_address; }
  // The client: the peer, or the address trusted proxies forwarded for (trusted_proxies).
  std::string_view client_address() const noexcept { return connection_.client(); }
  bool secure() const noexcept { return connection_.secure; }
  // What TLS negotiated (SNI, ALPN, version, verified client certificate); null over plain TCP.
  const http::TlsInfo* tls() const noexcept { return connection_.tls; }

  // Route parameter `name` (":id", "{id}" or the "*name" wildcard), percent-decoded. Asking
  // for a name the route does not have is a programming error (std::out_of_range → 500).
  std::string_view param(std::string_view name) const;
  // The parameter converted to T (int, uint64_t, double, bool, Uuid, std::string, ...);
  // HttpError 400 naming the parameter when it does not convert.
  template <class T>
  T param(std::string_view name) const {
    std::optional<T> v = parse_value<T>(param(name));
    if (!v) {
      throw HttpError(
          400, "path parameter '" + std::string(name) + "' must be a " + detail::value_kind<T>());
    }
    return std::move(*v);
  }

  // The query string, parsed on first use (HttpError 400 when malformed).
  const QueryMap& query();
  // The first value of query parameter `name` converted to T; nullopt when absent, HttpError
  // 400 when present but not a T.
  template <class T = std::string>
  std::optional<T> query_as(std::string_view name) {
    std::optional<std::string_view> raw = query().get(name);
    if (!raw) return std::nullopt;
    std::optional<T> v = parse_value<T>(*raw);
    if (!v) {
      throw HttpError(
          400, "query parameter '" + std::string(name) + "' must be a " + detail::value_kind<T>());
    }
    return v;
  }

  std::string_view header(std::string_view name) const noexcept {
    return request_.head.headers.get(name);
  }
  // The value of cookie `name` from the Cookie field(s).
  std::optional<std::string_view> cookie(std::string_view name) const;

  // The App state or service registered for T (App::state / App::provide); a missing one is a
  // programming error (std::logic_error → 500).
  template <class T>
  T& state() const {
    T* v = state_.find<T>();
    if (v == nullptr)
      throw std::logic_error(std::string("no app state of type ") + typeid(T).name());
    return *v;
  }

  // Per-request extensions: middleware sets, handlers get (nullptr when unset).
  template <class T>
  T& set(T value) {
    return extensions_.emplace<T>(std::move(value));
  }
  template <class T>
  T* get() const {
    return extensions_.find<T>();
  }

  // Used by the router.
  void set_params(const std::vector<std::string>* names, std::vector<std::string> values) {
    param_names_ = names;
    param_values_ = std::move(values);
  }

 private:
  http::Request& request_;
  const http::RequestContext& connection_;
  const TypeMap& state_;
  const std::vector<std::string>* param_names_ = nullptr;
  std::vector<std::string> param_values_;
  std::optional<QueryMap> query_;
  TypeMap extensions_;
};

}  // namespace rws
