#pragma once
// Access logging: each worker formats lines into its own buffer and writes them to the shared
// sink in pieces: at 64 KiB, and at the worker's sweep (every 100 ms) and exit.

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>

#include <rws/server/options.hpp>

#include "http/exchange_log.hpp"

namespace rws::server {

// Where the lines go: standard output or a file with size-based rotation. Thread-safe.
class AccessLogSink {
 public:
  // `path` "" or "-" is standard output. Rotation (file → file.1 → … → file.N) happens before a
  // write that would take the file past `max_bytes`; 0 disables it. Throws std::system_error
  // naming the file when it cannot be opened.
  AccessLogSink(std::string path, std::uint64_t max_bytes, unsigned max_files);
  ~AccessLogSink();
  AccessLogSink(const AccessLogSink&) = delete;
  AccessLogSink& operator=(const AccessLogSink&) = delete;

  void write(std::string_view lines) noexcept;
  // Reopens the file (after logrotate moved it); no-op for standard output.
  void reopen() noexcept;

 private:
  void open_file();
  void rotate() noexcept;

  std::mutex mutex_;
  std::string path_;
  std::uint64_t max_bytes_;
  unsigned max_files_;
  int fd_ = 1;
  std::uint64_t size_ = 0;
};

// One per worker; used only on that worker's thread. Lines gather in memory and reach the sink
// once 64 KiB have gathered and whenever the worker calls flush() (its deadline sweep, every
// 100 ms, and its exit), so that a busy worker writes the log in a few large pieces instead of
// a line per request or per turn of the event loop.
class AccessLog final : public http::ExchangeLog {
 public:
  AccessLog(std::shared_ptr<AccessLogSink> sink, AccessLogFormat format)
      : sink_(std::move(sink)), format_(format) {}

  void record(const http::ExchangeRecord& exchange) noexcept override;
  void flush() noexcept;

 private:
  std::shared_ptr<AccessLogSink> sink_;
  AccessLogFormat format_;
  std::string pending_;
};

}  // namespace rws::server
