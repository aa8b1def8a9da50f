#include "app/router.hpp"

#include <algorithm>
#include <stdexcept>

namespace rws::app_detail {

struct Router::Node {
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> literals;  // sorted by text
  std::unique_ptr<Node> param;
  std::unique_ptr<Node> wildcard;
  std::vector<std::pair<std::string, std::size_t>> methods;  // method → route

  Node* literal(std::string_view text) const {
    auto it = std::lower_bound(literals.begin(), literals.end(), text,
                               [](const auto& e, std::string_view t) { return e.first < t; });
    return it != literals.end() && it->first == text ? it->second.get() : nullptr;
  }
  Node& add_literal(std::string_view text) {
    auto it = std::lower_bound(literals.begin(), literals.end(), text,
                               [](const auto& e, std::string_view t) { return e.first < t; });
    if (it != literals.end() && it->first == text) return *it->second;
    return *literals.emplace(it, std::string(text), std::make_unique<Node>())->second;
  }
  const std::size_t* route_for(std::string_view method) const {
    for (const auto& [m, route] : methods) {
      if (m == method) return &route;
    }
    return nullptr;
  }
};

Pattern Pattern::parse(std::string_view pattern) {
  if (pattern.empty() || pattern.front() != '/') {
    throw std::invalid_argument("route pattern '" + std::string(pattern) + "' must start with '/'");
  }
  Pattern p;
  std::string_view rest = pattern.substr(1);
  for (;;) {
    std::size_t slash = rest.find('/');
    std::string_view seg = rest.substr(0, slash);
    Segment s{Kind::kLiteral, std::string(seg)};
    if (!seg.empty() && (seg.front() == ':' || (seg.front() == '{' && seg.back() == '}'))) {
      s.kind = Kind::kParam;
      s.text = seg.front() == ':' ? std::string(seg.substr(1))
                                  : std::string(seg.substr(1, seg.size() - 2));
      if (s.text.empty()) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) +
                                    "' has a parameter without a name");
      }
    } else if (!seg.empty() && seg.front() == '*') {
      s.kind = Kind::kWildcard;
      s.text = std::string(seg.substr(1));
      if (slash != std::string_view::npos) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) +
                                    "': a wildcard must be the last segment");
      }
    }
    if (s.kind != Kind::kLiteral) {
      if (std::find(p.param_names.begin(), p.param_names.end(), s.text) != p.param_names.end()) {
        throw std::invalid_argument("route pattern '" + std::string(pattern) +
                                    "' uses the parameter name '" + s.text + "' twice");
      }
      p.param_names.push_back(s.text);
    }
    p.segments.push_back(std::move(s));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return p;
}

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  std::string_view rest = path.substr(path.empty() ? 0 : 1);
  for (;;) {
    std::size_t slash = rest.find('/');
    out.push_back(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return out;
}

Router::Router() : root_(std::make_unique<Node>()) {}
Router::~Router() = default;
Router::Router(Router&&) noexcept = default;
Router& Router::operator=(Router&&) noexcept = default;

void Router::add(const Pattern& pattern, std::string_view method, std::size_t route) {
  Node* node = root_.get();
  for (const Pattern::Segment& s : pattern.segments) {
    switch (s.kind) {
      case Pattern::Kind::kLiteral:
        node = &node->add_literal(s.text);
        break;
      case Pattern::Kind::kParam:
        if (!node->param) node->param = std::make_unique<Node>();
        node = node->param.get();
        break;
      case Pattern::Kind::kWildcard:
        if (!node->wildcard) node->wildcard = std::make_unique<Node>();
        node = node->wildcard.get();
        break;
    }
  }
  if (node->route_for(method) != nullptr) {
    std::string shown;
    for (const Pattern::Segment& s : pattern.segments) {
      shown += '/';
      shown += s.kind == Pattern::Kind::kParam      ? ":" + s.text
               : s.kind == Pattern::Kind::kWildcard ? "*" + s.text
                                                    : s.text;
    }
    throw std::invalid_argument("route " + std::string(method) + " " + shown +
                                " is registered twice");
  }
  node->methods.emplace_back(std::string(method), route);
}

// One lookup: walks candidate nodes in priority order and stops at the first node that has a
// route for the method, remembering the first node that matched the path at all (for 405).
class Router::Matcher {
 public:
  Matcher(std::span<const std::string_view> segments, std::string_view method)
      : segments_(segments), method_(method) {}

  bool visit(const Node& node, std::size_t i) {
    if (i == segments_.size()) {
      if (accept(node)) return true;
      if (node.wildcard) {
        values_.emplace_back();
        if (accept(*node.wildcard)) return true;
        values_.pop_back();
      }
      return false;
    }
    std::string_view seg = segments_[i];
    if (const Node* lit = node.literal(seg)) {
      if (visit(*lit, i + 1)) return true;
    }
    if (node.param && !seg.empty()) {
      values_.push_back(seg);
      if (visit(*node.param, i + 1)) return true;
      values_.pop_back();
    }
    if (node.wildcard) {
      // The rest of the path: the segments are views into one path string, so the rest is the
      // span from this segment to the end of the last one, slashes included.
      std::string_view first = segments_[i];
      std::string_view last = segments_.back();
      values_.emplace_back(first.data(),
                           static_cast<std::size_t>(last.data() + last.size() - first.data()));
      if (accept(*node.wildcard)) return true;
      values_.pop_back();
    }
    return false;
  }

  Match finish() {
    Match result;
    if (best_ == nullptr) return result;
    for (const auto& [m, route] : best_->methods)
      result.methods.emplace_back(m);
    if (route_ == nullptr) {
      result.outcome = Outcome::kNoMethod;
      return result;
    }
    result.outcome = Outcome::kFound;
    result.route = *route_;
    result.params.assign(best_values_.begin(), best_values_.end());
    return result;
  }

 private:
  bool accept(const Node& n) {
    if (n.methods.empty()) return false;
    const std::size_t* route = n.route_for(method_);
    if (route == nullptr && method_ == "HEAD") route = n.route_for("GET");
    if (route == nullptr && best_ != nullptr) return false;  // keep the first path match
    best_ = &n;
    best_values_ = values_;
    route_ = route;
    return route != nullptr;
  }

  std::span<const std::string_view> segments_;
  std::string_view method_;
  std::vector<std::string_view> values_;
  const Node* best_ = nullptr;
  std::vector<std::string_view> best_values_;
  const std::size_t* route_ = nullptr;
};

Router::Match Router::match(std::span<const std::string_view> segments,
                            std::string_view method) const {
  Matcher matcher(segments, method);
  matcher.visit(*root_, 0);
  return matcher.finish();
}

}  // namespace rws::app_detail
