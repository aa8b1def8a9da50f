#pragma once
// JSON request and response bodies (nlohmann::json). Kept out of <rws/app/app.hpp>: include it
// where JSON is used.

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string>

#include <asio/awaitable.hpp>

#include <rws/app/error.hpp>
#include <rws/http/request.hpp>
#include <rws/http/response.hpp>

namespace rws {

using Json = nlohmann::json;

inline constexpr std::size_t kDefaultJsonLimit = 1 << 20;

// The request body parsed as JSON. HttpError 415 unless Content-Type is application/json (or a
// "+json" type), 413 beyond `limit` bytes, 400 naming the byte offset when it is not JSON.
asio::awaitable<Json> read_json(http::Request& request, std::size_t limit = kDefaultJsonLimit);

// The same, converted to T with nlohmann's from_json; HttpError 400 naming the problem when the
// document has the wrong shape.
template <class T>
asio::awaitable<T> read_json_as(http::Request& request, std::size_t limit = kDefaultJsonLimit) {
  Json document = co_await read_json(request, limit);
  try {
    co_return document.get<T>();
  } catch (const Json::exception& e) {
    throw HttpError(400, std::string("JSON body has the wrong shape: ") + e.what());
  }
}

// A response with `value` serialized, Content-Type application/json.
http::Response json(const Json& value, int status = 200);

// Whether a Content-Type value is JSON (application/json, application/*+json).
bool is_json_content_type(std::string_view content_type);

}  // namespace rws
