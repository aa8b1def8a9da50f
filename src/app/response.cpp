#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <stdexcept>

#include <rws/app/response.hpp>

#include "app/static/file_response.hpp"
#include "http/mime.hpp"
#include "http/syntax.hpp"

namespace rws {

http::Response text(std::string body, int status) {
  return http::Response::text(status, std::move(body));
}

http::Response html(std::string body, int status) {
  return http::Response::text(status, std::move(body), "text/html; charset=utf-8");
}

http::Response bytes(std::string body, std::string_view content_type, int status) {
  return http::Response::text(status, std::move(body), content_type);
}

http::Response status(int code) {
  return http::Response::empty(code);
}

http::Response redirect(std::string_view location, int code) {
  if (code != 301 && code != 302 && code != 303 && code != 307 && code != 308) {
    throw std::invalid_argument("redirect status must be 301, 302, 303, 307 or 308");
  }
  if (!http::syntax::is_field_value(location)) {
    throw std::invalid_argument("redirect location contains control characters");
  }
  http::Response r = http::Response::empty(code);
  r.head.headers.add("Location", location);
  return r;
}

http::Response file(const http::Request& request, const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) {
    return errno == EACCES ? http::Response::text(403, "Forbidden\n")
                           : http::Response::text(404, "Not Found\n");
  }
  app::CachedFile cached;
  if (::fstat(fd, &cached.info) != 0 || !S_ISREG(cached.info.st_mode)) {
    ::close(fd);
    return http::Response::text(404, "Not Found\n");
  }
  cached.file =
      std::make_shared<http::OpenFile>(fd, static_cast<std::uint64_t>(cached.info.st_size));
  return app::file_response(request.head, http::mime_type_for_path(path), std::move(cached));
}

http::Response stream(StreamProducer producer, std::string_view content_type, int status) {
  http::Response r;
  r.head.status = status;
  r.head.headers.add("Content-Type", content_type);
  r.body = stream_body(std::move(producer));
  return r;
}

}  // namespace rws
