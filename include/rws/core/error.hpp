#pragma once
// Errors on the data plane are values (DESIGN §1.6): an Error says what failed, which side of the
// exchange caused it, and whether repeating the operation is safe.

#include <cstdint>
#include <string>
#include <system_error>

#include <rws/core/expected.hpp>

namespace rws {

// Conditions raised by rws itself (I/O errors keep their system error_code).
enum class Errc : std::uint8_t {
  kBadMessage = 1,  // peer sent bytes that violate the protocol
  kTimeout,         // a deadline passed
  kTooLarge,        // a configured size limit was exceeded
  kClosed,          // the peer closed the connection before the message ended
  kCancelled,       // the operation was abandoned (shutdown, client gone)
  kNotFound,
  kForbidden,
  kInvalidArgument,  // a caller (not the peer) passed a bad value
};

const std::error_category& rws_category() noexcept;
inline std::error_code make_error_code(Errc e) noexcept {
  return {static_cast<int>(e), rws_category()};
}

enum class ErrorSide : std::uint8_t { kDownstream, kUpstream, kInternal };

struct Error {
  std::error_code code;
  ErrorSide side = ErrorSide::kInternal;
  bool retryable = false;
  std::string context;  // human-readable detail, safe to log (never contains secrets)

  // "context: code message", for logs.
  std::string describe() const;
};

inline Unexpected<Error> fail(Errc code, ErrorSide side, std::string context = {}) {
  return Unexpected<Error>(Error{make_error_code(code), side, false, std::move(context)});
}
inline Unexpected<Error> fail(std::error_code code, ErrorSide side, std::string context = {}) {
  return Unexpected<Error>(Error{code, side, false, std::move(context)});
}

template <class T>
using Result = Expected<T, Error>;

}  // namespace rws

template <>
struct std::is_error_code_enum<rws::Errc> : std::true_type {};
