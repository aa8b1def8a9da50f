#pragma once
// A message body: nothing, bytes in memory, a region of an open file, or a pull stream.
//
// Streams are pulled by the consumer (the session writing a response, or a handler reading a
// request): `next(max)` suspends until bytes are available, which is where backpressure comes
// from. A body is consumed at most once and is move-only.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <asio/awaitable.hpp>

#include <rws/core/error.hpp>
#include <rws/http/headers.hpp>

namespace rws::http {

// One step of a body stream.
struct BodyFrame {
  enum class Kind : std::uint8_t { kData, kTrailers, kEnd };
  Kind kind = Kind::kEnd;
  // kData: the bytes; they stay valid until the next call on the source or its destruction.
  std::string_view data;
  // kTrailers: trailer fields; a kEnd frame always follows.
  Headers trailers;

  static BodyFrame bytes(std::string_view d) { return {Kind::kData, d, {}}; }
  static BodyFrame end() { return {}; }
};

class BodySource {
 public:
  virtual ~BodySource() = default;
  // Returns the next frame, with at most `max_bytes` (> 0) of data. After kEnd or an error the
  // source must not be called again. Runs on the executor of the connection that owns it.
  virtual asio::awaitable<Result<BodyFrame>> next(std::size_t max_bytes) = 0;
  // The next frame when it is at hand without waiting, else nullopt (then call next()). Lets a
  // consumer skip next()'s coroutine for data already received; otherwise as next(). The
  // default never has one.
  virtual std::optional<Result<BodyFrame>> next_ready(std::size_t /*max_bytes*/) {
    return std::nullopt;
  }
};

// An open, read-only file and the metadata taken when it was opened. Shared by the responses
// that send it; the descriptor closes with the last owner.
class OpenFile {
 public:
  OpenFile(int fd, std::uint64_t size) noexcept : fd_(fd), size_(size) {}
  ~OpenFile();
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;

  int fd() const noexcept { return fd_; }
  std::uint64_t size() const noexcept { return size_; }

 private:
  int fd_;
  std::uint64_t size_;
};

struct FileRegion {
  std::shared_ptr<const OpenFile> file;
  std::uint64_t offset = 0;
  std::uint64_t length = 0;
};

class Body {
 public:
  Body() = default;
  static Body from_string(std::string bytes);
  static Body from_file(FileRegion region);
  // `size`, when known, is the exact number of data bytes the source will produce.
  static Body from_stream(std::unique_ptr<BodySource> source,
                          std::optional<std::uint64_t> size = std::nullopt);

  // Out of line (body.cpp): moving the variant is a switch over its four kinds.
  Body(Body&&) noexcept;
  Body& operator=(Body&&) noexcept;
  ~Body();

  bool is_empty() const noexcept { return std::holds_alternative<std::monostate>(content_); }
  bool is_bytes() const noexcept { return std::holds_alternative<std::string>(content_); }
  bool is_file() const noexcept { return std::holds_alternative<FileRegion>(content_); }
  bool is_stream() const noexcept { return std::holds_alternative<Stream>(content_); }

  // Exact length in bytes when it is known before the body is read.
  std::optional<std::uint64_t> size() const noexcept;

  const std::string& bytes() const { return std::get<std::string>(content_); }
  const FileRegion& file() const { return std::get<FileRegion>(content_); }
  BodySource& stream() { return *std::get<Stream>(content_).source; }

  // Reads the whole body into memory; fails with Errc::kTooLarge once more than `limit` bytes
  // arrive (nothing beyond limit + one frame is buffered).
  asio::awaitable<Result<std::string>> read_all(std::size_t limit);

  // Converts any kind of body into a pull source (file regions are read with pread).
  std::unique_ptr<BodySource> into_source() &&;

 private:
  struct Stream {
    std::unique_ptr<BodySource> source;
    std::optional<std::uint64_t> size;
  };
  std::variant<std::monostate, std::string, FileRegion, Stream> content_;
};

}  // namespace rws::http
