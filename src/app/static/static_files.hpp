#pragma once
// The static file service: serves a directory tree over HTTP the way a web server should —
// safe path resolution, index files, optional listings, validators and conditional requests,
// ranges, precompressed siblings, an SPA fallback and a custom 404 page. Regular files are opened
// through a FileCache (changes to a file show at once, new files and moved paths within a
// second). Thread-safe: one instance serves every worker.

#include <cstddef>
#include <string>
#include <vector>

#include <rws/http/service.hpp>

#include "app/static/file_access.hpp"
#include "app/static/file_cache.hpp"

namespace rws::app {

struct StaticOptions {
  std::string root = ".";
  std::vector<std::string> index_files = {"index.html"};
  bool directory_listing = true;
  // "/about" is served from "about.html" when "about" does not exist.
  bool html_extension_fallback = true;
  // File (relative to the root) served for GET/HEAD requests that match nothing and whose last
  // segment has no "."; empty: off.
  std::string spa_fallback;
  std::vector<std::string> spa_fallback_exclude_prefixes;
  // Served with status 404 when present in the root.
  std::string not_found_page = "404.html";
  // Serve "file.br" / "file.gz" for "file" when Accept-Encoding allows.
  bool precompressed = true;
  // Paths with a segment starting with "." (except ".well-known") are not served or listed.
  bool hide_dotfiles = true;
  std::size_t max_ranges = 16;
  std::size_t max_listing_entries = 10'000;
};

class StaticFiles final : public http::Service {
 public:
  // Opens the root; throws std::system_error naming it when that fails.
  explicit StaticFiles(StaticOptions options);

  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;

 private:
  struct Target;
  asio::awaitable<http::Response> serve_directory(const http::RequestHead& request,
                                                  const std::string& path, OpenedFile dir);
  http::Response serve_file(const http::RequestHead& request, const std::string& path,
                            CachedFile file, int status = 200);
  http::Response not_found(const http::RequestHead& request, const std::string& path);
  bool spa_applies(const http::RequestHead& request, const std::string& path) const;

  StaticOptions options_;
  RootDirectory root_;
  FileCache cache_{root_};
};

}  // namespace rws::app
