// h3::ClientSession, first half: the QUIC connection, its I/O, timers and callbacks (the
// exchanges are in client_exchange.cpp).
#include "h3/client_session.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/headers.hpp>

#include "core/log.hpp"
#include "h2/signal.hpp"
#include "h3/client_stream.hpp"
#include "h3/datagram_sender.hpp"
#include "h3/nv.hpp"
#include "h3/packet_writer.hpp"
#include "h3/stream_glue.hpp"

namespace rws::h3 {
namespace {

constexpr std::size_t kMaxDatagram = 1452;
constexpr std::size_t kReceiveBuffer = 65536;
// Datagrams read in one go before what they call for is written.
constexpr int kReceiveBatch = 64;
constexpr std::uint64_t kStreamWindow = 1 << 20;
constexpr std::uint64_t kConnectionWindow = 8 << 20;
// Streams this side opens on one connection at most (the server may allow fewer).
constexpr std::size_t kMaxStreamsPerSession = 100;
// Probe timeouts in a row (nothing acknowledged) after which the server is taken for gone: a
// restarted server cannot reset the old connection (its stateless reset key is new).
constexpr std::size_t kMaxProbeTimeouts = 5;
// A response head (or trailer section) larger than this fails the exchange.
constexpr std::size_t kMaxHeaderBytes = 256 * 1024;
// TLS 1.3 only, without the middlebox compatibility mode QUIC forbids (RFC 9001 §8.4).
constexpr const char* kPriority =
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:"
    "+AES-128-CCM:-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1:%DISABLE_TLS13_COMPAT_"
    "MODE";

ngtcp2_tstamp now_ns() {
  return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) {
  return static_cast<ngtcp2_conn*>(ref->user_data);
}

}  // namespace

// ngtcp2's and nghttp3's callbacks, with the session as user data and the stream as stream
// user data.
struct ClientCallbacks {
  static ClientSession& self(void* user_data) { return *static_cast<ClientSession*>(user_data); }
  static ClientSession::Stream* stream_of(void* stream_user_data) {
    return static_cast<ClientSession::Stream*>(stream_user_data);
  }

  // --- ngtcp2 ---

  static void rand(uint8_t* dest, size_t size, const ngtcp2_rand_ctx*) {
    gnutls_rnd(GNUTLS_RND_NONCE, dest, size);
  }

