#include "ws/upgrade.hpp"

#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <asio/this_coro.hpp>

#include "ws/deflate.hpp"
#include "ws/handshake.hpp"
#include "ws/session.hpp"

namespace rws::ws {

namespace {

// What the handshake agreed, shared by the upgrade handler.
struct Agreement {
  WebSocketHandler handler;
  WebSocketOptions options;
  std::string subprotocol;
  std::string extensions;
  std::optional<DeflateParams> deflate;
  http::RequestHead request;
};

asio::awaitable<void> run_session(http::UpgradedStream& stream,
                                  std::shared_ptr<const Agreement> agreed) {
  Session session(stream, co_await asio::this_coro::executor, agreed->options, agreed->subprotocol,
                  agreed->extensions, agreed->deflate, agreed->request);
  co_await session.run(agreed->handler);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

}  // namespace

std::string choose_subprotocol(std::string_view offered,
                               const std::vector<std::string>& supported) {
  for (const std::string& candidate : supported) {
    std::string_view rest = offered;
    while (!rest.empty()) {
      std::size_t comma = rest.find(',');
      std::string_view token = trim(rest.substr(0, comma));
      if (token == candidate) return candidate;  // subprotocol names are case-sensitive
      rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
    }
  }
  return {};
}

http::Response accept_upgrade(const http::RequestHead& head, WebSocketHandler handler,
                              const WebSocketOptions& options) {
  HandshakeCheck check = check_upgrade_request(head);
  if (check.problem != HandshakeProblem::kNone) {
    http::Response refusal = http::Response::text(check.status, std::string(check.reason) + "\n");
    if (check.problem == HandshakeProblem::kBadVersion) {
      refusal.head.headers.add("Sec-WebSocket-Version", "13");
    } else if (check.problem == HandshakeProblem::kNotGet) {
      refusal.head.headers.add("Allow", "GET");
    }
    return refusal;
  }
  auto agreed = std::make_shared<Agreement>();
  agreed->handler = std::move(handler);
  agreed->options = options;
  agreed->subprotocol =
      choose_subprotocol(head.headers.joined("sec-websocket-protocol"), options.subprotocols);
  if (options.permessage_deflate) {
    if (auto deflate = negotiate_deflate(head.headers.joined("sec-websocket-extensions"))) {
      agreed->deflate = deflate->params;
      agreed->extensions = std::move(deflate->response);
    }
  }
  agreed->request = head;

  http::Response response = http::Response::empty(101);
  response.head.headers.add("Upgrade", "websocket");
  response.head.headers.add("Sec-WebSocket-Accept",
                            accept_key(head.headers.get("sec-websocket-key")));
  if (!agreed->subprotocol.empty()) {
    response.head.headers.add("Sec-WebSocket-Protocol", agreed->subprotocol);
  }
  if (!agreed->extensions.empty()) {
    response.head.headers.add("Sec-WebSocket-Extensions", agreed->extensions);
  }
  response.upgrade = [agreed = std::shared_ptr<const Agreement>(std::move(agreed))](
                         http::UpgradedStream& stream) { return run_session(stream, agreed); };
  return response;
}

}  // namespace rws::ws
