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

  // The copy, move and destruction of the field list are defined out of line (headers.cpp): they
  // run on every request and response, and one shared copy of their code keeps the request
  // path small enough for the instruction cache.
  Headers() = default;
  Headers(const Headers& other);
  Headers(Headers&& other) noexcept;
  Headers& operator=(const Headers& other);
  Headers& operator=(Headers&& other) noexcept;
  ~Headers();

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
    return remove_where([](const Field& f, void* p) { return (*static_cast<Pred*>(p))(f); }, &pred);
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
  // remove_if() with the predicate behind a function pointer: the compaction (which moves
  // fields) is compiled once, in headers.cpp, not at every caller.
  std::size_t remove_where(bool (*test)(const Field&, void*), void* context);

  std::vector<Field> fields_;
};

// Whether the comma-separated list `value` contains `token` (case-insensitive, OWS ignored).
bool list_contains(std::string_view value, std::string_view token) noexcept;

}  // namespace rws::http
