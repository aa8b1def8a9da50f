#pragma once
// HTML index pages for directories without an index file.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "app/static/file_access.hpp"

namespace rws::app {

struct ListingEntry {
  std::string name;  // file name as stored on disk (raw bytes)
  bool directory = false;
  std::uint64_t size = 0;
  std::int64_t modified = 0;  // unix seconds
};

struct Listing {
  std::vector<ListingEntry> entries;
  bool truncated = false;  // more entries than the limit
};

// Reads the entries of the directory `relative_dir` of `root` (open as `dir_fd`, which stays
// open), skipping "." and "..", dot-files when `hide_dotfiles`, and every entry the root would
// not serve (symlinks leading out of it, unreadable or dangling entries), so a listing reveals
// nothing a request could not fetch. Stops after `max_entries`. Blocking: run it on the
// blocking pool.
Listing read_listing(const RootDirectory& root, const std::string& relative_dir, int dir_fd,
                     bool hide_dotfiles, std::size_t max_entries);

// Renders the page for the directory at `url_path` (decoded, ending in "/"): directories first,
// then files, each group sorted by name; names are HTML-escaped and links percent-encoded.
std::string render_listing(std::string_view url_path, Listing listing);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

}  // namespace rws::app
