#include "config/rewrite_loader.hpp"

#include <optional>
#include <string_view>

#include "config/suggest.hpp"
#include "http/rewrite_rules.hpp"
#include "http/syntax.hpp"

namespace rws::config {
namespace {

using Type = RewriteRule::Type;

struct TypeName {
  std::string_view name;
  Type type;
  bool request;
  bool response;
};

constexpr TypeName kTypes[] = {
    {"header_set", Type::kHeaderSet, true, true},
    {"header_add", Type::kHeaderAdd, true, true},
    {"header_remove", Type::kHeaderRemove, true, true},
    {"uri_set", Type::kUriSet, true, false},
    {"uri_strip_prefix", Type::kUriStripPrefix, true, false},
    {"uri_add_prefix", Type::kUriAddPrefix, true, false},
    {"uri_regex", Type::kUriRegex, true, false},
    {"status_set", Type::kStatusSet, false, true},
    {"body_replace", Type::kBodyReplace, false, true},
};

// Historical names (CONFIG.md, "Historical aliases"): accepted with a warning.
struct Alias {
  std::string_view old_name;
  std::string_view name;
};
constexpr Alias kAliases[] = {
    {"set_header", "header_set"},
    {"remove_header", "header_remove"},
    {"set_uri", "uri_set"},
    {"strip_prefix", "uri_strip_prefix"},
    {"strip_path_prefix", "uri_strip_prefix"},
    {"add_prefix", "uri_add_prefix"},
    {"add_path_prefix", "uri_add_prefix"},
    {"status", "status_set"},
    {"set_status", "status_set"},
    {"replace_body", "body_replace"},
};

class RuleReader {
 public:
  RuleReader(bool request, Diagnostics& d) : request_(request), d_(d) {}

  std::optional<RewriteRule> read(const toml::table& rule, const std::string& what) {
    std::optional<std::string> type_name;
    toml::source_region type_at;  // where the type is named
    const toml::table* fields = &rule;
    if (const toml::node* t = rule.get("type")) {
      type_at = t->source();
      auto v = t->value_exact<std::string>();
      if (!v) {
        d_.error(t->source(), what + ": type must be a string");
        return std::nullopt;
      }
      type_name = *v;
      if (const toml::table* nested = rule.get_as<toml::table>(*v)) fields = nested;
    } else {
      // The keyed form: the rule's only key is its type, its value the fields.
      if (rule.empty()) {
        d_.error(rule.source(), what +
                                    ": empty rule; write { <type> = { ... } }, e.g. "
                                    "{ header_set = { name = \"X-A\", value = \"1\" } }");
        return std::nullopt;
      }
      if (rule.size() > 1) {
        if (rule.contains("name") || rule.contains("value") || rule.contains("prefix") ||
            rule.contains("pattern") || rule.contains("code") || rule.contains("from")) {
          d_.error(rule.source(), what + ": type is required (type = \"header_set\", …)");
        } else {
          d_.error(rule.source(), what + ": a rule has one type, but " +
                                      std::to_string(rule.size()) +
                                      " are given; write one rule per array element");
        }
        return std::nullopt;
      }
      const auto first = rule.begin();  // its element lives in the iterator
      auto&& [key, value] = *first;
      type_at = key.source();
      type_name = std::string(key.str());
      fields = value.as_table();
      if (fields == nullptr) {
        d_.error(key.source(), what + ": '" + *type_name +
                                   "' must be a table of the rule's fields, or write "
                                   "type = \"<type>\" with the fields beside it");
        return std::nullopt;
      }
    }
    std::optional<TypeName> type = resolve(*type_name, type_at, what);
    if (!type) return std::nullopt;

    const std::string rule_what = what + " (" + std::string(type->name) + ")";
    TableReader keys(*fields, rule_what, d_);
    keys.node("type");
    keys.node(*type_name);
    RewriteRule out;
    out.type = type->type;
    switch (type->type) {
      case Type::kHeaderSet:
      case Type::kHeaderAdd:
        read_name(keys, out);
        if (auto v = required_string(keys, "value")) {
          if (!http::syntax::is_field_value(*v)) {
            keys.error("value", "value must not contain control characters");
          }
          out.value = *v;
        }
        break;
      case Type::kHeaderRemove:
        read_name(keys, out);
        break;
      case Type::kUriSet:
        if (auto v = required_string(keys, "value")) {
          if (std::string e = http::origin_form_problem(*v); !e.empty()) {
            keys.error("value", "value '" + *v + "' is not an origin-form target: " + e);
          }
          out.value = *v;
        }
        break;
      case Type::kUriStripPrefix:
      case Type::kUriAddPrefix:
        if (auto v = required_string(keys, "prefix")) {
          if (std::string e = http::path_prefix_problem(*v); !e.empty()) {
            keys.error("prefix", "prefix '" + *v + "': " + e);
          }
          out.prefix = *v;
        }
        break;
      case Type::kUriRegex:
        read_regex(keys, out);
        break;
      case Type::kStatusSet:
        if (auto code = keys.integer("code", 100, 599)) {
          if (*code < 200) {
            keys.error("code", "code " + std::to_string(*code) +
                                   " is an interim (1xx) status; a response can only be given "
                                   "a final one (200..599)");
          }
          out.code = static_cast<int>(*code);
        } else if (!fields->contains("code")) {
          keys.error_here("code is required");
        }
        if (auto reason = keys.string("reason")) {
          if (!http::syntax::is_field_value(*reason)) {
            keys.error("reason", "reason must not contain control characters");
          }
          out.reason = *reason;
        }
        break;
      case Type::kBodyReplace:
        if (auto from = required_string(keys, "from")) {
          if (from->empty()) keys.error("from", "from must not be empty");
          out.from = *from;
        }
        if (auto to = required_string(keys, "to")) out.to = *to;
        break;
    }
    keys.finish();
    if (fields != &rule) {
      // `type` with a [<type>] sub-table: nothing else belongs beside them.
      for (auto&& [key, value] : rule) {
        if (key.str() == "type" || key.str() == *type_name) continue;
        d_.error(key.source(), rule_what + ": '" + std::string(key.str()) + "' belongs in the '" +
                                   *type_name + "' table with the rule's other fields");
      }
    }
    return out;
  }

