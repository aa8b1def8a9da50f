#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

#include <rws/http/body.hpp>

namespace rws::http {
namespace {

class EmptySource final : public BodySource {
 public:
  asio::awaitable<Result<BodyFrame>> next(std::size_t) override { co_return BodyFrame::end(); }
};

class StringSource final : public BodySource {
 public:
  explicit StringSource(std::string bytes) : bytes_(std::move(bytes)) {}
  asio::awaitable<Result<BodyFrame>> next(std::size_t max_bytes) override {
    if (offset_ >= bytes_.size()) co_return BodyFrame::end();
    std::string_view chunk = std::string_view(bytes_).substr(offset_, max_bytes);
    offset_ += chunk.size();
    co_return BodyFrame::bytes(chunk);
  }

 private:
  std::string bytes_;
  std::size_t offset_ = 0;
};

// Reads a file region with pread in chunks; the file may be shared with other responses, so
// the descriptor's offset is never used.
class FileSource final : public BodySource {
 public:
  explicit FileSource(FileRegion region) : region_(std::move(region)) {}
  asio::awaitable<Result<BodyFrame>> next(std::size_t max_bytes) override {
    if (region_.length == 0) co_return BodyFrame::end();
    std::size_t want =
        static_cast<std::size_t>(std::min<std::uint64_t>({region_.length, max_bytes, kChunk}));
    buffer_.resize(want);
    ssize_t n;
    do {
      n = ::pread(region_.file->fd(), buffer_.data(), want, static_cast<off_t>(region_.offset));
    } while (n < 0 && errno == EINTR);
    if (n < 0)
      co_return fail(std::error_code(errno, std::system_category()), ErrorSide::kInternal,
                     "reading file");
    if (n == 0) co_return fail(Errc::kClosed, ErrorSide::kInternal, "file shrank while sending");
    region_.offset += static_cast<std::uint64_t>(n);
    region_.length -= static_cast<std::uint64_t>(n);
    co_return BodyFrame::bytes(std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
  }

 private:
  static constexpr std::size_t kChunk = 64 * 1024;
  FileRegion region_;
  std::string buffer_;
};

}  // namespace

OpenFile::~OpenFile() {
  if (fd_ >= 0) ::close(fd_);
}

Body::Body(Body&&) noexcept = default;
Body& Body::operator=(Body&&) noexcept = default;
Body::~Body() = default;

Body Body::from_string(std::string bytes) {
  Body b;
  if (!bytes.empty()) b.content_ = std::move(bytes);
  return b;
}

Body Body::from_file(FileRegion region) {
  Body b;
  b.content_ = std::move(region);
  return b;
}

Body Body::from_stream(std::unique_ptr<BodySource> source, std::optional<std::uint64_t> size) {
  Body b;
  b.content_ = Stream{std::move(source), size};
  return b;
}

std::optional<std::uint64_t> Body::size() const noexcept {
  switch (content_.index()) {
    case 0:
      return 0;
    case 1:
      return std::get<std::string>(content_).size();
    case 2:
      return std::get<FileRegion>(content_).length;
    default:
      return std::get<Stream>(content_).size;
  }
}

asio::awaitable<Result<std::string>> Body::read_all(std::size_t limit) {
  if (auto known = size(); known && *known > limit) {
    co_return fail(Errc::kTooLarge, ErrorSide::kDownstream, "body larger than the limit");
  }
  if (is_bytes()) co_return std::move(std::get<std::string>(content_));
  std::unique_ptr<BodySource> source = std::move(*this).into_source();
  std::string out;
  for (;;) {
    Result<BodyFrame> frame = co_await source->next(64 * 1024);
    if (!frame) co_return Unexpected(std::move(frame).error());
    if (frame->kind == BodyFrame::Kind::kEnd) break;
    if (frame->kind != BodyFrame::Kind::kData) continue;
    if (frame->data.size() > limit - out.size()) {
      co_return fail(Errc::kTooLarge, ErrorSide::kDownstream, "body larger than the limit");
    }
    out.append(frame->data);
  }
  co_return out;
}

std::unique_ptr<BodySource> Body::into_source() && {
  std::unique_ptr<BodySource> source;
  switch (content_.index()) {
    case 0:
      source = std::make_unique<EmptySource>();
      break;
    case 1:
      source = std::make_unique<StringSource>(std::move(std::get<std::string>(content_)));
      break;
    case 2:
      source = std::make_unique<FileSource>(std::move(std::get<FileRegion>(content_)));
      break;
    default:
      source = std::move(std::get<Stream>(content_).source);
      break;
  }
  content_ = std::monostate{};
  return source;
}

}  // namespace rws::http