  static int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t cidlen,
                                   void*) {
    cid->datalen = cidlen;
    if (gnutls_rnd(GNUTLS_RND_RANDOM, cid->data, cidlen) != 0 ||
        gnutls_rnd(GNUTLS_RND_RANDOM, token, NGTCP2_STATELESS_RESET_TOKENLEN) != 0) {
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int recv_rx_key(ngtcp2_conn*, ngtcp2_crypto_level level, void* user_data) {
    if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION) return 0;
    return self(user_data).setup_http() == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int handshake_completed(ngtcp2_conn*, void* user_data) {
    ClientSession& s = self(user_data);
    s.handshake_done_ = true;
    s.handshake_wake_->notify();
    return 0;
  }

  static int recv_stream_data(ngtcp2_conn* conn, uint32_t flags, int64_t stream_id, uint64_t,
                              const uint8_t* data, size_t size, void* user_data, void*) {
    ClientSession& s = self(user_data);
    // Body bytes' credit goes back only as the response body is read.
    const nghttp3_ssize consumed =
        feed_stream_data(conn, s.quic_->http, stream_id, flags, data, size);
    if (consumed < 0) {
      s.error_ = std::string("HTTP/3 protocol error from the server: ") +
                 nghttp3_strerror(static_cast<int>(consumed));
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int acked_stream_data_offset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t size,
                                      void* user_data, void*) {
    return acked_stream_data(self(user_data).quic_->http, stream_id, size);
  }

  static int stream_close(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t app_error_code,
                          void* user_data, void*) {
    return close_stream(self(user_data).quic_->http, flags, stream_id, app_error_code);
  }

  static int stream_reset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t, void* user_data,
                          void*) {
    return shutdown_stream_read(self(user_data).quic_->http, stream_id);
  }

  static int stream_stop_sending(ngtcp2_conn*, int64_t stream_id, uint64_t, void* user_data,
                                 void*) {
    return shutdown_stream_read(self(user_data).quic_->http, stream_id);
  }

  static int extend_max_local_streams_bidi(ngtcp2_conn*, uint64_t, void* user_data) {
    for (asio::steady_timer* waiter : self(user_data).credit_waiters_)
      waiter->cancel();
    return 0;
  }

  static int extend_max_stream_data(ngtcp2_conn*, int64_t stream_id, uint64_t, void* user_data,
                                    void*) {
    return unblock_stream(self(user_data).quic_->http, stream_id);
  }

  // --- nghttp3 ---

  static int h3_acked_stream_data(nghttp3_conn*, int64_t, uint64_t size, void*,
                                  void* stream_user_data) {
    if (ClientSession::Stream* s = stream_of(stream_user_data)) {
      s->release(size);
      s->pump_wake->notify();
    }
    return 0;
  }

  static int h3_stream_close(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code,
                             void* user_data, void*) {
    ClientSession& s = self(user_data);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end()) return 0;
    std::shared_ptr<ClientSession::Stream> stream = std::move(it->second);
    s.streams_.erase(it);
    stream->closed = true;
    stream->error_code = app_error_code;
    if (app_error_code == NGHTTP3_H3_REQUEST_REJECTED) stream->rejected = true;
    stream->notify();
    s.stream_finished();
    return 0;
  }

  static int h3_recv_data(nghttp3_conn*, int64_t, const uint8_t* data, size_t size, void*,
                          void* stream_user_data) {
    ClientSession::Stream* s = stream_of(stream_user_data);
    if (s == nullptr) return 0;
    s->body_in.append(reinterpret_cast<const char*>(data), size);
    s->wake->notify();
    return 0;
  }

  static int h3_deferred_consume(nghttp3_conn*, int64_t stream_id, size_t consumed, void* user_data,
                                 void*) {
    ClientSession& s = self(user_data);
    ngtcp2_conn_extend_max_stream_offset(s.quic_->conn, stream_id, consumed);
    ngtcp2_conn_extend_max_offset(s.quic_->conn, consumed);
    return 0;
  }

  static int h3_begin_headers(nghttp3_conn*, int64_t, void*, void* stream_user_data) {
    if (ClientSession::Stream* s = stream_of(stream_user_data)) {
      s->pending_status = 0;
      s->pending_fields.clear();
      s->header_bytes = 0;
    }
    return 0;
  }

  static int h3_recv_header(nghttp3_conn*, int64_t, int32_t, nghttp3_rcbuf* name_buffer,
                            nghttp3_rcbuf* value_buffer, uint8_t, void*, void* stream_user_data) {
    ClientSession::Stream* s = stream_of(stream_user_data);
    if (s == nullptr) return 0;
    const std::string_view name = view(name_buffer);
    const std::string_view value = view(value_buffer);
    s->header_bytes += name.size() + value.size() + 32;
    if (s->header_bytes > kMaxHeaderBytes) {
      if (s->failure.empty()) s->failure = "the backend's response head is too large";
      return 0;
    }
    if (s->in_trailers) {
      s->trailers_in.add(name, value);
    } else if (name == ":status") {
      std::from_chars(value.data(), value.data() + value.size(), s->pending_status);
    } else {
      s->pending_fields.add(name, value);
    }
    return 0;
  }

  static int h3_end_headers(nghttp3_conn*, int64_t, int fin, void* user_data,
                            void* stream_user_data) {
    ClientSession::Stream* s = stream_of(stream_user_data);
    if (s == nullptr) return 0;
    if (!s->failure.empty()) {
      self(user_data).cancel_stream(*s);
      s->notify();
      return 0;
    }
    http::ResponseHead head;
    head.status = s->pending_status;
    head.headers = std::move(s->pending_fields);
    s->pending_fields.clear();
    if (head.status >= 100 && head.status < 200) {
      s->interims.push_back(std::move(head));
    } else {
      s->head = std::move(head);
      s->head_done = true;
    }
    if (fin != 0) s->ended = true;
    s->wake->notify();
    return 0;
  }

  static int h3_begin_trailers(nghttp3_conn*, int64_t, void*, void* stream_user_data) {
    if (ClientSession::Stream* s = stream_of(stream_user_data)) {
      s->in_trailers = true;
      s->header_bytes = 0;
    }
    return 0;
  }

  static int h3_end_trailers(nghttp3_conn*, int64_t, int, void* user_data, void* stream_user_data) {
    ClientSession::Stream* s = stream_of(stream_user_data);
    if (s != nullptr && !s->failure.empty()) {
      self(user_data).cancel_stream(*s);
      s->notify();
    }
    return 0;
  }

  static int h3_end_stream(nghttp3_conn*, int64_t, void*, void* stream_user_data) {
    if (ClientSession::Stream* s = stream_of(stream_user_data)) {
      s->ended = true;
      s->wake->notify();
    }
    return 0;
  }

  static int h3_stop_sending(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code,
                             void* user_data, void*) {
    return stop_sending(self(user_data).quic_->conn, stream_id, app_error_code);
  }

  static int h3_reset_stream(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code,
                             void* user_data, void*) {
    return reset_stream(self(user_data).quic_->conn, stream_id, app_error_code);
  }

  // GOAWAY: streams from `id` on will not be processed; they may go elsewhere.
  static int h3_shutdown(nghttp3_conn*, int64_t id, void* user_data) {
    ClientSession& s = self(user_data);
    s.goaway_id_ = id;
    for (auto& [stream_id, stream] : s.streams_) {
      if (stream_id < id || stream->rejected) continue;
      stream->rejected = true;
      if (stream->failure.empty()) {
        stream->failure = "backend " + s.name_ +
                          " is shutting down (GOAWAY) and did not take "
                          "the request";
      }
      s.cancel_stream(*stream);
      stream->notify();
    }
    return 0;
  }
};

ClientSession::ClientSession(const asio::any_io_executor& executor, const ClientTarget& target)
    : executor_(executor),
      socket_(executor),
      timer_(executor),
      idle_timeout_(target.idle_timeout),
      name_(target.name),
      quic_(std::make_unique<Quic>()),
      registry_(net::ConnectionRegistry::current()),
      handshake_wake_(std::make_unique<h2::Signal>(executor)) {
  if (registry_ != nullptr) registry_->add(*this);
}

ClientSession::~ClientSession() {
  leave_registry();
}

std::string ClientSession::init(const ClientTarget& target) {
  Quic& q = *quic_;
  q.credentials = target.credentials;
  if (gnutls_init(&q.tls, GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA) !=
          0 ||
      gnutls_priority_set_direct(q.tls, kPriority, nullptr) != 0 ||
      ngtcp2_crypto_gnutls_configure_client_session(q.tls) != 0 ||
      gnutls_credentials_set(q.tls, GNUTLS_CRD_CERTIFICATE, q.credentials->native()) != 0) {
    return "cannot set up TLS";
  }
  static const char kAlpn[] = "h3";
  gnutls_datum_t alpn{reinterpret_cast<unsigned char*>(const_cast<char*>(kAlpn)), 2};
  gnutls_alpn_set_protocols(q.tls, &alpn, 1, GNUTLS_ALPN_MANDATORY);
  asio::error_code not_ip;
  asio::ip::make_address(target.server_name, not_ip);
  if (not_ip) {
    gnutls_server_name_set(q.tls, GNUTLS_NAME_DNS, target.server_name.data(),
                           target.server_name.size());
  }
  q.verify_name = target.server_name;
  if (q.credentials->verify()) gnutls_session_set_verify_cert(q.tls, q.verify_name.c_str(), 0);
  q.conn_ref.get_conn = get_conn;
  gnutls_session_set_ptr(q.tls, &q.conn_ref);

  ngtcp2_cid dcid;
  ngtcp2_cid scid;
  dcid.datalen = NGTCP2_MIN_INITIAL_DCIDLEN + 2;
  scid.datalen = 16;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
    return "no randomness";
  }
  const asio::ip::udp::endpoint local = socket_.local_endpoint();
  ngtcp2_path_storage_init(&q.path, local.data(), local.size(), target.remote.data(),
                           target.remote.size(), nullptr);

