#include <memory>
#include <stdexcept>

#include <rws/http/headers.hpp>
#include <rws/middleware/compress.hpp>

#include "core/log.hpp"
#include "http/negotiation.hpp"
#include "http/syntax.hpp"
#include "middleware/compressed_body.hpp"
#include "middleware/encoder.hpp"

namespace rws::middleware {
namespace {

// "text/html; charset=utf-8" → "text/html"
std::string_view media_type(std::string_view content_type) {
  return http::syntax::trim_ows(content_type.substr(0, content_type.find(';')));
}

bool type_matches(std::string_view media, const std::vector<std::string>& patterns) {
  for (const std::string& pattern : patterns) {
    if (pattern == "*/*") return true;
    if (pattern.size() > 2 && pattern.ends_with("/*")) {
      // "text/*": the type and its slash.
      const std::size_t n = pattern.size() - 1;
      if (media.size() > n &&
          http::iequals(media.substr(0, n), std::string_view(pattern).substr(0, n))) {
        return true;
      }
    } else if (http::iequals(media, pattern)) {
      return true;
    }
  }
  return false;
}

bool no_transform(const http::Headers& headers) {
  for (const http::Field& f : headers) {
    if (http::iequals(f.name, "cache-control") && http::list_contains(f.value, "no-transform")) {
      return true;
    }
  }
  return false;
}

// Adds Accept-Encoding to Vary, merged into the existing field value, never twice.
void add_vary(http::Headers& headers) {
  const std::string vary = headers.joined("vary");
  if (http::list_contains(vary, "*") || http::list_contains(vary, "accept-encoding")) return;
  headers.set("Vary", vary.empty() ? std::string("Accept-Encoding") : vary + ", Accept-Encoding");
}

// The compressed bytes differ from the identity representation's: a strong ETag would claim
// byte equality (and let ranges of one be combined with the other).
void weaken_etag(http::Headers& headers) {
  const std::string* etag = headers.find("etag");
  if (etag != nullptr && !etag->empty() && etag->front() == '"') headers.set("ETag", "W/" + *etag);
}

bool status_compressible(int status) {
  return status >= 200 && status <= 299 && status != 204 && status != 206;
}

void validate(const CompressOptions& o) {
  if (o.algorithms.empty()) throw std::invalid_argument("compress: no algorithms");
  for (const std::string& type : o.types) {
    if (!valid_media_range(type)) {
      throw std::invalid_argument("compress: '" + type + "' is not a media type or range");
    }
  }
  if (o.levels.brotli < 0 || o.levels.brotli > 11 || o.levels.zstd < 1 || o.levels.zstd > 19 ||
      o.levels.gzip < 1 || o.levels.gzip > 9) {
    throw std::invalid_argument("compress: level out of range (br 0-11, zstd 1-19, gzip 1-9)");
  }
}

// Applies the decision to one response on its way out (see the header for the rules).
void apply(http::Response& response, std::optional<Coding> coding, bool head_request,
           const CompressOptions& options) {
  http::Headers& headers = response.head.headers;
  if (response.upgrade || headers.contains("content-encoding") || no_transform(headers)) return;
  const std::string* content_type = headers.find("content-type");
  const bool type_ok =
      content_type != nullptr && type_matches(media_type(*content_type), options.types);
  if (response.head.status == 304) {
    // 304s usually omit Content-Type: then the 200 may well have been compressed.
    if (content_type != nullptr && !type_ok) return;
    add_vary(headers);
    if (coding) weaken_etag(headers);
    return;
  }
  if (!status_compressible(response.head.status) || !type_ok) return;
  const std::optional<std::uint64_t> size = response.body.size();
  if (size && *size < options.min_size) return;
  add_vary(headers);
  if (!coding) return;

  std::unique_ptr<http::BodySource> compressed;
  if (!head_request) {
    const bool streamed = response.body.is_stream();
    Result<std::unique_ptr<Encoder>> encoder = make_encoder(*coding, options.levels, size);
    if (!encoder) {
      // Only a failed allocation gets here; the identity representation is still correct.
      log::http().warn("{}; sending the response uncompressed", encoder.error().describe());
      return;
    }
    compressed = std::make_unique<CompressedBody>(std::move(response.body).into_source(),
                                                  std::move(*encoder), streamed);
  }
  headers.set("Content-Encoding", coding_name(*coding));
  headers.remove("Content-Length");
  headers.remove("Accept-Ranges");
  weaken_etag(headers);
  // A HEAD response announces what a GET would send: a body of unknown length, so no
  // Content-Length.
  response.body = head_request ? http::Body::from_stream(http::Body().into_source())
                               : http::Body::from_stream(std::move(compressed));
}

}  // namespace

std::string_view coding_name(Coding coding) noexcept {
  switch (coding) {
    case Coding::kBrotli:
      return "br";
    case Coding::kZstd:
      return "zstd";
    case Coding::kGzip:
      return "gzip";
  }
  return "";
}

std::optional<Coding> parse_coding(std::string_view name) noexcept {
  for (Coding c : {Coding::kBrotli, Coding::kZstd, Coding::kGzip}) {
    if (http::iequals(name, coding_name(c))) return c;
  }
  return std::nullopt;
}

const std::vector<std::string>& default_compress_types() {
  static const std::vector<std::string> types = {
      "text/*",
      "application/json",
      "application/javascript",
      "application/xml",
      "application/xhtml+xml",
      "application/rss+xml",
      "application/atom+xml",
      "application/ld+json",
      "application/manifest+json",
      "application/problem+json",
      "application/geo+json",
      "application/wasm",
      "image/svg+xml",
      "font/ttf",
      "font/otf",
      "application/vnd.ms-fontobject",
  };
  return types;
}

bool valid_media_range(std::string_view pattern) noexcept {
  if (pattern == "*/*") return true;
  const std::size_t slash = pattern.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view type = pattern.substr(0, slash);
  std::string_view subtype = pattern.substr(slash + 1);
  return type != "*" && http::syntax::is_token(type) &&
         (subtype == "*" || http::syntax::is_token(subtype));
}

std::optional<Coding> negotiate_coding(std::string_view accept_encoding,
                                       const std::vector<Coding>& algorithms) {
  int best_q = 0;
  std::optional<Coding> best;
  for (Coding c : algorithms) {
    const int q = http::coding_quality(accept_encoding, coding_name(c));
    if (q > best_q) {  // strictly: a tie keeps the earlier configured algorithm
      best_q = q;
      best = c;
    }
  }
  // Identity wins only when the client prefers it outright.
  if (best && http::coding_quality(accept_encoding, "identity") > best_q) return std::nullopt;
  return best;
}

Middleware compress(CompressOptions options) {
  validate(options);
  auto settings = std::make_shared<const CompressOptions>(std::move(options));
  return [settings](http::Request& request, Context& context,
                    Next next) -> asio::awaitable<http::Response> {
    // Decided before the rest of the chain runs: inner middleware may edit the request.
    const std::optional<Coding> coding =
        negotiate_coding(request.head.headers.joined("accept-encoding"), settings->algorithms);
    const bool head_request = request.head.method == "HEAD";
    http::Response response = co_await next(request, context);
    apply(response, coding, head_request, *settings);
    co_return response;
  };
}

}  // namespace rws::middleware
