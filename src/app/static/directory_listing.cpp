#include "app/static/directory_listing.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <ctime>

#include "http/path.hpp"

namespace rws::app {
namespace {

std::string format_modified(std::int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm);
  return std::string(buf, n);
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

Listing read_listing(const RootDirectory& root, const std::string& relative_dir, int dir_fd,
                     bool hide_dotfiles, std::size_t max_entries) {
  Listing listing;
  int fd = ::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return listing;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    ::close(fd);
    return listing;
  }
  ::rewinddir(dir);
  const std::string prefix = relative_dir == "." ? std::string() : relative_dir + "/";
  while (dirent* e = ::readdir(dir)) {
    std::string_view name = e->d_name;
    if (name == "." || name == "..") continue;
    if (hide_dotfiles && name.front() == '.') continue;
    OpenedFile entry;
    if (root.open(prefix + e->d_name, entry) != OpenStatus::kOk) continue;
    if (listing.entries.size() >= max_entries) {
      listing.truncated = true;
      break;
    }
    const struct stat& st = entry.info;
    listing.entries.push_back(ListingEntry{std::string(name), S_ISDIR(st.st_mode),
                                           static_cast<std::uint64_t>(st.st_size),
                                           static_cast<std::int64_t>(st.st_mtim.tv_sec)});
  }
  ::closedir(dir);  // closes fd
  return listing;
}

std::string render_listing(std::string_view url_path, Listing listing) {
  std::sort(listing.entries.begin(), listing.entries.end(),
            [](const ListingEntry& a, const ListingEntry& b) {
              if (a.directory != b.directory) return a.directory;
              return a.name < b.name;
            });
  std::string title = html_escape(url_path);
  std::string out;
  out.reserve(512 + listing.entries.size() * 160);
  out += "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<title>Index of " + title + "</title>\n";
  out +=
      "<style>body{font-family:system-ui,sans-serif;margin:2em}table{border-collapse:collapse}"
      "th,td{padding:.2em 1em;text-align:left}td.size{text-align:right;font-variant-numeric:"
      "tabular-nums}</style>\n</head>\n<body>\n";
  out += "<h1>Index of " + title + "</h1>\n<table>\n";
  out += "<thead><tr><th>Name</th><th>Size</th><th>Modified (UTC)</th></tr></thead>\n<tbody>\n";
  if (url_path != "/") {
    out += "<tr><td><a href=\"../\">../</a></td><td class=\"size\">-</td><td></td></tr>\n";
  }
  for (const ListingEntry& e : listing.entries) {
    std::string href = http::percent_encode_path(e.name);
    // A name like "a:b" would read as a URL scheme; "./" keeps the link relative.
    if (href.find(':') != std::string::npos) href.insert(0, "./");
    std::string label = html_escape(e.name);
    if (e.directory) {
      href += '/';
      label += '/';
    }
    out += "<tr><td><a href=\"" + html_escape(href) + "\">" + label + "</a></td>";
    out +=
        "<td class=\"size\">" + (e.directory ? std::string("-") : std::to_string(e.size)) + "</td>";
    out += "<td>" + format_modified(e.modified) + "</td></tr>\n";
  }
  out += "</tbody>\n</table>\n";
  if (listing.truncated) out += "<p>Listing truncated.</p>\n";
  out += "</body>\n</html>\n";
  return out;
}

}  // namespace rws::app
