#pragma once
// The static file service: serves a directory tree over HTTP the way a web server should —
// safe path resolution, index files, optional listings, validators and conditional requests,
// ranges, precompressed siblings, an SPA fallback and a custom 404 page. Regular files are opened
// through a FileCache (changes to a file show at once, new files and moved paths within a
// second). Thread-safe: one instance serves every worker.

#include <cstddef>
#include <string>
#include <vector>

#include <rws/app/static_options.hpp>
#include <rws/http/service.hpp>

#include "app/static/file_access.hpp"
#include "app/static/file_cache.hpp"

namespace rws::app {

using StaticOptions = rws::StaticOptions;

class StaticFiles final : public http::Service {
 public:
  // Opens the root; throws std::system_error naming it when that fails.
  explicit StaticFiles(StaticOptions options);

  // GET/HEAD/OPTIONS for the request's own path (other methods: 405).
  asio::awaitable<http::Response> handle(http::Request request,
                                         http::RequestContext& context) override;
  // GET/HEAD for `path`: a decoded, normalized path ("/a/b") inside the tree, e.g. what follows
  // the mount point of App::static_files.
  asio::awaitable<http::Response> serve(const http::RequestHead& request, std::string path);

 private:
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
