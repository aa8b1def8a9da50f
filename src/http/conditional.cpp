#include "http/conditional.hpp"

#include "http/date.hpp"
#include "http/syntax.hpp"

namespace rws::http {
namespace {

bool is_weak(std::string_view tag) {
  return tag.size() >= 2 && tag.substr(0, 2) == "W/";
}
std::string_view opaque(std::string_view tag) {
  return is_weak(tag) ? tag.substr(2) : tag;
}

// Splits the next entity-tag off `list`: [ "W/" ] DQUOTE *etagc DQUOTE. Commas inside the quotes
// are allowed by the grammar, so the list is not simply split on ",".
bool next_etag(std::string_view& list, std::string_view& tag) {
  while (!list.empty() && (syntax::is_ows(list.front()) || list.front() == ',')) {
    list.remove_prefix(1);
  }
  if (list.empty()) return false;
  std::size_t start = list.substr(0, 2) == "W/" ? 2 : 0;
  if (list.size() <= start || list[start] != '"') return false;
  std::size_t close = list.find('"', start + 1);
  if (close == std::string_view::npos) return false;
  tag = list.substr(0, close + 1);
  list.remove_prefix(close + 1);
  return true;
}

}  // namespace

bool etag_list_matches(std::string_view field, std::string_view etag, bool weak_comparison) {
  field = syntax::trim_ows(field);
  if (field == "*") return true;
  std::string_view tag;
  while (next_etag(field, tag)) {
    if (weak_comparison) {
      if (opaque(tag) == opaque(etag)) return true;
    } else if (!is_weak(tag) && !is_weak(etag) && tag == etag) {
      return true;
    }
  }
  return false;
}

Precondition evaluate_preconditions(const Headers& request, std::string_view method,
                                    const Validators& current) {
  bool get_or_head = method == "GET" || method == "HEAD";
  // Step 1–2: If-Match, else If-Unmodified-Since.
  if (request.contains("if-match")) {
    if (!etag_list_matches(request.joined("if-match"), current.etag, false)) {
      return Precondition::kFailed;
    }
  } else if (const std::string* ius = request.find("if-unmodified-since")) {
    if (auto date = parse_http_date(*ius); date && current.last_modified > *date) {
      return Precondition::kFailed;
    }
  }
  // Step 3–4: If-None-Match, else If-Modified-Since (GET/HEAD only).
  if (request.contains("if-none-match")) {
    if (etag_list_matches(request.joined("if-none-match"), current.etag, true)) {
      return get_or_head ? Precondition::kNotModified : Precondition::kFailed;
    }
  } else if (get_or_head) {
    if (const std::string* ims = request.find("if-modified-since")) {
      if (auto date = parse_http_date(*ims); date && current.last_modified <= *date) {
        return Precondition::kNotModified;
      }
    }
  }
  return Precondition::kProceed;
}

bool if_range_holds(const Headers& request, const Validators& current) {
  const std::string* field = request.find("if-range");
  if (field == nullptr) return true;
  std::string_view value = syntax::trim_ows(*field);
  if (!value.empty() && (value.front() == '"' || value.substr(0, 2) == "W/")) {
    return !is_weak(value) && value == current.etag;
  }
  auto date = parse_http_date(value);
  return date && *date == current.last_modified;
}

}  // namespace rws::http
