#pragma once
// RESP2, the Redis wire protocol: the command serialiser and a sans-I/O reply parser (no Asio,
// fuzzable).
//
// The parser is handed everything received and not yet consumed; it either finds one whole
// reply at the front (and says how many bytes it took), or says more bytes are needed, or
// rejects the input. It keeps no state between calls, so a reply split anywhere parses the same
// once its last byte arrives. Replies are bounded (kMaxBulk, kMaxElements, kMaxDepth, and a
// simple line of at most kMaxLine bytes) so a broken or hostile peer cannot make it allocate
// without limit.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace rws::redis {

inline constexpr std::size_t kMaxBulk = 1 << 20;
inline constexpr std::size_t kMaxElements = 1024;
inline constexpr std::size_t kMaxDepth = 8;
inline constexpr std::size_t kMaxLine = 64 * 1024;

struct Reply {
  enum class Type { kSimple, kError, kInteger, kBulk, kNil, kArray };
  Type type = Type::kNil;
  std::string text;  // kSimple, kError (the message after '-'), kBulk
  std::int64_t integer = 0;
  std::vector<Reply> elements;  // kArray (a nil array is kNil)

  bool operator==(const Reply&) const = default;
};

enum class ParseStatus { kComplete, kIncomplete, kError };

// Parses the reply at the front of `input`. kComplete: `out` holds it and `used` its size in
// bytes. kIncomplete: `input` is a proper prefix of a valid reply. kError: it can never become
// one (`out` and `used` are then unspecified).
ParseStatus parse_reply(std::string_view input, Reply& out, std::size_t& used);

// Appends the command `args` (name first) as a RESP array of bulk strings.
void append_command(std::string& out, std::span<const std::string_view> args);

}  // namespace rws::redis
