#pragma once
// One QUIC connection serving HTTP/3 (RFC 9114) on ngtcp2 + nghttp3, owned by a worker's UDP
// endpoint. Every request stream becomes an http::Request for the same http::Service the
// HTTP/1.1 and HTTP/2 sessions call, so handlers, middleware, static files and the proxy work
// unchanged. Internal to rws_h3 (the endpoint is the only user).
//
// Structure: the endpoint hands in datagrams (on_packet); the connection feeds ngtcp2, which
// calls back into nghttp3, which calls back with request heads, body bytes and acks. write()
// drains nghttp3 + ngtcp2 into datagrams. One steady_timer follows ngtcp2_conn_get_expiry
// (loss detection, ACK delay, pacing, idle timeout). Each request's handler runs as its own
// coroutine on the worker's executor.
//
// Flow control: request body bytes reopen the stream's and the connection's receive window
// only as the handler reads them. Response bodies are pulled from the handler's Body up to
// kPumpHighWater bytes ahead of what the client acknowledged; nghttp3 asks for them with
// read_data (NGHTTP3_ERR_WOULDBLOCK while none are ready, resume_stream once some are).
//
// Lifetime: shared_ptr; the endpoint's maps hold one reference until finish(), each running
// handler another, so a handler never outlives the state it touches.

#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/udp.hpp>
#include <asio/steady_timer.hpp>

#include "h1/server_session.hpp"
#include "h3/cid.hpp"
#include "h3/credentials.hpp"

typedef struct nghttp3_conn nghttp3_conn;
typedef struct gnutls_session_int* gnutls_session_t;

namespace rws::h3 {

class Connection;

// What a connection needs from the endpoint that owns it.
class ConnectionHost {
 public:
  virtual ~ConnectionHost() = default;
  // Routes packets whose destination connection ID is `cid` to `connection` (or stops).
  virtual void associate(const ngtcp2_cid& cid, Connection& connection) = 0;
  virtual void dissociate(const ngtcp2_cid& cid) = 0;
  // Fills `cid` with a fresh connection ID whose packets reach this endpoint (cid.hpp); false
  // when none can be made.
  virtual bool make_cid(ngtcp2_cid& cid) = 0;
  // Sends `size` bytes as datagrams of `segment` bytes (the last may be shorter; a run as in
  // datagram_sender.hpp). Returns the bytes the socket took, whole datagrams from the start:
  // fewer than `size` only when its buffer is full. A datagram that fails otherwise counts as
  // sent (it is logged and lost, as on the network).
  virtual std::size_t send(const asio::ip::udp::endpoint& to, const std::uint8_t* data,
                           std::size_t size, std::size_t segment) = 0;
  // Calls connection.on_writable() once the socket can take datagrams again.
  virtual void wait_writable(std::shared_ptr<Connection> connection) = 0;
  // The connection is over: drop the endpoint's references to it.
  virtual void remove(Connection& connection) = 0;
  // The process-wide secret stateless reset tokens are derived from.
  virtual const std::uint8_t* reset_secret() const = 0;
  virtual std::size_t reset_secret_size() const = 0;
};

class Connection final : public std::enable_shared_from_this<Connection> {
 public:
  struct Stream;

  Connection(ConnectionHost& host, h1::SessionEnv env, std::shared_ptr<const Credentials> tls,
             const asio::any_io_executor& executor, std::uint64_t id, asio::ip::udp::endpoint local,
             asio::ip::udp::endpoint remote);
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sets up ngtcp2 and GnuTLS for the client's first Initial packet (header `hd`); false when
  // that fails (the packet is dropped). `original_dcid` is set when `hd` answers a Retry and
  // carries a valid token: it is the DCID of the client's very first Initial, and hd.dcid is
  // the Retry's source connection ID (both go into the transport parameters).
  bool init(const ngtcp2_pkt_hd& hd, const ngtcp2_cid* original_dcid = nullptr);

  // A datagram for this connection arrived from `remote`.
  void on_packet(const asio::ip::udp::endpoint& remote, const std::uint8_t* data, std::size_t size);
  void on_writable();
  // The server drains: GOAWAY, then close once the open requests are answered.
  void drain();
  // The drain period is over: close now.
  void abort();
  // The handler read `n` request body bytes of `stream`: the client may send that much more.
  void consume(Stream& stream, std::size_t n);

 private:
  friend struct Callbacks;

  void write();
  void schedule_write();
  void arm_timer();
  void on_timer();
  // Ends the connection with CONNECTION_CLOSE carrying `ccerr`, then finish().
  void close(const ngtcp2_connection_close_error& ccerr);
  // Forgets the connection: no more packets, timers or writes; handlers see their streams closed.
  void finish();
  bool flush_pending();
  // Sends a run of datagrams; what the socket cannot take waits in pending_ and the connection
  // waits for the socket (false).
  bool send_run(const asio::ip::udp::endpoint& to, const std::uint8_t* data, std::size_t size,
                std::size_t segment);
  int setup_http();
  void maybe_close_drained();

  void start_stream(const std::shared_ptr<Stream>& stream);
  asio::awaitable<void> handle_stream(std::shared_ptr<Connection> self,
                                      std::shared_ptr<Stream> stream);
  asio::awaitable<void> pump_response(std::shared_ptr<Stream> stream);
  bool submit_response(Stream& stream, http::Response& response, bool head_request);
  // The response is out but the request body is not all in: STOP_SENDING, and its unread
  // bytes are given back to the connection's flow-control window.
  void stop_reading(Stream& stream);
  void log_exchange(Stream& stream);

  ConnectionHost& host_;
  h1::SessionEnv env_;
  std::shared_ptr<const Credentials> tls_;
  asio::any_io_executor executor_;
  std::uint64_t id_;
  asio::ip::udp::endpoint local_;
  asio::ip::udp::endpoint remote_;
  asio::steady_timer timer_;

  ngtcp2_conn* conn_ = nullptr;
  gnutls_session_t session_ = nullptr;
  nghttp3_conn* http_ = nullptr;
  ngtcp2_crypto_conn_ref conn_ref_{};
  ngtcp2_connection_close_error last_error_{};
  bool error_set_ = false;        // last_error_ says why the connection fails
  std::vector<ngtcp2_cid> cids_;  // registered with the host
  std::map<std::int64_t, std::shared_ptr<Stream>> streams_;
  // Runs of datagrams the socket could not take yet, oldest first.
  struct PendingRun {
    asio::ip::udp::endpoint to;
    std::vector<std::uint8_t> bytes;
    std::size_t segment = 0;
  };
  std::deque<PendingRun> pending_;
  ngtcp2_tstamp timer_expiry_ = UINT64_MAX;  // what timer_ waits for (UINT64_MAX: nothing)
  http::TlsInfo tls_info_;
  std::size_t running_tasks_ = 0;
  std::uint64_t requests_ = 0;
  bool write_scheduled_ = false;
  bool in_write_ = false;
  bool blocked_ = false;
  bool draining_ = false;  // GOAWAY sent: close when the last request is answered
  bool finished_ = false;
};

}  // namespace rws::h3
