#include <rws/app/json.hpp>
#include <rws/http/headers.hpp>

#include "http/syntax.hpp"

namespace rws {

bool is_json_content_type(std::string_view content_type) {
  std::string_view media = http::syntax::trim_ows(content_type.substr(0, content_type.find(';')));
  if (http::iequals(media, "application/json")) return true;
  return media.size() > 17 && http::iequals(media.substr(0, 12), "application/") &&
         http::iequals(media.substr(media.size() - 5), "+json");
}

asio::awaitable<Json> read_json(http::Request& request, std::size_t limit) {
  if (!is_json_content_type(request.head.headers.get("content-type"))) {
    throw HttpError(415, "expected a JSON body (Content-Type: application/json)");
  }
  Result<std::string> body = co_await request.body.read_all(limit);
  if (!body) {
    if (body.error().code == make_error_code(Errc::kTooLarge)) {
      throw HttpError(413, "JSON body larger than " + std::to_string(limit) + " bytes");
    }
    throw HttpError(400, "could not read the request body: " + body.error().describe());
  }
  try {
    co_return Json::parse(*body);
  } catch (const Json::parse_error& e) {
    throw HttpError(
        400, "invalid JSON at byte " + std::to_string(e.byte) + ": " + std::string(e.what()));
  }
}

http::Response json(const Json& value, int status) {
  return http::Response::text(status, value.dump(), "application/json");
}

}  // namespace rws
