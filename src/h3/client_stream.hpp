#pragma once
// What the two halves of h3::ClientSession share (client_session.cpp: the connection, its I/O and
// callbacks; client_exchange.cpp: the exchanges and their bodies): the native state and one
// stream's state. Internal to rws_h3.

#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/headers.hpp>

#include "h2/signal.hpp"
#include "h3/client_session.hpp"
#include "h3/datagram_sender.hpp"
#include "h3/outgoing_body.hpp"

namespace rws::h3 {

inline constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

inline Unexpected<Error> upstream_error(Errc code, bool retryable, std::string context) {
  return Unexpected(
      Error{make_error_code(code), ErrorSide::kUpstream, retryable, std::move(context)});
}

// An HTTP/3 or QUIC error code as "0x10c".
inline std::string hex(std::uint64_t code) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string text;
  do {
    text.insert(text.begin(), kDigits[code & 0xf]);
    code >>= 4;
  } while (code != 0);
  return "0x" + text;
}

// The native QUIC, HTTP/3 and TLS state.
struct ClientSession::Quic {
  ~Quic() {
    if (http != nullptr) nghttp3_conn_del(http);
    if (conn != nullptr) ngtcp2_conn_del(conn);
    if (tls != nullptr) gnutls_deinit(tls);
  }

  std::shared_ptr<const ClientCredentials> credentials;  // used by `tls`
  gnutls_session_t tls = nullptr;
  ngtcp2_conn* conn = nullptr;
  nghttp3_conn* http = nullptr;
  ngtcp2_crypto_conn_ref conn_ref{};
  ngtcp2_path_storage path{};
  std::string verify_name;
  // A run of datagrams (datagram_sender.hpp) the socket could not take yet, and its segment.
  std::vector<std::uint8_t> pending;
  std::size_t pending_segment = 0;
  DatagramSender sender;
};

struct ClientSession::Stream : OutgoingBody {
  std::int64_t id = -1;
  // The request body is pulled from `source` into OutgoingBody.
  std::unique_ptr<http::BodySource> source;
  std::unique_ptr<h2::Signal> pump_wake;

  // Response: interim heads not yet relayed, the final head, the body as DATA delivered it.
  int pending_status = 0;
  http::Headers pending_fields;
  std::deque<http::ResponseHead> interims;
  http::ResponseHead head;
  bool head_done = false;
  bool in_trailers = false;
  std::size_t header_bytes = 0;
  std::string body_in;
  bool ended = false;  // the server's side of the stream ended
  http::Headers trailers_in;
  std::unique_ptr<h2::Signal> wake;

  bool closed = false;
  bool rejected = false;  // not processed by the server (above its GOAWAY, or REQUEST_REJECTED)
  std::uint64_t error_code = NGHTTP3_H3_NO_ERROR;
  std::string failure;  // why the exchange failed, when it did otherwise than by a stream error

  void notify() {
    wake->notify();
    pump_wake->notify();
  }
};

// nghttp3's read_data step for a request body (stream user data: the Stream).
nghttp3_ssize read_request_body(nghttp3_conn* http, int64_t stream_id, nghttp3_vec* vec,
                                size_t veccnt, uint32_t* flags, void* user_data,
                                void* stream_user_data);

}  // namespace rws::h3
