#pragma once
// HTML form bodies: application/x-www-form-urlencoded (whole, bounded) and multipart/form-data
// (streamed part by part, so a large upload never has to fit in memory).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include <rws/app/extract.hpp>
#include <rws/http/headers.hpp>
#include <rws/http/request.hpp>

namespace rws {

// The urlencoded body as name/value pairs. HttpError 415 for another Content-Type, 413 beyond
// `limit`, 400 for malformed escapes.
asio::awaitable<QueryMap> read_form(http::Request& request, std::size_t limit = 1 << 20);

struct MultipartLimits {
  std::size_t max_parts = 1000;
  std::size_t max_part_header_bytes = 16 * 1024;
  std::uint64_t max_part_bytes = 100ull << 20;  // one part's content → 413
  std::uint64_t max_total_bytes = 1ull << 30;   // the whole body → 413
};

class MultipartParser;

// Reads multipart/form-data as a sequence of parts:
//
//   rws::MultipartReader form(req);
//   while (co_await form.next_part()) {
//     if (form.filename()) co_await form.save_to("/tmp/upload-" + ...);
//     else fields[form.name()] = co_await form.read_text(4096);
//   }
//
// Errors are HttpError: 415 (not multipart/form-data, no boundary), 400 (malformed body), 413
// (a limit). The reader borrows the request; both must outlive it.
class MultipartReader {
 public:
  explicit MultipartReader(http::Request& request, MultipartLimits limits = {});
  ~MultipartReader();
  MultipartReader(const MultipartReader&) = delete;
  MultipartReader& operator=(const MultipartReader&) = delete;

  // Moves to the next part, skipping what is left of the current one; false after the last.
  asio::awaitable<bool> next_part();

  // The current part's Content-Disposition name and filename, Content-Type (default
  // "text/plain"), and all its header fields.
  const std::string& name() const noexcept { return name_; }
  const std::optional<std::string>& filename() const noexcept { return filename_; }
  const std::string& content_type() const noexcept { return content_type_; }
  const http::Headers& headers() const;

  // The next piece of the current part's content; empty at its end. The view is valid until
  // the next call.
  asio::awaitable<std::string_view> read_chunk();
  // The rest of the part as a string; HttpError 413 beyond `limit` bytes.
  asio::awaitable<std::string> read_text(std::size_t limit);
  // Writes the rest of the part to `path` (created or truncated, mode 0600); returns its size.
  asio::awaitable<std::uint64_t> save_to(const std::string& path);

 private:
  asio::awaitable<bool> fill();

  std::unique_ptr<http::BodySource> source_;
  std::unique_ptr<MultipartParser> parser_;
  MultipartLimits limits_;
  std::string buffer_;
  std::string chunk_;
  bool eof_ = false;
  bool in_part_ = false;
  bool done_ = false;
  std::uint64_t total_ = 0;
  std::uint64_t part_bytes_ = 0;
  std::string name_;
  std::optional<std::string> filename_;
  std::string content_type_;
};

}  // namespace rws
