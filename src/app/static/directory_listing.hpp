#pragma once
// HTML index pages for directories without an index file.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

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

// Reads the entries of the open directory `dir_fd` (the descriptor stays open), skipping "."
// and "..", dot-files when `hide_dotfiles`, and entries that cannot be stat'ed. Stops after
// `max_entries`. Blocking: call it on the blocking pool.
Listing read_listing(int dir_fd, bool hide_dotfiles, std::size_t max_entries);

// Renders the page for the directory at `url_path` (decoded, ending in "/"): directories first,
// then files, each group sorted by name; names are HTML-escaped and links percent-encoded.
std::string render_listing(std::string_view url_path, Listing listing);

// Escapes &, <, >, " and ' for HTML text and attribute values.
std::string html_escape(std::string_view text);

}  // namespace rws::app
