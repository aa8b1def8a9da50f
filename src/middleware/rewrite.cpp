#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>

#include <rws/http/status.hpp>
#include <rws/middleware/rewrite.hpp>

#include "core/log.hpp"
#include "http/rewrite_rules.hpp"
#include "http/syntax.hpp"

namespace rws::middleware {
namespace {

using namespace rewrite_rule;

// URI rules after compilation: prefixes and uri_set paths in canonical form, regexes compiled.
struct CompiledUriSet {
  std::string path;
  std::optional<std::string> query;  // set when the value had a '?'
};
struct CompiledStrip {
  std::string prefix;
};
struct CompiledAdd {
  std::string prefix;
};
using CompiledRequestRule = std::variant<HeaderSet, HeaderAdd, HeaderRemove, CompiledUriSet,
                                         CompiledStrip, CompiledAdd, http::RegexRewrite>;

struct Rules {
  std::vector<CompiledRequestRule> request;
  bool has_uri_rules = false;
  std::vector<ResponseRewriteRule> response;
};

[[noreturn]] void refuse(std::string_view side, std::size_t index, std::string_view type,
                         const std::string& problem) {
  throw std::invalid_argument("rewrite: " + std::string(side) + " rule " +
                              std::to_string(index + 1) + " (" + std::string(type) +
                              "): " + problem);
}

std::string canonical_prefix(std::string_view prefix) {
  std::string out;
  http::canonical_path(prefix, out);  // checked by path_prefix_problem before
  return out;
}

CompiledRequestRule compile_request(const RequestRewriteRule& rule, std::size_t i) {
  return std::visit(
      [&](const auto& r) -> CompiledRequestRule {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HeaderSet> || std::is_same_v<T, HeaderAdd>) {
          const std::string_view type = std::is_same_v<T, HeaderSet> ? "header_set" : "header_add";
          if (std::string e = http::request_field_problem(r.name); !e.empty()) {
            refuse("request", i, type, e);
          }
          if (!http::syntax::is_field_value(r.value)) {
            refuse("request", i, type, "the value holds control characters");
          }
          return r;
        } else if constexpr (std::is_same_v<T, HeaderRemove>) {
          if (std::string e = http::request_field_problem(r.name); !e.empty()) {
            refuse("request", i, "header_remove", e);
          }
          return r;
        } else if constexpr (std::is_same_v<T, UriSet>) {
          if (std::string e = http::origin_form_problem(r.value); !e.empty()) {
            refuse("request", i, "uri_set", "'" + r.value + "': " + e);
          }
          const std::size_t q = r.value.find('?');
          CompiledUriSet out;
          http::canonical_path(std::string_view(r.value).substr(0, q), out.path);
          if (q != std::string::npos) out.query = r.value.substr(q + 1);
          return out;
        } else if constexpr (std::is_same_v<T, UriStripPrefix> || std::is_same_v<T, UriAddPrefix>) {
          if (std::string e = http::path_prefix_problem(r.prefix); !e.empty()) {
            refuse("request", i,
                   std::is_same_v<T, UriStripPrefix> ? "uri_strip_prefix" : "uri_add_prefix",
                   "'" + r.prefix + "': " + e);
          }
          if constexpr (std::is_same_v<T, UriStripPrefix>) {
            return CompiledStrip{canonical_prefix(r.prefix)};
          } else {
            return CompiledAdd{canonical_prefix(r.prefix)};
          }
        } else {
          static_assert(std::is_same_v<T, UriRegex>);
          Expected<http::RegexRewrite, std::string> re =
              http::RegexRewrite::compile(r.pattern, r.replacement);
          if (!re) refuse("request", i, "uri_regex", re.error());
          for (char c : re->literal_text()) {
            if (!http::syntax::kTargetChar[static_cast<unsigned char>(c)]) {
              refuse("request", i, "uri_regex",
                     "replacement: '" + std::string(1, c) + "' must be percent-encoded");
            }
          }
          return std::move(*re);
        }
      },
      rule);
}

void check_response(const ResponseRewriteRule& rule, std::size_t i) {
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HeaderSet> || std::is_same_v<T, HeaderAdd>) {
          const std::string_view type = std::is_same_v<T, HeaderSet> ? "header_set" : "header_add";
          if (std::string e = http::response_field_problem(r.name); !e.empty()) {
            refuse("response", i, type, e);
          }
          if (!http::syntax::is_field_value(r.value)) {
            refuse("response", i, type, "the value holds control characters");
          }
        } else if constexpr (std::is_same_v<T, HeaderRemove>) {
          if (std::string e = http::response_field_problem(r.name); !e.empty()) {
            refuse("response", i, "header_remove", e);
          }
        } else if constexpr (std::is_same_v<T, StatusSet>) {
          if (r.code < 200 || r.code > 599) {
            refuse("response", i, "status_set", "code must be between 200 and 599");
          }
          if (!http::syntax::is_field_value(r.reason)) {
            refuse("response", i, "status_set", "the reason holds control characters");
          }
        } else {
          static_assert(std::is_same_v<T, BodyReplace>);
          if (r.from.empty()) refuse("response", i, "body_replace", "'from' is empty");
        }
      },
      rule);
}

