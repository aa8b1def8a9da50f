#pragma once
// Route table of one host: a tree keyed by path segment. Literal segments win over ":param" /
// "{param}", which win over a trailing "*wildcard"; a lookup walks one branch per level (with
// backtracking when a deeper level fails), so its cost grows with the path's depth, not with the
// number of routes. Built before serving; lookups are read-only and thread-safe.

#include <cstddef>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace rws::app_detail {

// A pattern split into segments ("/users/:id" → ["users", ":id"]).
struct Pattern {
  enum class Kind { kLiteral, kParam, kWildcard };
  struct Segment {
    Kind kind;
    std::string text;  // literal text, or the parameter's name
  };
  std::vector<Segment> segments;
  std::vector<std::string> param_names;  // in order, wildcard last

  // Throws std::invalid_argument naming the problem (no leading '/', empty parameter name,
  // wildcard not last, ...).
  static Pattern parse(std::string_view pattern);
};

// Splits a normalized path ("/a/b/") into segments (["a", "b", ""]); "/" is [""].
std::vector<std::string_view> split_path(std::string_view path);

class Router {
 public:
  Router();
  ~Router();
  Router(Router&&) noexcept;
  Router& operator=(Router&&) noexcept;

  // Registers route `route` for `method` at `pattern`. Throws std::invalid_argument when the
  // same method and pattern are registered twice.
  void add(const Pattern& pattern, std::string_view method, std::size_t route);

  enum class Outcome { kFound, kNoMethod, kNotFound };
  struct Match {
    Outcome outcome = Outcome::kNotFound;
    std::size_t route = 0;                  // kFound
    std::vector<std::string> params;        // kFound: values in the route's parameter order
    std::vector<std::string_view> methods;  // kNoMethod, and kFound: methods of the path
  };
  // HEAD falls back to GET. kNoMethod when some route matches the path but none has the method.
  Match match(std::span<const std::string_view> segments, std::string_view method) const;

 private:
  struct Node;
  class Matcher;
  std::unique_ptr<Node> root_;
};

}  // namespace rws::app_detail
