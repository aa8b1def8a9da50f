#include <utility>

#include <rws/app/context.hpp>
#include <rws/app/websocket.hpp>

#include "ws/upgrade.hpp"

namespace rws {

http::Response websocket(Context& context, WebSocketHandler handler, WebSocketOptions options) {
  return ws::accept_upgrade(context.request().head, std::move(handler), options);
}

}  // namespace rws
