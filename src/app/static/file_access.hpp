#pragma once
// Opening files strictly beneath a root directory. Resolution is done by the kernel
// (openat2 with RESOLVE_BENEATH), so "..", absolute symlinks and symlinks that lead out of the
// root fail instead of being followed; on kernels without openat2 the resolved path is checked
// against the root instead.

#include <sys/stat.h>

#include <memory>
#include <string>
#include <string_view>

namespace rws::app {

enum class OpenStatus {
  kOk,
  kNotFound,   // no such entry (or a path component is not a directory)
  kForbidden,  // permission denied, or the path leaves the root through a symlink
  kError,      // any other failure (I/O error, too many open files)
};

// An open descriptor with the metadata read right after opening.
struct OpenedFile {
  int fd = -1;
  struct stat info {};
  OpenedFile() = default;
  OpenedFile(OpenedFile&& other) noexcept : fd(other.fd), info(other.info) { other.fd = -1; }
  OpenedFile& operator=(OpenedFile&& other) noexcept;
  ~OpenedFile();
  // Hands the descriptor over to the caller.
  int release() noexcept {
    int f = fd;
    fd = -1;
    return f;
  }
};

class RootDirectory {
 public:
  // Opens `path` as the root; throws std::system_error naming the path when it cannot.
  explicit RootDirectory(const std::string& path);
  ~RootDirectory();
  RootDirectory(const RootDirectory&) = delete;
  RootDirectory& operator=(const RootDirectory&) = delete;

  // Opens `relative` (no leading "/", "." for the root itself) for reading and stats it. Opening
  // never blocks on FIFOs; callers decide what to do with non-regular files.
  OpenStatus open(std::string_view relative, OpenedFile& out) const;

  const std::string& path() const noexcept { return path_; }

 private:
  OpenStatus open_checked_by_path(const std::string& relative, OpenedFile& out) const;

  std::string path_;  // canonical absolute path
  int fd_ = -1;
};

}  // namespace rws::app