  ngtcp2_callbacks callbacks{};
  callbacks.client_initial = ngtcp2_crypto_client_initial_cb;
  callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  callbacks.encrypt = ngtcp2_crypto_encrypt_cb;
  callbacks.decrypt = ngtcp2_crypto_decrypt_cb;
  callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb;
  callbacks.recv_retry = ngtcp2_crypto_recv_retry_cb;
  callbacks.update_key = ngtcp2_crypto_update_key_cb;
  callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  callbacks.rand = ClientCallbacks::rand;
  callbacks.get_new_connection_id = ClientCallbacks::get_new_connection_id;
  callbacks.recv_rx_key = ClientCallbacks::recv_rx_key;
  callbacks.handshake_completed = ClientCallbacks::handshake_completed;
  callbacks.recv_stream_data = ClientCallbacks::recv_stream_data;
  callbacks.acked_stream_data_offset = ClientCallbacks::acked_stream_data_offset;
  callbacks.stream_close = ClientCallbacks::stream_close;
  callbacks.stream_reset = ClientCallbacks::stream_reset;
  callbacks.stream_stop_sending = ClientCallbacks::stream_stop_sending;
  callbacks.extend_max_stream_data = ClientCallbacks::extend_max_stream_data;
  callbacks.extend_max_local_streams_bidi = ClientCallbacks::extend_max_local_streams_bidi;
  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns();
  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = kStreamWindow;
  params.initial_max_stream_data_uni = kStreamWindow;
  params.initial_max_data = kConnectionWindow;
  params.initial_max_streams_uni = 3;
  // QUIC's own idle timeout outlasts ours, so an idle session ends with a CONNECTION_CLOSE.
  params.max_idle_timeout =
      static_cast<ngtcp2_duration>(idle_timeout_.count() + 5) * NGTCP2_SECONDS;
  if (ngtcp2_conn_client_new(&q.conn, &dcid, &scid, &q.path.path, NGTCP2_PROTO_VER_V1, &callbacks,
                             &settings, &params, nullptr, this) != 0) {
    return "cannot set up QUIC";
  }
  q.conn_ref.user_data = q.conn;
  ngtcp2_conn_set_tls_native_handle(q.conn, q.tls);
  return {};
}

