#include "app/static/file_access.hpp"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <system_error>

namespace rws::app {
namespace {

constexpr int kOpenFlags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;

OpenStatus status_from_errno(int err) {
  switch (err) {
    case ENOENT:
    case ENOTDIR:
    case ENAMETOOLONG:
      return OpenStatus::kNotFound;
    case EACCES:
    case EPERM:
    case EXDEV:  // RESOLVE_BENEATH: the path would leave the root
    case ELOOP:
      return OpenStatus::kForbidden;
    default:
      return OpenStatus::kError;
  }
}

// Whether openat2 works here (it is missing before Linux 5.6 and in some sandboxes).
std::atomic<bool> openat2_missing{false};

}  // namespace

OpenedFile& OpenedFile::operator=(OpenedFile&& other) noexcept {
  if (this != &other) {
    if (fd >= 0) ::close(fd);
    fd = other.fd;
    info = other.info;
    other.fd = -1;
  }
  return *this;
}

OpenedFile::~OpenedFile() {
  if (fd >= 0) ::close(fd);
}

RootDirectory::RootDirectory(const std::string& path) {
  char resolved[PATH_MAX];
  if (::realpath(path.c_str(), resolved) == nullptr) {
    throw std::system_error(errno, std::system_category(), "root directory " + path);
  }
  path_ = resolved;
  fd_ = ::open(path_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd_ < 0) throw std::system_error(errno, std::system_category(), "root directory " + path);
}

RootDirectory::~RootDirectory() {
  if (fd_ >= 0) ::close(fd_);
}

OpenStatus RootDirectory::open(std::string_view relative, OpenedFile& out) const {
  std::string rel(relative.empty() ? "." : relative);
  if (!openat2_missing.load(std::memory_order_relaxed)) {
    open_how how{};
    how.flags = kOpenFlags;
    how.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS;
    long fd;
    do {
      fd = ::syscall(SYS_openat2, fd_, rel.c_str(), &how, sizeof how);
    } while (fd < 0 && errno == EINTR);
    if (fd < 0 && errno == ENOSYS) {
      openat2_missing.store(true, std::memory_order_relaxed);
    } else {
      if (fd < 0) return status_from_errno(errno);
      out = OpenedFile();
      out.fd = static_cast<int>(fd);
      if (::fstat(out.fd, &out.info) != 0) return OpenStatus::kError;
      return OpenStatus::kOk;
    }
  }
  return open_checked_by_path(rel, out);
}

// Fallback without openat2: open normally, then make sure the file really lies under the root
// by resolving the descriptor's path.
OpenStatus RootDirectory::open_checked_by_path(const std::string& relative, OpenedFile& out) const {
  int fd = ::openat(fd_, relative.c_str(), kOpenFlags);
  if (fd < 0) return status_from_errno(errno);
  out = OpenedFile();
  out.fd = fd;
  std::string link = "/proc/self/fd/" + std::to_string(fd);
  char resolved[PATH_MAX];
  ssize_t n = ::readlink(link.c_str(), resolved, sizeof resolved - 1);
  if (n < 0) return OpenStatus::kError;
  std::string_view real(resolved, static_cast<std::size_t>(n));
  bool inside =
      real == path_ || (real.size() > path_.size() && real.substr(0, path_.size()) == path_ &&
                        (path_ == "/" || real[path_.size()] == '/'));
  if (!inside) return OpenStatus::kForbidden;
  if (::fstat(out.fd, &out.info) != 0) return OpenStatus::kError;
  return OpenStatus::kOk;
}

}  // namespace rws::app
