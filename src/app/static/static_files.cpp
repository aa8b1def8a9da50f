#include "app/static/static_files.hpp"

#include <cerrno>
#include <cstring>

#include "app/static/directory_listing.hpp"
#include "app/static/file_response.hpp"
#include "core/blocking_pool.hpp"
#include "core/log.hpp"
#include "http/mime.hpp"
#include "http/negotiation.hpp"
#include "http/path.hpp"

namespace rws::app {
namespace {

constexpr std::string_view kAllow = "GET, HEAD, OPTIONS";

http::Response plain(int status, std::string_view message) {
  return http::Response::text(status, std::string(message) + "\n");
}

// "/a/b/" → "a/b"; "/" → "."
std::string relative_of(std::string_view path) {
  std::string_view p = path.substr(1);
  if (!p.empty() && p.back() == '/') p.remove_suffix(1);
  return p.empty() ? std::string(".") : std::string(p);
}

std::string_view last_segment(std::string_view path) {
  if (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return path.substr(path.rfind('/') + 1);
}

bool has_hidden_segment(std::string_view path) {
  for (std::size_t i = path.find("/."); i != std::string_view::npos; i = path.find("/.", i + 1)) {
    std::string_view seg = path.substr(i + 1, path.find('/', i + 1) - i - 1);
    if (seg != ".well-known") return true;
  }
  return false;
}

struct Encoded {
  std::string_view coding;  // "" for identity
  std::string_view suffix;
};
constexpr Encoded kSiblings[] = {{"br", ".br"}, {"gzip", ".gz"}};

}  // namespace

StaticFiles::StaticFiles(StaticOptions options)
    : options_(std::move(options)), root_(options_.root) {
  // Both name files relative to the root; a leading "/" would make them absolute.
  for (std::string* name : {&options_.spa_fallback, &options_.not_found_page}) {
    name->erase(0, name->find_first_not_of('/'));
  }
}

asio::awaitable<http::Response> StaticFiles::handle(http::Request request, http::RequestContext&) {
  const http::RequestHead& head = request.head;
  if (head.method != "GET" && head.method != "HEAD") {
    http::Response r = head.method == "OPTIONS"
                           ? http::Response::empty(204)
                           : plain(405, "Method Not Allowed: static files accept GET and HEAD");
    r.head.headers.add("Allow", kAllow);
    co_return r;
  }
  std::string path;
  if (http::PathError e = http::normalize_path(head.path, path); e != http::PathError::kNone) {
    co_return plain(400, std::string("Bad Request: ") + std::string(http::describe(e)));
  }
  co_return co_await serve(head, std::move(path));
}

asio::awaitable<http::Response> StaticFiles::serve(const http::RequestHead& head,
                                                   std::string path) {
  if (options_.hide_dotfiles && has_hidden_segment(path)) co_return not_found(head, path);

  CachedFile file;
  OpenedFile other;
  const OpenStatus opened = cache_.open(relative_of(path), file, other);
  const int open_errno = errno;
  switch (opened) {
    case OpenStatus::kOk:
      if (file.file) {
        if (path.back() == '/') co_return not_found(head, path);
        co_return serve_file(head, path, std::move(file));
      }
      if (S_ISDIR(other.info.st_mode)) {
        co_return co_await serve_directory(head, path, std::move(other));
      }
      co_return plain(403, "Forbidden: not a regular file");
    case OpenStatus::kNotFound:
      if (options_.html_extension_fallback && path.back() != '/' &&
          last_segment(path).find('.') == std::string_view::npos) {
        CachedFile html;
        if (cache_.open_regular(relative_of(path) + ".html", html)) {
          co_return serve_file(head, path + ".html", std::move(html));
        }
      }
      co_return not_found(head, path);
    case OpenStatus::kForbidden:
      co_return plain(403, "Forbidden");
    case OpenStatus::kError:
      break;
  }
  log::files().error("opening {} under {} failed: {}", path, root_.path(),
                     std::strerror(open_errno));
  co_return plain(500, "Internal Server Error");
}

asio::awaitable<http::Response> StaticFiles::serve_directory(const http::RequestHead& request,
                                                             const std::string& path,
                                                             OpenedFile dir) {
  if (path.back() != '/') {
    http::Response r = plain(301, "Moved Permanently");
    std::string location = http::percent_encode_path(options_.url_prefix + path) + "/";
    if (!request.query.empty()) location += "?" + request.query;
    r.head.headers.add("Location", location);
    co_return r;
  }
  for (const std::string& index : options_.index_files) {
    CachedFile file;
    if (cache_.open_regular(relative_of(path) + "/" + index, file)) {
      co_return serve_file(request, path + index, std::move(file));
    }
  }
  if (!options_.directory_listing) co_return plain(403, "Forbidden: directory listing is off");
  const int fd = dir.fd;
  const bool hide = options_.hide_dotfiles;
  const std::size_t max = options_.max_listing_entries;
  const RootDirectory* root = &root_;
  const std::string relative = relative_of(path);
  const std::string* listed = &relative;  // outlives the blocking call: this frame awaits it
  Listing listing = co_await run_blocking(
      [root, listed, fd, hide, max] { return read_listing(*root, *listed, fd, hide, max); });
  http::Response r =
      http::Response::text(200, render_listing(options_.url_prefix + path, std::move(listing)),
                           "text/html; charset=utf-8");
  r.head.headers.add("Cache-Control", "no-cache");
  co_return r;
}

http::Response StaticFiles::serve_file(const http::RequestHead& request, const std::string& path,
                                       CachedFile file, int status) {
  http::Headers extra;
  if (status == 200 && options_.precompressed) {
    // Any file may have siblings, so every answer depends on Accept-Encoding: saying so always
    // keeps shared caches right without probing for siblings on requests that cannot use them.
    extra.add("Vary", "Accept-Encoding");
    if (const std::string* accept = request.headers.find("accept-encoding")) {
      // Highest qvalue wins; on a tie a compressed sibling beats identity, and br beats gzip.
      int best_q = http::coding_quality(*accept, "identity");
      bool compressed = false;
      for (const Encoded& e : kSiblings) {
        int q = http::coding_quality(*accept, e.coding);
        if (q <= 0) continue;
        CachedFile sibling;
        if (!cache_.open_regular(relative_of(path) + std::string(e.suffix), sibling)) continue;
        if (q > best_q || (q == best_q && !compressed)) {
          best_q = q;
          compressed = true;
          file = std::move(sibling);
          extra.set("Content-Encoding", e.coding);
        }
      }
    }
  }
  return file_response(request, http::mime_type_for_path(path), std::move(file),
                       FileResponseOptions{status, options_.max_ranges}, std::move(extra));
}

bool StaticFiles::spa_applies(const http::RequestHead& request, const std::string& path) const {
  if (options_.spa_fallback.empty()) return false;
  if (request.method != "GET" && request.method != "HEAD") return false;
  if (last_segment(path).find('.') != std::string_view::npos) return false;
  for (const std::string& prefix : options_.spa_fallback_exclude_prefixes) {
    if (path.compare(0, prefix.size(), prefix) == 0) return false;
  }
  return true;
}

http::Response StaticFiles::not_found(const http::RequestHead& request, const std::string& path) {
  if (spa_applies(request, path)) {
    CachedFile file;
    if (cache_.open_regular(options_.spa_fallback, file)) {
      return serve_file(request, options_.spa_fallback, std::move(file));
    }
  }
  if (!options_.not_found_page.empty()) {
    CachedFile file;
    if (cache_.open_regular(options_.not_found_page, file)) {
      return serve_file(request, options_.not_found_page, std::move(file), 404);
    }
  }
  return plain(404, "Not Found");
}

}  // namespace rws::app
