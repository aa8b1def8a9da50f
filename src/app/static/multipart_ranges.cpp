#include "app/static/multipart_ranges.hpp"

#include <unistd.h>

#include <cerrno>
#include <random>

namespace rws::app {
namespace {

// Emits a fixed sequence of pieces: literal text or a region of the file.
class MultipartSource final : public http::BodySource {
 public:
  struct Piece {
    std::string text;          // used when length == 0
    std::uint64_t offset = 0;  // file region otherwise
    std::uint64_t length = 0;
  };

  MultipartSource(std::shared_ptr<const http::OpenFile> file, std::vector<Piece> pieces)
      : file_(std::move(file)), pieces_(std::move(pieces)) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    while (index_ < pieces_.size()) {
      Piece& p = pieces_[index_];
      if (p.length == 0) {
        ++index_;
        if (!p.text.empty()) co_return http::BodyFrame::bytes(p.text);
        continue;
      }
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(p.length, max_bytes));
      buffer_.resize(want);
      ssize_t n;
      do {
        n = ::pread(file_->fd(), buffer_.data(), want, static_cast<off_t>(p.offset));
      } while (n < 0 && errno == EINTR);
      if (n <= 0) {
        co_return fail(Errc::kClosed, ErrorSide::kInternal, "file changed while sending ranges");
      }
      p.offset += static_cast<std::uint64_t>(n);
      p.length -= static_cast<std::uint64_t>(n);
      if (p.length == 0) ++index_;
      co_return http::BodyFrame::bytes(
          std::string_view(buffer_.data(), static_cast<std::size_t>(n)));
    }
    co_return http::BodyFrame::end();
  }

 private:
  std::shared_ptr<const http::OpenFile> file_;
  std::vector<Piece> pieces_;
  std::size_t index_ = 0;
  std::string buffer_;
};

}  // namespace

std::string make_boundary() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string boundary;
  boundary.reserve(32);
  for (int word = 0; word < 2; ++word) {
    std::uint64_t bits = rng();
    for (int i = 0; i < 16; ++i, bits >>= 4)
      boundary.push_back(kHex[bits & 15]);
  }
  return boundary;
}

http::Body multipart_byteranges(std::shared_ptr<const http::OpenFile> file,
                                std::vector<http::ByteRange> ranges, std::string_view content_type,
                                std::string_view boundary) {
  std::vector<MultipartSource::Piece> pieces;
  std::uint64_t total = 0;
  std::uint64_t size = file->size();
  for (std::size_t i = 0; i < ranges.size(); ++i) {
    std::string header;
    if (i > 0) header += "\r\n";
    header += "--";
    header += boundary;
    header += "\r\nContent-Type: ";
    header += content_type;
    header += "\r\nContent-Range: ";
    header += http::content_range(ranges[i], size);
    header += "\r\n\r\n";
    total += header.size() + ranges[i].length();
    pieces.push_back({std::move(header), 0, 0});
    pieces.push_back({{}, ranges[i].first, ranges[i].length()});
  }
  std::string closing = "\r\n--" + std::string(boundary) + "--\r\n";
  total += closing.size();
  pieces.push_back({std::move(closing), 0, 0});
  return http::Body::from_stream(
      std::make_unique<MultipartSource>(std::move(file), std::move(pieces)), total);
}

}  // namespace rws::app
