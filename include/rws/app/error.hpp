#pragma once
// HttpError: how a handler (or an extractor it calls) says "answer with this status". The App
// turns it into the response it carries; it is not logged as a failure. Any other exception
// escaping a handler becomes a logged 500 whose body says nothing about the cause.

#include <exception>
#include <string>

#include <rws/http/response.hpp>

namespace rws {

class HttpError : public std::exception {
 public:
  // A plain-text answer: "<message>\n" with the given status.
  HttpError(int status, std::string message);
  // Any answer, e.g. a JSON body listing validation errors.
  explicit HttpError(http::Response response);

  int status() const noexcept { return status_; }
  const char* what() const noexcept override { return message_.c_str(); }
  // Builds the response (the error can be turned into a response once).
  http::Response take_response();

 private:
  int status_;
  std::string message_;
  http::Response response_;
};

}  // namespace rws
