#pragma once
// The protocol-neutral request every session (h1, h2, h3) builds and every handler receives.

#include <rws/http/body.hpp>
#include <rws/http/message_head.hpp>

namespace rws::http {

struct Request {
  // Moves and destruction out of line (message.cpp), for the reason given at Headers: a request
  // is handed through several layers (session, built-in endpoints, gateway, handler).
  Request() = default;
  Request(RequestHead&& head_in, Body&& body_in) noexcept;
  Request(Request&& other) noexcept;
  Request& operator=(Request&& other) noexcept;
  ~Request();

  RequestHead head;
  Body body;
};

}  // namespace rws::http
