#include "server/access_log.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <system_error>

#include "core/log.hpp"
#include "server/access_log_format.hpp"

namespace rws::server {
namespace {

// Lines are flushed at this size even before the batch ends.
constexpr std::size_t kMaxPending = 64 * 1024;

bool is_stdout(const std::string& path) {
  return path.empty() || path == "-";
}

void write_all(int fd, std::string_view data) noexcept {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // nowhere to report it without recursing into logging
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

AccessLogSink::AccessLogSink(std::string path, std::uint64_t max_bytes, unsigned max_files)
    : path_(std::move(path)), max_bytes_(max_bytes), max_files_(max_files) {
  if (!is_stdout(path_)) open_file();
}

AccessLogSink::~AccessLogSink() {
  if (fd_ > 2) ::close(fd_);
}

void AccessLogSink::open_file() {
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "access log " + path_);
  struct stat st {};
  size_ = ::fstat(fd, &st) == 0 ? static_cast<std::uint64_t>(st.st_size) : 0;
  if (fd_ > 2) ::close(fd_);
  fd_ = fd;
}

void AccessLogSink::rotate() noexcept {
  for (unsigned i = max_files_; i > 1; --i) {
    std::string from = path_ + "." + std::to_string(i - 1);
    std::string to = path_ + "." + std::to_string(i);
    std::rename(from.c_str(), to.c_str());
  }
  if (max_files_ > 0) {
    std::rename(path_.c_str(), (path_ + ".1").c_str());
  } else {
    ::ftruncate(fd_, 0);
  }
  try {
    open_file();
  } catch (const std::exception& e) {
    log::server().error("access log rotation: {}", e.what());
  }
}

void AccessLogSink::write(std::string_view lines) noexcept {
  std::lock_guard lock(mutex_);
  if (!is_stdout(path_) && max_bytes_ > 0 && size_ > 0 && size_ + lines.size() > max_bytes_) {
    rotate();
  }
  write_all(fd_, lines);
  size_ += lines.size();
}

void AccessLogSink::reopen() noexcept {
  std::lock_guard lock(mutex_);
  if (is_stdout(path_)) return;
  try {
    open_file();
  } catch (const std::exception& e) {
    log::server().error("reopening the access log: {}", e.what());
  }
}

void AccessLog::record(const http::ExchangeRecord& exchange) noexcept {
  try {
    if (format_ == AccessLogFormat::kJson) {
      append_json(exchange, pending_);
    } else {
      append_combined(exchange, pending_);
    }
  } catch (const std::exception&) {
    return;  // out of memory: drop the line rather than the request
  }
  if (pending_.size() >= kMaxPending) flush();
}

void AccessLog::flush() noexcept {
  if (pending_.empty()) return;
  sink_->write(pending_);
  pending_.clear();
}

}  // namespace rws::server
