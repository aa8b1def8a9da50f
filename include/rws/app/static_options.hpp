#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace rws {

// Settings of a static file tree (App::static_files, and the rws binary's default mode).
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
  // The URL path the tree is mounted at ("" for "/"): prefixed to redirects it generates.
  std::string url_prefix;
};

}  // namespace rws
