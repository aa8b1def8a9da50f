#pragma once
// [[route.middleware.rewrite.request]] and [[route.middleware.rewrite.response]] as plain,
// validated structs (CONFIG.md is the contract; docs/configuration.md shows the syntax).

#include <string>
#include <vector>

namespace rws::config {

struct RewriteRule {
  enum class Type {
    kHeaderSet,       // name, value
    kHeaderAdd,       // name, value
    kHeaderRemove,    // name
    kUriSet,          // value (request only)
    kUriStripPrefix,  // prefix (request only)
    kUriAddPrefix,    // prefix (request only)
    kUriRegex,        // pattern, replacement (request only; compiled and checked at load)
    kStatusSet,       // code, reason (response only)
    kBodyReplace,     // from, to (response only)
  };
  Type type = Type::kHeaderSet;
  std::string name;
  std::string value;
  std::string prefix;
  std::string pattern;
  std::string replacement;
  int code = 0;
  std::string reason;
  std::string from;
  std::string to;
};

struct RewriteConfig {
  std::vector<RewriteRule> request;   // in the order written
  std::vector<RewriteRule> response;  // in the order written
};

}  // namespace rws::config
