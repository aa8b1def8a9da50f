#pragma once

#include <string>
#include <string_view>

#include <rws/http/body.hpp>
#include <rws/http/message_head.hpp>
#include <rws/http/upgrade.hpp>

namespace rws::http {

struct Response {
  // Moves and destruction out of line (response.cpp), for the reason given at Headers.
  Response() = default;
  Response(Response&& other) noexcept;
  Response& operator=(Response&& other) noexcept;
  ~Response();

  ResponseHead head;
  Body body;
  // With status 101: takes over the connection once the head has been sent.
  UpgradeHandler upgrade;

  // A complete response with an in-memory body and its Content-Type.
  static Response text(int status, std::string body,
                       std::string_view content_type = "text/plain; charset=utf-8");
  // A response with no body.
  static Response empty(int status);
};

}  // namespace rws::http
