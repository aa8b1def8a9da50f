#pragma once
// Recently opened regular files of one root, so that a hot file costs one fstat per request
// instead of openat2 + fstat + close (+ pread for small files, whose content is kept too).
//
// Freshness: every hit checks the open descriptor with fstat. A file edited in place (new size,
// mtime or ctime) or replaced or deleted (its inode unlinked) is resolved again at once. The path
// itself is resolved again after `revalidate_after` (1 s by default), so a renamed directory or a switched
// symlink takes effect within that time; "not found" is remembered for the same time.
//
// Thread-safety: shards with one mutex each; every thread keeps to its own shard, so the locks
// are uncontended. Entries hold descriptors: each shard keeps at most a share of RLIMIT_NOFILE.

#include <sys/stat.h>

#include <array>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include <rws/http/body.hpp>

#include "app/static/file_access.hpp"

namespace rws::app {

struct CachedFile {
  std::shared_ptr<const http::OpenFile> file;  // null: not a regular file
  struct stat info {};
  // The whole content of a small file, read when it was cached (null for larger files). Served
  // only while fstat still shows the same version, like the descriptor itself.
  std::shared_ptr<const std::string> content;
};

class FileCache {
 public:
  static constexpr std::chrono::milliseconds kRevalidateAfter{1000};
  static constexpr std::size_t kMaxContentBytes = 16 * 1024;          // per file
  static constexpr std::size_t kMaxShardContentBytes = 8 * 1024 * 1024;  // per shard

  explicit FileCache(const RootDirectory& root,
                     std::chrono::milliseconds revalidate_after = kRevalidateAfter);

  // Opens `relative` like RootDirectory::open. A regular file comes back in `file`; any other
  // kind of entry (a directory, a FIFO) comes back uncached in `other` with `file.file` null.
  OpenStatus open(std::string_view relative, CachedFile& file, OpenedFile& other);
  // Opens `relative` when it is a regular file; false otherwise.
  bool open_regular(std::string_view relative, CachedFile& file);

 private:
  struct Entry {
    std::shared_ptr<const http::OpenFile> file;  // null: remembered as not found
    struct stat info {};
    std::shared_ptr<const std::string> content;
    std::chrono::steady_clock::time_point resolved_at;
  };
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, Entry, Hash, std::equal_to<>> entries;
    std::size_t content_bytes = 0;
  };
  static constexpr std::size_t kShards = 16;

  Shard& my_shard();

  const RootDirectory& root_;
  std::chrono::milliseconds revalidate_after_;
  std::size_t max_entries_;  // per shard
  std::array<Shard, kShards> shards_;
};

}  // namespace rws::app
