#pragma once
// An ordered list of header fields (RFC 9110 §5). Names compare case-insensitively; the order and
// spelling in which fields were added is kept for serialization. Repeated fields stay separate
// entries; `joined()` combines them with ", " as RFC 9110 §5.3 allows for list-based fields.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace rws::http {

bool iequals(std::string_view a, std::string_view b) noexcept;
std::string to_lower(std::string_view s);

struct Field {
  std::string name;
  std::string value;
};

class Headers {
 public:
  using const_iterator = std::vector<Field>::const_iterator;

  void add(std::string_view name, std::string_view value);
  // add() taking ownership of already-built strings (no copy).
  void emplace(std::string name, std::string value);
  // Replaces every field called `name` with one field holding `value`.
  void set(std::string_view name, std::string_view value);
  // Adds the field only when no field called `name` exists.
  void set_default(std::string_view name, std::string_view value);
  // Removes every field called `name`; returns how many were removed.
  std::size_t remove(std::string_view name);
  // Removes every field for which `pred(const Field&)` holds, keeping the order of the others;
  // returns how many were removed. `pred` must not look at other fields of this object (they
  // move while it runs).
  template <class Pred>
  std::size_t remove_if(Pred pred) {
    auto first = std::remove_if(fields_.begin(), fields_.end(), pred);
    auto removed = static_cast<std::size_t>(fields_.end() - first);
    fields_.erase(first, fields_.end());
    return removed;
  }

  // First field called `name`, or nullptr.
  const std::string* find(std::string_view name) const noexcept;
  // Value of the first field called `name`, or "" when absent.
  std::string_view get(std::string_view name) const noexcept;
  bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
  std::size_t count(std::string_view name) const noexcept;
  // All values of `name` joined with ", " (empty when absent).
  std::string joined(std::string_view name) const;

  std::size_t size() const noexcept { return fields_.size(); }
  bool empty() const noexcept { return fields_.empty(); }
  void clear() noexcept { fields_.clear(); }
  void reserve(std::size_t n) { fields_.reserve(n); }
  const_iterator begin() const noexcept { return fields_.begin(); }
  const_iterator end() const noexcept { return fields_.end(); }

 private:
  std::vector<Field> fields_;
};

// Whether the comma-separated list `value` contains `token` (case-insensitive, OWS ignored).
bool list_contains(std::string_view value, std::string_view token) noexcept;

}  // namespace rws::http
