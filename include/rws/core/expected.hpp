#pragma once
// Expected<T, E>: a value or an error, shaped like C++23 std::expected (which clang 14 cannot use
// with libstdc++ 12, and C++20 lacks). Only the parts rws uses are provided.

#include <type_traits>
#include <utility>
#include <variant>

namespace rws {

template <class E>
class Unexpected {
 public:
  explicit Unexpected(E error) : error_(std::move(error)) {}
  E& error() & { return error_; }
  E&& error() && { return std::move(error_); }
  const E& error() const& { return error_; }

 private:
  E error_;
};

template <class E>
Unexpected(E) -> Unexpected<E>;

template <class T, class E>
class Expected {
 public:
  template <class U = T, class = std::enable_if_t<std::is_constructible_v<T, U&&>>>
  Expected(U&& value) : state_(std::in_place_index<0>, std::forward<U>(value)) {}  // NOLINT
  template <class G>
  Expected(Unexpected<G> error)  // NOLINT(google-explicit-constructor)
      : state_(std::in_place_index<1>, std::move(error).error()) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return std::get<0>(state_); }
  const T& value() const& { return std::get<0>(state_); }
  T&& value() && { return std::get<0>(std::move(state_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  E& error() & { return std::get<1>(state_); }
  const E& error() const& { return std::get<1>(state_); }
  E&& error() && { return std::get<1>(std::move(state_)); }

 private:
  std::variant<T, E> state_;
};

// Expected<void, E>: success carries no value.
template <class E>
class Expected<void, E> {
 public:
  Expected() = default;
  template <class G>
  Expected(Unexpected<G> error)  // NOLINT(google-explicit-constructor)
      : error_(std::move(error).error()), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  E& error() & { return error_; }
  const E& error() const& { return error_; }

 private:
  E error_{};
  bool failed_ = false;
};

}  // namespace rws
