#pragma once
// The protocol-neutral request every session (h1, h2, h3) builds and every handler receives.

#include <rws/http/body.hpp>
#include <rws/http/message_head.hpp>

namespace rws::http {

struct Request {
  RequestHead head;
  Body body;
};

}  // namespace rws::http
