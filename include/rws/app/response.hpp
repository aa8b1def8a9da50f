#pragma once
// Building responses in handlers.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include <rws/http/request.hpp>
#include <rws/http/response.hpp>

namespace rws {

http::Response text(std::string body, int status = 200);  // text/plain; charset=utf-8
http::Response html(std::string body, int status = 200);  // text/html; charset=utf-8
http::Response bytes(std::string body, std::string_view content_type = "application/octet-stream",
                     int status = 200);
http::Response status(int code);  // no body
// 301, 302, 303, 307 or 308 (std::invalid_argument otherwise) to `location` (a URI reference;
// CR/LF are refused with std::invalid_argument).
http::Response redirect(std::string_view location, int code = 302);

// The file at `path` (any path the process can read; not confined like static_files) with its
// media type, ETag/Last-Modified, conditional requests and ranges, exactly as the static file
// server answers. 404 when it does not exist or is not a regular file, 403 when unreadable.
http::Response file(const http::Request& request, const std::string& path);

// Streamed bodies. The producer runs once the response is being sent (on the connection's
// executor) and writes chunks; write() suspends while the client is slower than the producer
// (at most `high_water` bytes are buffered) and returns false once the client is gone — then
// the producer should stop. A producer that throws ends the body early (the client sees a
// truncated response). Without a known length the body is chunked on HTTP/1.1.
class StreamWriter {
 public:
  virtual ~StreamWriter() = default;
  // Queues `data`; suspends while the buffer is full. False once the client is gone.
  virtual asio::awaitable<bool> write(std::string_view data) = 0;
  // Queues `data` only if that needs no waiting; false when the buffer is full or closed.
  virtual bool offer(std::string_view data) = 0;
  virtual bool closed() const noexcept = 0;
};
using StreamProducer = std::function<asio::awaitable<void>(StreamWriter&)>;

http::Body stream_body(StreamProducer producer, std::size_t high_water = 64 * 1024,
                       std::optional<std::uint64_t> length = std::nullopt);
http::Response stream(StreamProducer producer,
                      std::string_view content_type = "application/octet-stream", int status = 200);

}  // namespace rws
