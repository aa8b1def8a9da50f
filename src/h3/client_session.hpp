#pragma once
// HTTP/3 client session (RFC 9114) on ngtcp2 + nghttp3 + GnuTLS: one QUIC connection to a server
// carrying many concurrent exchanges. Used by the proxy for h3:// backends, by their health
// probes and by rws-client. The same exchange() contract as h2::ClientSession.
//
// Structure: a connected UDP socket; a reader coroutine feeds datagrams to ngtcp2 (which calls
// into nghttp3), write() drains nghttp3 + ngtcp2 into datagrams, and one timer follows
// ngtcp2_conn_get_expiry (loss detection, ACK delay, pacing, QUIC idle timeout). Each exchange
// runs in the caller's coroutine. A request body is pulled from its BodySource by a pump, at
// most kPumpHighWater bytes ahead of the server's acknowledgements; a response body is handed
// to the caller as a BodySource whose reads reopen the stream's and the connection's windows,
// so a slow reader slows the server. Everything runs on the executor the session was made on.
//
// Lifetime: the session keeps itself alive while its reader runs. It ends when the server closes
// the connection, on a QUIC error or idle timeout, when it had no stream for `idle_timeout`,
// after a GOAWAY once its last stream ended, or when the worker drains and its last stream
// ended. Registered with the worker's ConnectionRegistry (when there is one) for that idle
// deadline and for drain.

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include <rws/core/error.hpp>
#include <rws/http/response.hpp>
#include <rws/http/upgrade.hpp>

#include "h3/client_credentials.hpp"
#include "http/outgoing_request.hpp"
#include "net/connection_registry.hpp"

namespace rws::h2 {
class Signal;
}

namespace rws::h3 {

struct ClientTarget {
  asio::ip::udp::endpoint remote;
  std::shared_ptr<const ClientCredentials> credentials;
  // Sent as SNI when it is a host name, and the name the certificate must be valid for.
  std::string server_name;
  std::chrono::milliseconds handshake_timeout{5000};
  std::chrono::seconds idle_timeout{60};
  std::string name;  // the server, for messages
};

class ClientSession final : public net::TrackedConnection,
                            public std::enable_shared_from_this<ClientSession> {
 public:
  struct Stream;
  struct Quic;

  // Opens the connection and completes the handshake (the certificate verified). Errors are
  // upstream-side and retryable (nothing was sent).
  static asio::awaitable<Result<std::shared_ptr<ClientSession>>> connect(
      const ClientTarget& target);

  ~ClientSession() override;
  ClientSession(const ClientSession&) = delete;
  ClientSession& operator=(const ClientSession&) = delete;

  // Sends `request` and waits for the final response head (1xx heads before it go to
  // `interim` when given). The response body streams from the server as it is read; its
  // trailers arrive as the body's trailers frame. Errors are upstream-side; `retryable` is set
  // when the server cannot have processed the request (rejected stream, above a GOAWAY).
  asio::awaitable<Result<http::Response>> exchange(http::OutgoingRequest request,
                                                   const http::ExchangeLimits& limits,
                                                   http::InterimSender* interim);

  // Whether a pool may hand this session to a new exchange now: alive, not draining, and with
  // stream credit from the server or streams whose end will bring more (an exchange waits for
  // it rather than a new connection being opened).
  bool can_take_stream() const noexcept;
  bool dead() const noexcept { return finished_ || closing_; }
  std::size_t active_streams() const noexcept { return streams_.size(); }
  // Exchanges started on this session so far (a pooled session that carried none is new).
  std::uint64_t exchanges() const noexcept { return exchanges_; }
  const std::string& name() const noexcept { return name_; }

  // Ends the connection at once (CONNECTION_CLOSE): open streams fail.
  void close() noexcept;

  void on_deadline() noexcept override;
  void on_drain() noexcept override;
  void on_abort() noexcept override;

 private:
  friend struct ClientCallbacks;
  friend class ClientResponseBody;
  ClientSession(const asio::any_io_executor& executor, const ClientTarget& target);

  // Sets up GnuTLS and ngtcp2 (nghttp3 follows with the application keys); the error, or "".
  std::string init(const ClientTarget& target);
  int setup_http();
  asio::awaitable<void> read_loop([[maybe_unused]] std::shared_ptr<ClientSession> keep_alive);
  void on_datagram(const std::uint8_t* data, std::size_t size);
  void write();
  void schedule_write();
  void wait_writable();
  void arm_timer();
  // Sends a run of datagrams (datagram_sender.hpp); false when the socket is full (the rest
  // waits in Quic::pending and the session for the socket) or failed (the session is finished).
  bool send_run(const std::uint8_t* data, std::size_t size, std::size_t segment);
  void on_timer();
  asio::awaitable<void> pump_request([[maybe_unused]] std::shared_ptr<ClientSession> keep_alive,
                                     std::shared_ptr<Stream> stream, http::ExchangeLimits limits);
  void cancel_stream(Stream& stream);
  // The response body reader took `n` bytes: the server may send that much more.
  void consume(Stream& stream, std::size_t n);
  void stream_finished();
  void update_deadline();
  // Sends CONNECTION_CLOSE (NO_ERROR unless `error` is set) and finishes.
  void close_with(std::string error) noexcept;
  // Forgets the connection: open streams fail with `error_`, the socket and timer stop.
  void finish() noexcept;
  void leave_registry() noexcept;

  asio::any_io_executor executor_;
  asio::ip::udp::socket socket_;
  asio::steady_timer timer_;
  std::chrono::seconds idle_timeout_;
  std::string name_;
  std::unique_ptr<Quic> quic_;
  net::ConnectionRegistry* registry_ = nullptr;
  std::map<std::int64_t, std::shared_ptr<Stream>> streams_;
  std::unique_ptr<h2::Signal> handshake_wake_;
  // Exchanges waiting for the server to allow more streams; woken (cancelled) when it does.
  std::vector<asio::steady_timer*> credit_waiters_;
  std::string error_;            // why the connection failed, for the streams' errors
  std::int64_t goaway_id_ = -1;  // the server's GOAWAY: streams from this id were not processed
  std::uint64_t exchanges_ = 0;
  bool handshake_done_ = false;
  bool write_scheduled_ = false;
  bool in_write_ = false;
  bool blocked_ = false;   // the socket's send buffer is full
  bool draining_ = false;  // the worker drains: no new streams, close when idle
  bool closing_ = false;   // CONNECTION_CLOSE sent or the server closed
  bool finished_ = false;
};

}  // namespace rws::h3
