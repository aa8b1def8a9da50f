#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

#include <rws/app/error.hpp>
#include <rws/app/form.hpp>

#include "app/multipart_parser.hpp"
#include "http/syntax.hpp"

namespace rws {

asio::awaitable<QueryMap> read_form(http::Request& request, std::size_t limit) {
  std::string_view type = request.head.headers.get("content-type");
  std::string_view media = http::syntax::trim_ows(type.substr(0, type.find(';')));
  if (!http::iequals(media, "application/x-www-form-urlencoded")) {
    throw HttpError(415, "expected an application/x-www-form-urlencoded body");
  }
  Result<std::string> body = co_await request.body.read_all(limit);
  if (!body) {
    if (body.error().code == make_error_code(Errc::kTooLarge)) {
      throw HttpError(413, "form body larger than " + std::to_string(limit) + " bytes");
    }
    throw HttpError(400, "could not read the request body: " + body.error().describe());
  }
  std::optional<QueryMap> form = parse_urlencoded(*body);
  if (!form) throw HttpError(400, "malformed percent-encoding in the form body");
  co_return std::move(*form);
}

MultipartReader::MultipartReader(http::Request& request, MultipartLimits limits) : limits_(limits) {
  std::string boundary = multipart_boundary(request.head.headers.get("content-type"));
  if (boundary.empty()) {
    throw HttpError(415, "expected a multipart/form-data body with a boundary");
  }
  if (auto size = request.body.size(); size && *size > limits_.max_total_bytes) {
    throw HttpError(
        413, "multipart body larger than " + std::to_string(limits_.max_total_bytes) + " bytes");
  }
  parser_ = std::make_unique<MultipartParser>(std::move(boundary), limits_.max_part_header_bytes,
                                              limits_.max_parts);
  source_ = std::move(request.body).into_source();
}

MultipartReader::~MultipartReader() = default;

const http::Headers& MultipartReader::headers() const {
  return parser_->headers();
}

asio::awaitable<bool> MultipartReader::fill() {
  if (eof_) co_return false;
  for (;;) {
    Result<http::BodyFrame> frame = co_await source_->next(64 * 1024);
    if (!frame)
      throw HttpError(400, "could not read the request body: " + frame.error().describe());
    if (frame->kind == http::BodyFrame::Kind::kEnd) {
      eof_ = true;
      co_return false;
    }
    if (frame->kind != http::BodyFrame::Kind::kData) continue;
    total_ += frame->data.size();
    if (total_ > limits_.max_total_bytes) {
      throw HttpError(
          413, "multipart body larger than " + std::to_string(limits_.max_total_bytes) + " bytes");
    }
    buffer_.append(frame->data);
    co_return true;
  }
}

asio::awaitable<bool> MultipartReader::next_part() {
  while (in_part_) {
    std::string_view rest = co_await read_chunk();
    if (rest.empty()) break;
  }
  if (done_) co_return false;
  for (;;) {
    std::size_t consumed = 0;
    std::string_view data;
    MultipartParser::Event event = parser_->next(buffer_, eof_, consumed, data);
    buffer_.erase(0, consumed);
    switch (event) {
      case MultipartParser::Event::kPartBegin: {
        const http::Headers& h = parser_->headers();
        std::string_view disposition = h.get("content-disposition");
        name_ = header_parameter(disposition, "name").value_or("");
        filename_ = header_parameter(disposition, "filename");
        std::string_view type = h.get("content-type");
        content_type_ = type.empty() ? "text/plain" : std::string(type);
        in_part_ = true;
        part_bytes_ = 0;
        co_return true;
      }
      case MultipartParser::Event::kEnd:
        done_ = true;
        co_return false;
      case MultipartParser::Event::kError:
        throw HttpError(parser_->limit_exceeded() ? 413 : 400,
                        "malformed multipart body: " + std::string(parser_->error()));
      case MultipartParser::Event::kNeedMore:
        co_await fill();  // at the end of the body the parser reports the truncation
        break;
      default:
        break;  // stray data between parts cannot happen outside a part
    }
  }
}

asio::awaitable<std::string_view> MultipartReader::read_chunk() {
  if (!in_part_) co_return std::string_view();
  for (;;) {
    std::size_t consumed = 0;
    std::string_view data;
    MultipartParser::Event event = parser_->next(buffer_, eof_, consumed, data);
    switch (event) {
      case MultipartParser::Event::kData:
        part_bytes_ += data.size();
        if (part_bytes_ > limits_.max_part_bytes) {
          throw HttpError(413, "multipart part larger than " +
                                   std::to_string(limits_.max_part_bytes) + " bytes");
        }
        chunk_.assign(data);
        buffer_.erase(0, consumed);
        co_return std::string_view(chunk_);
      case MultipartParser::Event::kPartEnd:
        buffer_.erase(0, consumed);
        in_part_ = false;
        co_return std::string_view();
      case MultipartParser::Event::kError:
        throw HttpError(parser_->limit_exceeded() ? 413 : 400,
                        "malformed multipart body: " + std::string(parser_->error()));
      case MultipartParser::Event::kNeedMore:
        buffer_.erase(0, consumed);
        co_await fill();
        break;
      default:
        throw HttpError(400, "malformed multipart body");
    }
  }
}

asio::awaitable<std::string> MultipartReader::read_text(std::size_t limit) {
  std::string out;
  for (;;) {
    std::string_view chunk = co_await read_chunk();
    if (chunk.empty()) break;
    if (chunk.size() > limit - out.size()) {
      throw HttpError(413,
                      "form field '" + name_ + "' longer than " + std::to_string(limit) + " bytes");
    }
    out.append(chunk);
  }
  co_return out;
}

asio::awaitable<std::uint64_t> MultipartReader::save_to(const std::string& path) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) throw std::system_error(errno, std::system_category(), "saving upload to " + path);
  std::uint64_t written = 0;
  try {
    for (;;) {
      std::string_view chunk = co_await read_chunk();
      if (chunk.empty()) break;
      while (!chunk.empty()) {
        ssize_t n = ::write(fd, chunk.data(), chunk.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw std::system_error(errno, std::system_category(), "writing " + path);
        chunk.remove_prefix(static_cast<std::size_t>(n));
        written += static_cast<std::uint64_t>(n);
      }
    }
  } catch (...) {
    ::close(fd);
    throw;
  }
  ::close(fd);
  co_return written;
}

}  // namespace rws