int ClientSession::setup_http() {
  nghttp3_callbacks callbacks{};
  callbacks.acked_stream_data = ClientCallbacks::h3_acked_stream_data;
  callbacks.stream_close = ClientCallbacks::h3_stream_close;
  callbacks.recv_data = ClientCallbacks::h3_recv_data;
  callbacks.deferred_consume = ClientCallbacks::h3_deferred_consume;
  callbacks.begin_headers = ClientCallbacks::h3_begin_headers;
  callbacks.recv_header = ClientCallbacks::h3_recv_header;
  callbacks.end_headers = ClientCallbacks::h3_end_headers;
  callbacks.begin_trailers = ClientCallbacks::h3_begin_trailers;
  callbacks.recv_trailer = ClientCallbacks::h3_recv_header;
  callbacks.end_trailers = ClientCallbacks::h3_end_trailers;
  callbacks.end_stream = ClientCallbacks::h3_end_stream;
  callbacks.stop_sending = ClientCallbacks::h3_stop_sending;
  callbacks.reset_stream = ClientCallbacks::h3_reset_stream;
  callbacks.shutdown = ClientCallbacks::h3_shutdown;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  Quic& q = *quic_;
  if (nghttp3_conn_client_new(&q.http, &callbacks, &settings, nghttp3_mem_default(), this) != 0) {
    return -1;
  }
  std::int64_t control = 0;
  std::int64_t encoder = 0;
  std::int64_t decoder = 0;
  if (ngtcp2_conn_open_uni_stream(q.conn, &control, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(q.http, control) != 0 ||
      ngtcp2_conn_open_uni_stream(q.conn, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(q.conn, &decoder, nullptr) != 0 ||
      nghttp3_conn_bind_qpack_streams(q.http, encoder, decoder) != 0) {
    return -1;
  }
  return 0;
}

asio::awaitable<Result<std::shared_ptr<ClientSession>>> ClientSession::connect(
    const ClientTarget& target) {
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  std::shared_ptr<ClientSession> s(new ClientSession(executor, target));
  asio::error_code ec;
  s->socket_.connect(target.remote, ec);
  if (!ec) s->socket_.non_blocking(true, ec);
  if (ec) {
    s->finish();
    co_return upstream_error(Errc::kClosed, true,
                             "cannot reach " + target.name + " over UDP: " + ec.message());
  }
  if (std::string problem = s->init(target); !problem.empty()) {
    s->finish();
    co_return upstream_error(Errc::kInvalidArgument, true, problem + " for " + target.name);
  }
  asio::co_spawn(executor, s->read_loop(s), asio::detached);
  s->write();
  const auto deadline = net::Clock::now() + target.handshake_timeout;
  while (!s->handshake_done_ && !s->finished_) {
    if (!co_await s->handshake_wake_->wait_until(deadline)) break;
  }
  if (!s->handshake_done_ || s->finished_) {
    std::string why = s->error_.empty()
                          ? "no QUIC handshake with " + target.name + " in time"
                          : "QUIC handshake with " + target.name + " failed: " + s->error_;
    s->close_with("");
    co_return upstream_error(s->error_.empty() ? Errc::kTimeout : Errc::kClosed, true,
                             std::move(why));
  }
  // Opened while the worker drains (a request still in flight needed it): it ends with its
  // last stream.
  s->draining_ = s->registry_ != nullptr && s->registry_->draining();
  s->update_deadline();
  co_return s;
}

bool ClientSession::can_take_stream() const noexcept {
  return !dead() && handshake_done_ && !draining_ && goaway_id_ < 0 && quic_->http != nullptr &&
         streams_.size() < kMaxStreamsPerSession &&
         (ngtcp2_conn_get_streams_bidi_left(quic_->conn) > 0 || !streams_.empty());
}

asio::awaitable<void> ClientSession::read_loop(
    [[maybe_unused]] std::shared_ptr<ClientSession> keep_alive) {
  std::vector<std::uint8_t> buffer(kReceiveBuffer);
  while (!finished_) {
    auto [ec, n] = co_await socket_.async_receive(asio::buffer(buffer), kUseTuple);
    if (finished_) break;
    for (int batch = 0; !ec && !finished_; ++batch) {
      on_datagram(buffer.data(), n);
      if (batch + 1 == kReceiveBatch) break;
      n = socket_.receive(asio::buffer(buffer), 0, ec);
    }
    if (ec && ec != asio::error::would_block && !finished_) {
      error_ = ec == asio::error::connection_refused
                   ? "nothing answers on UDP at " + name_ + " (port unreachable)"
                   : "receiving from " + name_ + ": " + ec.message();
      finish();
      break;
    }
    write();
  }
}

void ClientSession::on_datagram(const std::uint8_t* data, std::size_t size) {
  Quic& q = *quic_;
  ngtcp2_pkt_info info{};
  const int rv = ngtcp2_conn_read_pkt(q.conn, &q.path.path, &info, data, size, now_ns());
  if (rv == 0) return;
  if (rv == NGTCP2_ERR_DRAINING) {
    ngtcp2_connection_close_error ccerr;
    ngtcp2_conn_get_connection_close_error(q.conn, &ccerr);
    if (error_.empty()) {
      error_ = "backend " + name_ + " closed the connection";
      if (ccerr.error_code != 0) error_ += " (error " + hex(ccerr.error_code) + ")";
    }
    closing_ = true;
    finish();
    return;
  }
  ngtcp2_connection_close_error ccerr;
  ngtcp2_connection_close_error_set_transport_error_liberr(&ccerr, rv, nullptr, 0);
  if (rv == NGTCP2_ERR_CRYPTO) {
    const char* alert = gnutls_alert_get_name(gnutls_alert_get(q.tls));
    error_ = std::string("TLS handshake failed: ") + (alert != nullptr ? alert : "no alert");
    if (const unsigned status = gnutls_session_get_verify_cert_status(q.tls); status != 0) {
      gnutls_datum_t text{};
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
        error_ = "certificate verification failed: " +
                 std::string(reinterpret_cast<const char*>(text.data), text.size);
        gnutls_free(text.data);
      }
    }
  } else if (error_.empty()) {
    error_ = std::string("QUIC: ") + ngtcp2_strerror(rv);
  }
  std::array<std::uint8_t, kMaxDatagram> buffer;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(q.conn, &ps.path, &info, buffer.data(),
                                                            buffer.size(), &ccerr, now_ns());
  asio::error_code ignored;
  if (n > 0) socket_.send(asio::buffer(buffer.data(), static_cast<std::size_t>(n)), 0, ignored);
  closing_ = true;
  finish();
}

void ClientSession::schedule_write() {
  if (write_scheduled_ || finished_) return;
  write_scheduled_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->write_scheduled_ = false;
    self->write();
  });
}

