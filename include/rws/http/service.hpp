#pragma once
// Service: the one entry point a session calls for each request, whatever the protocol.

#include <cstdint>
#include <string>
#include <string_view>

#include <asio/awaitable.hpp>

#include <rws/http/exchange_notes.hpp>
#include <rws/http/request.hpp>
#include <rws/http/response.hpp>
#include <rws/http/tls_info.hpp>

namespace rws::http {

// What the session knows about the exchange besides the request itself. Owned by the session;
// valid until the handler's response has been written.
struct RequestContext {
  std::string peer_address;  // client IP as text ("127.0.0.1", "::1")
  std::uint16_t peer_port = 0;
  bool secure = false;  // arrived over TLS
  std::uint64_t connection_id = 0;
  std::uint64_t request_number = 0;  // 1 for the first request on the connection
  InterimSender* interim = nullptr;  // 1xx responses before the final one; null: unsupported
  // Where handlers note what the access log should say about this exchange; may be null.
  ExchangeNotes* notes = nullptr;
  // The client behind trusted proxies (client_address.hpp); empty: the peer itself.
  std::string client_address;
  // What the TLS handshake negotiated (null: plain TCP). Owned by the connection.
  const TlsInfo* tls = nullptr;

  // The client's address: what filters, rate limits and logs use.
  std::string_view client() const noexcept {
    return client_address.empty() ? std::string_view(peer_address) : client_address;
  }
};

class Service {
 public:
  virtual ~Service() = default;
  // Produces the response for `request`. Runs on the connection's executor; may suspend. Errors
  // are responses (4xx/5xx); an exception escaping here becomes a logged 500.
  virtual asio::awaitable<Response> handle(Request request, RequestContext& context) = 0;
};

}  // namespace rws::http