// Whether `prefix` is a whole-segment prefix of `path` ("/api" of "/api" and "/api/x").
bool has_segment_prefix(std::string_view path, std::string_view prefix) {
  return path.substr(0, prefix.size()) == prefix &&
         (path.size() == prefix.size() || path[prefix.size()] == '/');
}

bool valid_escapes(std::string_view s) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') continue;
    if (i + 2 >= s.size() || !http::syntax::is_hexdig(s[i + 1]) ||
        !http::syntax::is_hexdig(s[i + 2])) {
      return false;
    }
  }
  return true;
}

http::Response bad_rewrite(int status, std::string_view why) {
  return http::Response::text(
      status, std::string(status == 400 ? "Bad Request" : "Internal Server Error") + ": " +
                  std::string(why) + "\n");
}

// The path and query the URI rules work on; committed to the head after the last rule.
struct Target {
  std::string path;  // canonical
  std::string query;
};

// One URI rule applied to `t`; a response when the request cannot go on.
std::optional<http::Response> apply_uri_rule(const CompiledRequestRule& rule, Target& t) {
  if (const auto* set = std::get_if<CompiledUriSet>(&rule)) {
    t.path = set->path;
    if (set->query) t.query = *set->query;
  } else if (const auto* strip = std::get_if<CompiledStrip>(&rule)) {
    if (has_segment_prefix(t.path, strip->prefix)) {
      t.path.erase(0, strip->prefix.size());
      if (t.path.empty()) t.path = "/";
    }
  } else if (const auto* add = std::get_if<CompiledAdd>(&rule)) {
    t.path.insert(0, add->prefix);
  } else if (const auto* re = std::get_if<http::RegexRewrite>(&rule)) {
    bool matched = false;
    std::string result = re->apply(t.path, matched);
    if (!matched) return std::nullopt;
    const std::size_t q = result.find('?');
    if (q != std::string::npos) {
      t.query = result.substr(q + 1);
      result.resize(q);
      if (!valid_escapes(t.query)) {
        return bad_rewrite(400, "the query rewritten by this route is not valid");
      }
    }
    if (result.empty() || result.front() != '/') {
      log::http().warn("rewrite: uri_regex turned '{}' into '{}', which is not a path", t.path,
                       result);
      return bad_rewrite(500, "this route's uri_regex rule produced a target that is not a path");
    }
    if (!http::canonical_path(result, t.path)) {
      return bad_rewrite(400, "the path rewritten by this route is not valid");
    }
  }
  return std::nullopt;
}

