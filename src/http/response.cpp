#include <rws/http/response.hpp>

namespace rws::http {

Response::Response(Response&& other) noexcept = default;
Response& Response::operator=(Response&& other) noexcept = default;
Response::~Response() = default;

Response Response::text(int status, std::string body, std::string_view content_type) {
  Response r;
  r.head.status = status;
  r.head.headers.add("Content-Type", content_type);
  r.body = Body::from_string(std::move(body));
  return r;
}

Response Response::empty(int status) {
  Response r;
  r.head.status = status;
  return r;
}

}  // namespace rws::http
