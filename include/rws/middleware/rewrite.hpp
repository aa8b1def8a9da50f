#pragma once
// Request and response rewriting: ordered rules, applied in the order given.
//
// Request rules run before the rest of the chain:
//   HeaderSet / HeaderAdd / HeaderRemove  edit request fields (Host, Content-Length,
//       Transfer-Encoding, Connection and the other hop-by-hop fields are refused: the proxy
//       writes those itself).
//   UriSet {value}          replaces the path; a '?' in `value` replaces the query too (an
//                           empty one after '?' removes it), otherwise the query is kept.
//   UriStripPrefix {prefix} removes `prefix` when it is a whole-segment prefix of the path
//                           ("/api" turns "/api/x" into "/x" and "/api" into "/").
//   UriAddPrefix {prefix}   prepends `prefix` ("/v2" turns "/x" into "/v2/x").
//   UriRegex {pattern, replacement}
//                           replaces every match of the RE2 `pattern` in the path;
//                           `replacement` uses "$1", "${1}", "${name}" and "$$" (a literal
//                           '$'). A '?' in the result starts a new query (replacing the old).
// URI rules see the path the router matched: percent-decoded, dot segments resolved, then
// re-encoded (so "%2F" reads as "/", and "/a/./b" as "/a/b"). Their result must be an
// origin-form target: a result that does not start with '/' is answered 500 (the rule is
// wrong), one that does not normalize (escapes the root, bad %-escape) 400. The rewritten path
// and query are what the rest of the chain sees: head.path, head.query and head.target are all
// updated, so a proxy sends the rewritten target upstream. The route was already chosen; a
// rewrite does not re-route (in an App, a rewrite used with App::use runs before routing, so
// there it does).
//
// Response rules run on the response the rest of the chain returned:
//   HeaderSet / HeaderAdd / HeaderRemove  edit response fields (Content-Length,
//                           Transfer-Encoding, Connection and Date are refused).
//   StatusSet {code, reason}   replaces the status (200..599; an empty reason means the
//                           standard phrase). A 101 switching protocols keeps its status.
//   BodyReplace {from, to}  replaces every occurrence of `from` (non-empty) in the body by
//                           `to`, streaming: at most from.size() - 1 bytes are held back
//                           between pieces, never the whole body. The length changes, so
//                           Content-Length is dropped (an in-memory body gets its new length)
//                           and a strong ETag becomes weak; Accept-Ranges is dropped. Bodies
//                           with a Content-Encoding other than identity (compressed), partial
//                           content (206) and responses without content are left unchanged.
//
// Invalid rules make rewrite() throw std::invalid_argument naming the rule.

#include <memory>
#include <string>
#include <variant>
#include <vector>

#include <rws/app/handler.hpp>
#include <rws/http/body.hpp>

namespace rws::middleware::rewrite_rule {

struct HeaderSet {
  std::string name;
  std::string value;
};
struct HeaderAdd {
  std::string name;
  std::string value;
};
struct HeaderRemove {
  std::string name;
};
struct UriSet {
  std::string value;
};
struct UriStripPrefix {
  std::string prefix;
};
struct UriAddPrefix {
  std::string prefix;
};
struct UriRegex {
  std::string pattern;
  std::string replacement;
};
struct StatusSet {
  int code = 200;
  std::string reason;
};
struct BodyReplace {
  std::string from;
  std::string to;
};

}  // namespace rws::middleware::rewrite_rule

namespace rws::middleware {

using RequestRewriteRule =
    std::variant<rewrite_rule::HeaderSet, rewrite_rule::HeaderAdd, rewrite_rule::HeaderRemove,
                 rewrite_rule::UriSet, rewrite_rule::UriStripPrefix, rewrite_rule::UriAddPrefix,
                 rewrite_rule::UriRegex>;
using ResponseRewriteRule =
    std::variant<rewrite_rule::HeaderSet, rewrite_rule::HeaderAdd, rewrite_rule::HeaderRemove,
                 rewrite_rule::StatusSet, rewrite_rule::BodyReplace>;

struct RewriteOptions {
  std::vector<RequestRewriteRule> request;
  std::vector<ResponseRewriteRule> response;
};

Middleware rewrite(RewriteOptions options);

// The streaming replacement behind BodyReplace: a source that yields `source`'s bytes with every
// occurrence of `from` (non-empty) replaced by `to`, including occurrences split across the
// pieces `source` yields. Between pieces it holds back only the longest tail that could still
// start an occurrence (less than from.size() bytes); trailers pass through after the data.
std::unique_ptr<http::BodySource> replace_in_body(std::unique_ptr<http::BodySource> source,
                                                  std::string from, std::string to);

}  // namespace rws::middleware