// Applies the request rules to `head`; a response when the request cannot go on.
std::optional<http::Response> apply_request(const Rules& rules, http::RequestHead& head) {
  Target t;
  if (rules.has_uri_rules) {
    if (!http::canonical_path(head.path, t.path)) return bad_rewrite(400, "invalid request path");
    t.query = head.query;
  }
  for (const CompiledRequestRule& rule : rules.request) {
    if (const auto* set = std::get_if<HeaderSet>(&rule)) {
      head.headers.set(set->name, set->value);
    } else if (const auto* add = std::get_if<HeaderAdd>(&rule)) {
      head.headers.add(add->name, add->value);
    } else if (const auto* remove = std::get_if<HeaderRemove>(&rule)) {
      head.headers.remove(remove->name);
    } else if (std::optional<http::Response> refused = apply_uri_rule(rule, t)) {
      return refused;
    }
  }
  if (rules.has_uri_rules) {
    head.target = t.query.empty() ? t.path : t.path + "?" + t.query;
    head.path = std::move(t.path);
    head.query = std::move(t.query);
  }
  return std::nullopt;
}

std::string replace_all(std::string_view text, std::string_view from, std::string_view to) {
  std::string out;
  out.reserve(text.size());
  std::size_t pos = 0;
  for (std::size_t hit = text.find(from); hit != std::string_view::npos;
       hit = text.find(from, pos)) {
    out.append(text.substr(pos, hit - pos));
    out.append(to);
    pos = hit + from.size();
  }
  out.append(text.substr(pos));
  return out;
}

// A body that is encoded (compressed) or partial is not the text the rule was written for.
bool body_replaceable(const http::Response& response) {
  const int status = response.head.status;
  if (http::status_forbids_body(status) || status == 206 || response.body.is_empty()) {
    return false;
  }
  for (const http::Field& f : response.head.headers) {
    if (http::iequals(f.name, "content-encoding") &&
        !http::iequals(http::syntax::trim_ows(f.value), "identity")) {
      return false;
    }
  }
  return true;
}

void replace_body(http::Response& response, const BodyReplace& rule) {
  if (!body_replaceable(response)) return;
  http::Headers& headers = response.head.headers;
  if (response.body.is_bytes()) {
    response.body = http::Body::from_string(replace_all(response.body.bytes(), rule.from, rule.to));
  } else {
    response.body = http::Body::from_stream(
        replace_in_body(std::move(response.body).into_source(), rule.from, rule.to));
  }
  headers.remove("content-length");
  headers.remove("accept-ranges");
  if (std::string etag(headers.get("etag")); !etag.empty() && etag.rfind("W/", 0) != 0) {
    headers.set("ETag", "W/" + etag);
  }
}

void apply_response(const Rules& rules, http::Response& response) {
  for (const ResponseRewriteRule& rule : rules.response) {
    if (const auto* set = std::get_if<HeaderSet>(&rule)) {
      response.head.headers.set(set->name, set->value);
    } else if (const auto* add = std::get_if<HeaderAdd>(&rule)) {
      response.head.headers.add(add->name, add->value);
    } else if (const auto* remove = std::get_if<HeaderRemove>(&rule)) {
      response.head.headers.remove(remove->name);
    } else if (const auto* status = std::get_if<StatusSet>(&rule)) {
      if (response.head.status == 101) continue;  // the connection is switching protocols
      response.head.status = status->code;
      response.head.reason = status->reason;
    } else if (const auto* body = std::get_if<BodyReplace>(&rule)) {
      replace_body(response, *body);
    }
  }
}

}  // namespace

Middleware rewrite(RewriteOptions options) {
  auto rules = std::make_shared<Rules>();
  for (std::size_t i = 0; i < options.request.size(); ++i) {
    rules->request.push_back(compile_request(options.request[i], i));
    const RequestRewriteRule& r = options.request[i];
    rules->has_uri_rules = rules->has_uri_rules || !(std::holds_alternative<HeaderSet>(r) ||
                                                     std::holds_alternative<HeaderAdd>(r) ||
                                                     std::holds_alternative<HeaderRemove>(r));
  }
  for (std::size_t i = 0; i < options.response.size(); ++i)
    check_response(options.response[i], i);
  rules->response = std::move(options.response);
  std::shared_ptr<const Rules> shared = std::move(rules);
  return [shared](http::Request& request, Context& context,
                  Next next) -> asio::awaitable<http::Response> {
    if (std::optional<http::Response> refused = apply_request(*shared, request.head)) {
      co_return std::move(*refused);
    }
    http::Response response = co_await next(request, context);
    apply_response(*shared, response);
    co_return response;
  };
}

}  // namespace rws::middleware
