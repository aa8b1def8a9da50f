#include "http/outgoing_request.hpp"

#include <charconv>

#include <rws/http/headers.hpp>

namespace rws::http {

Response streamed_response(ResponseHead head, std::unique_ptr<BodySource> body) {
  Response response;
  response.head = std::move(head);
  if (body) {
    std::optional<std::uint64_t> size;
    if (std::string_view length = response.head.headers.get("content-length"); !length.empty()) {
      std::uint64_t value = 0;
      auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), value);
      if (ec == std::errc() && end == length.data() + length.size()) size = value;
    }
    response.body = Body::from_stream(std::move(body), size);
  }
  return response;
}

}  // namespace rws::http
