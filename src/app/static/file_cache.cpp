#include "app/static/file_cache.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>

namespace rws::app {
namespace {

using Clock = std::chrono::steady_clock;

bool same_version(const struct stat& a, const struct stat& b) {
  return a.st_ino == b.st_ino && a.st_dev == b.st_dev && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// A quarter of the descriptor limit, spread over the shards.
std::size_t entries_per_shard(std::size_t shards) {
  rlimit limit{};
  std::size_t descriptors = 1024;
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0 && limit.rlim_cur != RLIM_INFINITY) {
    descriptors = static_cast<std::size_t>(limit.rlim_cur);
  }
  return std::clamp<std::size_t>(descriptors / 4 / shards, 8, 4096);
}

// The content of a file of at most kMaxContentBytes, when it can be read whole and did not
// change while being read; null otherwise.
std::shared_ptr<const std::string> read_small(int fd, const struct stat& info) {
  if (info.st_size > static_cast<off_t>(FileCache::kMaxContentBytes)) return nullptr;
  auto content = std::make_shared<std::string>(static_cast<std::size_t>(info.st_size), '\0');
  std::size_t done = 0;
  while (done < content->size()) {
    ssize_t n = ::pread(fd, content->data() + done, content->size() - done,
                        static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return nullptr;
    done += static_cast<std::size_t>(n);
  }
  struct stat after {};
  if (::fstat(fd, &after) != 0 || !same_version(after, info)) return nullptr;
  return content;
}

}  // namespace

FileCache::FileCache(const RootDirectory& root, std::chrono::milliseconds revalidate_after)
    : root_(root), revalidate_after_(revalidate_after), max_entries_(entries_per_shard(kShards)) {}

FileCache::Shard& FileCache::my_shard() {
  static std::atomic<unsigned> next{0};
  thread_local const unsigned index = next.fetch_add(1, std::memory_order_relaxed);
  return shards_[index % kShards];
}

OpenStatus FileCache::open(std::string_view relative, CachedFile& file, OpenedFile& other) {
  Shard& shard = my_shard();
  const Clock::time_point now = Clock::now();
  std::lock_guard lock(shard.mutex);
  auto it = shard.entries.find(relative);
  if (it != shard.entries.end() && now - it->second.resolved_at < revalidate_after_) {
    const Entry& e = it->second;
    if (!e.file) return OpenStatus::kNotFound;
    struct stat now_info {};
    if (::fstat(e.file->fd(), &now_info) == 0 && now_info.st_nlink > 0 &&
        same_version(now_info, e.info)) {
      file.file = e.file;
      file.info = e.info;
      file.content = e.content;
      return OpenStatus::kOk;
    }
  }
  if (it != shard.entries.end()) shard.entries.erase(it);

  OpenStatus status = root_.open(relative, other);
  if (status == OpenStatus::kOk && !S_ISREG(other.info.st_mode)) {
    file.file = nullptr;
    return status;
  }
  if (status != OpenStatus::kOk && status != OpenStatus::kNotFound) return status;
  if (shard.entries.size() >= max_entries_ || shard.content_bytes > kMaxShardContentBytes) {
    shard.entries.clear();
    shard.content_bytes = 0;
  }
  Entry entry;
  entry.resolved_at = now;
  if (status == OpenStatus::kOk) {
    entry.info = other.info;
    entry.file = std::make_shared<http::OpenFile>(
        other.release(), static_cast<std::uint64_t>(other.info.st_size));
    entry.content = read_small(entry.file->fd(), entry.info);
    if (entry.content) shard.content_bytes += entry.content->size();
    file.file = entry.file;
    file.info = entry.info;
    file.content = entry.content;
  }
  shard.entries.emplace(std::string(relative), std::move(entry));
  return status;
}

bool FileCache::open_regular(std::string_view relative, CachedFile& file) {
  OpenedFile other;
  return open(relative, file, other) == OpenStatus::kOk && file.file != nullptr;
}

}  // namespace rws::app