void ClientSession::wait_writable() {
  blocked_ = true;
  socket_.async_wait(asio::socket_base::wait_write,
                     [weak = weak_from_this()](const std::error_code& ec) {
                       std::shared_ptr<ClientSession> self = weak.lock();
                       if (!self || ec) return;
                       self->blocked_ = false;
                       self->write();
                     });
}

void ClientSession::write() {
  Quic& q = *quic_;
  if (finished_ || blocked_ || in_write_ || ngtcp2_conn_is_in_closing_period(q.conn) != 0 ||
      ngtcp2_conn_is_in_draining_period(q.conn) != 0) {
    return;
  }
  in_write_ = true;
  if (!q.pending.empty()) {
    if (!send_run(q.pending.data(), q.pending.size(), q.pending_segment)) {
      in_write_ = false;
      return;
    }
  }
  // Datagrams are gathered into runs (same size but the last) sent with one system call each.
  std::array<std::uint8_t, kMaxRunBytes> buffer;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  const ngtcp2_tstamp ts = now_ns();
  const std::size_t max_size = std::clamp<std::size_t>(
      ngtcp2_conn_get_path_max_tx_udp_payload_size(q.conn), 1, kMaxDatagram);
  const std::size_t max_packets =
      std::max<std::size_t>(1, ngtcp2_conn_get_send_quantum(q.conn) / max_size);
  const std::size_t max_run = std::min(kMaxRunDatagrams, buffer.size() / max_size);
  std::size_t run = 0;  // bytes of the run at the start of buffer
  std::size_t run_count = 0;
  std::size_t segment = 0;
  std::size_t packets = 0;
  bool sending = true;  // false once the socket is full or failed
  while (packets < max_packets && sending) {
    std::uint8_t* out = buffer.data() + run;
    const NextPacket next = write_next_packet(q.conn, q.http, &ps.path, &info, out, max_size, ts);
    if (next.failed) {
      in_write_ = false;
      close_with(next.http_error != 0 ? std::string("HTTP/3: ") + nghttp3_strerror(next.http_error)
                                      : std::string("QUIC: ") + ngtcp2_strerror(next.quic_error));
      return;
    }
    if (next.size == 0) break;
    ++packets;
    if (run_count > 0 && next.size > segment) {
      // This datagram cannot join the run: the run goes first, the datagram starts the next.
      sending = send_run(buffer.data(), run, segment);
      if (!sending) break;  // it is lost, like a datagram dropped on the way
      std::memmove(buffer.data(), out, next.size);
      run = 0;
      run_count = 0;
    }
    if (run_count == 0) segment = next.size;
    run += next.size;
    ++run_count;
    if (next.size < segment || run_count == max_run) {  // a shorter datagram ends a run
      sending = send_run(buffer.data(), run, segment);
      run = 0;
      run_count = 0;
    }
  }
  if (run_count > 0 && sending) sending = send_run(buffer.data(), run, segment);
  if (finished_) {
    in_write_ = false;
    return;
  }
  in_write_ = false;
  // Pacing only once the handshake is done (PLATFORM-NOTES "pacing quirk" of ngtcp2 0.12).
  if (ngtcp2_conn_get_handshake_completed(q.conn) != 0) {
    ngtcp2_conn_update_pkt_tx_time(q.conn, ts);
  } else if (packets == max_packets) {
    schedule_write();
  }
  arm_timer();
}

