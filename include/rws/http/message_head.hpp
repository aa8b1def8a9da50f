#pragma once
// Request and response heads: everything but the body. Kept free of Asio so that codecs and
// parsers (and their fuzz targets) compile quickly.

#include <string>

#include <rws/http/headers.hpp>

namespace rws::http {

// The copy, move and destruction of both heads are defined out of line (message.cpp), for the
// reason given at Headers.
struct RequestHead {
  RequestHead() = default;
  RequestHead(const RequestHead& other);
  RequestHead(RequestHead&& other) noexcept;
  RequestHead& operator=(const RequestHead& other);
  RequestHead& operator=(RequestHead&& other) noexcept;
  ~RequestHead();

  std::string method;     // case-sensitive token, e.g. "GET"
  std::string target;     // request-target exactly as received ("/a%20b?x=1", "*", ...)
  std::string path;       // path of the target, still percent-encoded ("*" for asterisk-form)
  std::string query;      // text after '?', without the '?'
  std::string authority;  // host[:port] from the absolute-form target or the Host field
  std::string scheme;     // "http" or "https"
  int version = 11;       // 10, 11, 20 or 30
  Headers headers;
};

struct ResponseHead {
  ResponseHead() = default;
  ResponseHead(const ResponseHead& other);
  ResponseHead(ResponseHead&& other) noexcept;
  ResponseHead& operator=(const ResponseHead& other);
  ResponseHead& operator=(ResponseHead&& other) noexcept;
  ~ResponseHead();

  int status = 200;
  std::string reason;  // empty: the standard phrase for `status`
  Headers headers;
};

}  // namespace rws::http