 private:
  std::optional<TypeName> resolve(const std::string& name, const toml::source_region& where,
                                  const std::string& what) {
    std::string_view canonical = name;
    for (const Alias& a : kAliases) {
      if (a.old_name != name) continue;
      canonical = a.name;
      // A response type named on the request side is refused below; no warning first.
      if (a.name == "status_set" && request_) break;
      d_.warn(where, what + ": '" + name + "' is deprecated; use '" + std::string(a.name) + "'");
      break;
    }
    std::vector<std::string_view> candidates;
    for (const TypeName& t : kTypes) {
      const bool here = request_ ? t.request : t.response;
      if (here) candidates.push_back(t.name);
      if (t.name != canonical) continue;
      if (here) return t;
      d_.error(where, what + ": '" + name + "' is a " + (request_ ? "response" : "request") +
                          " rule; it belongs in rewrite." + (request_ ? "response" : "request"));
      return std::nullopt;
    }
    d_.error(where, what + ": unknown " + (request_ ? "request" : "response") + " rule type '" +
                        name + "'" + did_you_mean(name, candidates));
    return std::nullopt;
  }

  static std::optional<std::string> required_string(TableReader& keys, std::string_view key) {
    std::optional<std::string> v = keys.string(key);
    if (!v && !keys.raw().contains(key)) keys.error_here(std::string(key) + " is required");
    return v;
  }

  void read_name(TableReader& keys, RewriteRule& out) const {
    std::optional<std::string> name = required_string(keys, "name");
    if (!name) return;
    std::string e =
        request_ ? http::request_field_problem(*name) : http::response_field_problem(*name);
    if (!e.empty()) keys.error("name", "name: " + e);
    out.name = *name;
  }

  static void read_regex(TableReader& keys, RewriteRule& out) {
    std::optional<std::string> pattern = required_string(keys, "pattern");
    std::optional<std::string> replacement = required_string(keys, "replacement");
    if (!pattern) return;
    out.pattern = *pattern;
    if (auto re = http::RegexRewrite::compile(*pattern, ""); !re) {
      keys.error("pattern", "pattern '" + *pattern + "': " + re.error());
      return;
    }
    if (!replacement) return;
    out.replacement = *replacement;
    auto re = http::RegexRewrite::compile(*pattern, *replacement);
    if (!re) {
      keys.error("replacement", re.error());
      return;
    }
    for (char c : re->literal_text()) {
      if (!http::syntax::kTargetChar[static_cast<unsigned char>(c)]) {
        keys.error("replacement", "replacement: '" + std::string(1, c) +
                                      "' is not allowed in a request target (percent-encode it)");
        return;
      }
    }
  }

  bool request_;
  Diagnostics& d_;
};

std::vector<RewriteRule> read_rules(const toml::node& node, bool request, const std::string& what,
                                    Diagnostics& d) {
  std::vector<RewriteRule> rules;
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    d.error(node.source(), what + " must be an array of rules ([[….rewrite." +
                               (request ? "request" : "response") + "]] tables)");
    return rules;
  }
  RuleReader reader(request, d);
  for (std::size_t i = 0; i < array->size(); ++i) {
    const toml::node& item = (*array)[i];
    const std::string rule_what = what + "[" + std::to_string(i + 1) + "]";
    if (const toml::table* t = item.as_table()) {
      if (std::optional<RewriteRule> rule = reader.read(*t, rule_what)) {
        rules.push_back(std::move(*rule));
      }
    } else {
      d.error(item.source(), rule_what + ": a rule is a table");
    }
  }
  return rules;
}

}  // namespace

RewriteConfig read_rewrite(const toml::node& node, const std::string& what, Diagnostics& d) {
  RewriteConfig out;
  const toml::table* t = node.as_table();
  if (t == nullptr) {
    d.error(node.source(), what + ": rewrite must be a table (rewrite.request, rewrite.response)");
    return out;
  }
  TableReader r(*t, what + " rewrite", d);
  if (const toml::node* n = r.node("request")) {
    out.request = read_rules(*n, true, what + " rewrite.request", d);
  }
  if (const toml::node* n = r.node("response")) {
    out.response = read_rules(*n, false, what + " rewrite.response", d);
  }
  r.finish();
  return out;
}

}  // namespace rws::config
