#pragma once
// Range requests (RFC 9110 §14): parsing a "bytes" Range field against a representation of known
// length, and the Content-Range values of the answer.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace rws::http {

struct ByteRange {
  std::uint64_t first = 0;  // inclusive
  std::uint64_t last = 0;   // inclusive, < representation length
  std::uint64_t length() const { return last - first + 1; }
};

enum class RangeOutcome {
  kIgnore,         // no usable Range field: send the whole representation (200)
  kSatisfiable,    // send the ranges (206)
  kUnsatisfiable,  // 416 with "Content-Range: bytes */LEN"
};

// Parses `field` (the Range value) for a representation of `size` bytes. Ranges are clamped to
// the end and unsatisfiable ones dropped. When some overlap or touch, all are sorted and merged
// (so the answer is never larger than the representation); otherwise they keep request order. A field with more than
// `max_ranges` ranges, an unknown unit or bad syntax is ignored (200), as RFC 9110 §14.2 allows.
RangeOutcome parse_range(std::string_view field, std::uint64_t size, std::size_t max_ranges,
                         std::vector<ByteRange>& out);

// "bytes FIRST-LAST/SIZE"
std::string content_range(const ByteRange& r, std::uint64_t size);
// "bytes */SIZE"
std::string unsatisfied_content_range(std::uint64_t size);

}  // namespace rws::http
