#include <rws/app/error.hpp>

namespace rws {

HttpError::HttpError(int status, std::string message)
    : status_(status),
      message_(std::move(message)),
      response_(http::Response::text(status, message_ + "\n")) {}

HttpError::HttpError(http::Response response)
    : status_(response.head.status),
      message_("HTTP " + std::to_string(response.head.status)),
      response_(std::move(response)) {}

http::Response HttpError::take_response() {
  return std::move(response_);
}

}  // namespace rws