bool ClientSession::send_run(const std::uint8_t* data, std::size_t size, std::size_t segment) {
  Quic& q = *quic_;
  const SendResult r = q.sender.send(socket_.native_handle(), nullptr, 0, data, size, segment);
  if (r.sent == size) {
    q.pending.clear();
    return true;
  }
  if (r.error == std::errc::operation_would_block ||
      r.error == std::errc::resource_unavailable_try_again) {
    // Copied first: `data` may be q.pending itself.
    std::vector<std::uint8_t> rest(data + r.sent, data + size);
    q.pending = std::move(rest);
    q.pending_segment = segment;
    wait_writable();
    return false;
  }
  q.pending.clear();
  error_ = r.error == std::errc::connection_refused
               ? "nothing answers on UDP at " + name_ + " (port unreachable)"
               : "sending to " + name_ + ": " + r.error.message();
  finish();
  return false;
}

void ClientSession::arm_timer() {
  if (finished_) return;
  const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(quic_->conn);
  if (expiry == UINT64_MAX) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(expiry)));
  timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (std::shared_ptr<ClientSession> self = weak.lock()) self->on_timer();
  });
}

void ClientSession::on_timer() {
  if (finished_) return;
  const int rv = ngtcp2_conn_handle_expiry(quic_->conn, now_ns());
  if (rv == NGTCP2_ERR_IDLE_CLOSE) {
    if (error_.empty()) error_ = "the QUIC connection to " + name_ + " went idle";
    finish();
    return;
  }
  if (rv != 0) {
    close_with(std::string("QUIC: ") + ngtcp2_strerror(rv));
    return;
  }
  ngtcp2_conn_stat stat;
  ngtcp2_conn_get_conn_stat(quic_->conn, &stat);
  if (stat.pto_count >= kMaxProbeTimeouts) {
    close_with("backend " + name_ + " stopped answering (" + std::to_string(stat.pto_count) +
               " probe timeouts in a row)");
    return;
  }
  write();
}

