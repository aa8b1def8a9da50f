#include "http/range.hpp"

#include <algorithm>

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws::http {
RangeOutcome parse_range(std::string_view field, std::uint64_t size, std::size_t max_ranges,
                         std::vector<ByteRange>& out) {
  out.clear();
  field = syntax::trim_ows(field);
  std::size_t eq = field.find('=');
  if (eq == std::string_view::npos || !iequals(syntax::trim_ows(field.substr(0, eq)), "bytes")) {
    return RangeOutcome::kIgnore;
  }
  if (size == 0) return RangeOutcome::kIgnore;  // nothing to select: send the empty body

  std::string_view rest = field.substr(eq + 1);
  std::size_t specs = 0;
  bool any_satisfiable = false;
  while (true) {
    std::size_t comma = rest.find(',');
    std::string_view spec = syntax::trim_ows(rest.substr(0, comma));
    if (!spec.empty()) {
      if (++specs > max_ranges) return RangeOutcome::kIgnore;
      std::size_t dash = spec.find('-');
      if (dash == std::string_view::npos) return RangeOutcome::kIgnore;
      std::string_view a = spec.substr(0, dash);
      std::string_view b = spec.substr(dash + 1);
      std::uint64_t first = 0;
      std::uint64_t last = 0;
      if (a.empty()) {
        // suffix-range: the last N bytes
        if (!syntax::parse_decimal(b, last)) return RangeOutcome::kIgnore;
        if (last > 0) {
          out.push_back({size - std::min(last, size), size - 1});
          any_satisfiable = true;
        }
      } else {
        if (!syntax::parse_decimal(a, first)) return RangeOutcome::kIgnore;
        if (b.empty()) {
          last = size - 1;
        } else if (!syntax::parse_decimal(b, last) || last < first) {
          return RangeOutcome::kIgnore;
        }
        if (first < size) {
          out.push_back({first, std::min(last, size - 1)});
          any_satisfiable = true;
        }
      }
    }
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  if (specs == 0) return RangeOutcome::kIgnore;
  if (!any_satisfiable) return RangeOutcome::kUnsatisfiable;

  // Ranges that neither overlap nor touch keep the request's order (RFC 9110 §14.6); otherwise
  // they are sorted and merged, so the answer is never larger than the representation.
  std::vector<ByteRange> sorted = out;
  std::sort(sorted.begin(), sorted.end(),
            [](const ByteRange& x, const ByteRange& y) { return x.first < y.first; });
  std::size_t kept = 0;
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (sorted[i].first <= sorted[kept].last + 1) {
      sorted[kept].last = std::max(sorted[kept].last, sorted[i].last);
    } else {
      sorted[++kept] = sorted[i];
    }
  }
  sorted.resize(kept + 1);
  if (sorted.size() != out.size()) out = std::move(sorted);
  return RangeOutcome::kSatisfiable;
}

std::string content_range(const ByteRange& r, std::uint64_t size) {
  return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.last) + "/" +
         std::to_string(size);
}

std::string unsatisfied_content_range(std::uint64_t size) {
  return "bytes */" + std::to_string(size);
}

}  // namespace rws::http
