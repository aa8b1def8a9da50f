#pragma once
// Conditional requests (RFC 9110 §13): entity-tag comparison and the precondition evaluation
// order of §13.2.2, for a representation with a strong ETag and a Last-Modified time.

#include <cstdint>
#include <string_view>

#include <rws/http/headers.hpp>

namespace rws::http {

struct Validators {
  std::string_view etag;       // strong entity-tag with quotes, e.g. "\"5f3a-1c\""
  std::int64_t last_modified;  // unix seconds
};

enum class Precondition {
  kProceed,      // evaluate the request normally
  kNotModified,  // 304 (GET/HEAD only)
  kFailed,       // 412
};

// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order of
// RFC 9110 §13.2.2 for a representation that exists.
Precondition evaluate_preconditions(const Headers& request, std::string_view method,
                                    const Validators& current);

// Whether a Range request may be honoured given If-Range (§13.1.5): true without If-Range, or
// when it names the current strong ETag or exactly the Last-Modified date.
bool if_range_holds(const Headers& request, const Validators& current);

// Whether the If-Match / If-None-Match style list `field` matches `etag`. "*" matches any.
// Weak comparison ignores "W/" prefixes; strong comparison never matches a weak tag.
bool etag_list_matches(std::string_view field, std::string_view etag, bool weak_comparison);

}  // namespace rws::http