void ClientSession::stream_finished() {
  if (streams_.empty() && (goaway_id_ >= 0 || draining_) && !closing_) {
    // Nothing left to wait for: say goodbye.
    close_with("");
    return;
  }
  update_deadline();
}

void ClientSession::update_deadline() {
  deadline = streams_.empty() ? net::Clock::now() + idle_timeout_ : net::Clock::time_point::max();
}

void ClientSession::on_deadline() noexcept {
  // Idle for idle_timeout (with streams open the exchanges time themselves).
  if (streams_.empty()) close_with("");
}

void ClientSession::on_drain() noexcept {
  draining_ = true;
  if (streams_.empty()) close_with("");
}

void ClientSession::on_abort() noexcept {
  close_with("the connection to " + name_ + " was closed: the server shuts down");
}

void ClientSession::close() noexcept {
  close_with("the connection to " + name_ + " was closed");
}

void ClientSession::close_with(std::string error) noexcept {
  if (finished_) return;
  if (!error.empty() && error_.empty()) error_ = std::move(error);
  Quic& q = *quic_;
  if (q.conn != nullptr && !closing_ && ngtcp2_conn_is_in_closing_period(q.conn) == 0 &&
      ngtcp2_conn_is_in_draining_period(q.conn) == 0) {
    std::array<std::uint8_t, kMaxDatagram> buffer;
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info info{};
    ngtcp2_connection_close_error ccerr;
    ngtcp2_connection_close_error_set_application_error(&ccerr, NGHTTP3_H3_NO_ERROR, nullptr, 0);
    const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(
        q.conn, &ps.path, &info, buffer.data(), buffer.size(), &ccerr, now_ns());
    asio::error_code ignored;
    if (n > 0) socket_.send(asio::buffer(buffer.data(), static_cast<std::size_t>(n)), 0, ignored);
  }
  closing_ = true;
  finish();
}

void ClientSession::finish() noexcept {
  if (finished_) return;
  finished_ = true;
  closing_ = true;
  timer_.cancel();
  asio::error_code ignored;
  socket_.close(ignored);
  if (!streams_.empty()) log::http().debug("h3 upstream {}: {}", name_, error_);
  // Failing a stream may run code that looks at the map: take it first.
  std::map<std::int64_t, std::shared_ptr<Stream>> streams;
  streams.swap(streams_);
  for (auto& [id, stream] : streams) {
    stream->closed = true;
    if (stream->failure.empty() && !stream->ended) {
      stream->failure = error_.empty() ? "the connection to " + name_ + " ended" : error_;
    }
    stream->notify();
  }
  handshake_wake_->notify();
  for (asio::steady_timer* waiter : credit_waiters_)
    waiter->cancel();
  leave_registry();
}

void ClientSession::leave_registry() noexcept {
  if (registry_ == nullptr) return;
  registry_->remove(*this);
  registry_ = nullptr;
}

}  // namespace rws::h3
