#include "h3/client.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <array>
#include <charconv>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "h3/packet_writer.hpp"

namespace rws::h3 {
namespace {

constexpr std::size_t kMaxDatagram = 1452;
constexpr std::uint64_t kStreamWindow = 1 << 20;
constexpr std::uint64_t kConnectionWindow = 4 << 20;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
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

nghttp3_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp3_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP3_NV_FLAG_NONE};
}

Unexpected<Error> failure(Errc code, std::string what) {
  return fail(code, ErrorSide::kUpstream, std::move(what));
}

// One connection carrying one request: the state ngtcp2's and nghttp3's callbacks work on.
class Exchange {
 public:
  Exchange(asio::ip::udp::socket& socket, const ClientRequest& request,
           const std::function<void(std::string_view)>& sink)
      : socket_(socket), request_(request), sink_(sink) {}

  ~Exchange() {
    if (http_ != nullptr) nghttp3_conn_del(http_);
    if (conn_ != nullptr) ngtcp2_conn_del(conn_);
    if (session_ != nullptr) gnutls_deinit(session_);
    if (credentials_ != nullptr) gnutls_certificate_free_credentials(credentials_);
  }

  // The error, or nothing when the connection is set up.
  std::optional<std::string> init(const ClientTls& tls);
  // Feeds one datagram; false when the connection failed.
  bool on_datagram(const std::uint8_t* data, std::size_t size);
  bool on_expiry();
  // Sends what ngtcp2 and nghttp3 have; false when the connection failed.
  bool write();
  ngtcp2_tstamp expiry() const { return ngtcp2_conn_get_expiry(conn_); }
  void close();

  bool done() const { return stream_closed_; }
  const std::string& error() const { return error_; }
  ClientResponse& response() { return response_; }
  bool complete() const { return ended_ && response_.status >= 200; }

 private:
  friend struct ClientCallbacks;
  int setup_http();
  int submit();

  asio::ip::udp::socket& socket_;
  const ClientRequest& request_;
  const std::function<void(std::string_view)>& sink_;
  gnutls_certificate_credentials_t credentials_ = nullptr;
  gnutls_session_t session_ = nullptr;
  ngtcp2_conn* conn_ = nullptr;
  nghttp3_conn* http_ = nullptr;
  ngtcp2_crypto_conn_ref conn_ref_{};
  ngtcp2_path_storage path_{};
  std::string verify_name_;
  std::int64_t stream_id_ = -1;
  std::size_t body_sent_ = 0;
  bool in_trailers_ = false;
  bool ended_ = false;
  bool stream_closed_ = false;
  ClientResponse response_;
  std::string error_;
};

struct ClientCallbacks {
  static Exchange& self(void* user_data) { return *static_cast<Exchange*>(user_data); }

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
    Exchange& e = self(user_data);
    return e.setup_http() == 0 && e.submit() == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int recv_stream_data(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t,
                              const uint8_t* data, size_t datalen, void* user_data, void*) {
    Exchange& e = self(user_data);
    const nghttp3_ssize n = nghttp3_conn_read_stream(e.http_, stream_id, data, datalen,
                                                     (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
    if (n < 0) return NGTCP2_ERR_CALLBACK_FAILURE;
    ngtcp2_conn_extend_max_stream_offset(e.conn_, stream_id, static_cast<std::uint64_t>(n));
    ngtcp2_conn_extend_max_offset(e.conn_, static_cast<std::uint64_t>(n));
    return 0;
  }

  static int acked_stream_data_offset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t datalen,
                                      void* user_data, void*) {
    Exchange& e = self(user_data);
    return nghttp3_conn_add_ack_offset(e.http_, stream_id, datalen) == 0
               ? 0
               : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int stream_close(ngtcp2_conn*, uint32_t flags, int64_t stream_id, uint64_t app_error_code,
                          void* user_data, void*) {
    Exchange& e = self(user_data);
    if ((flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) == 0) {
      app_error_code = NGHTTP3_H3_NO_ERROR;
    }
    if (e.http_ == nullptr) return 0;
    const int rv = nghttp3_conn_close_stream(e.http_, stream_id, app_error_code);
    return rv == 0 || rv == NGHTTP3_ERR_STREAM_NOT_FOUND ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int stream_reset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t, void* user_data,
                          void*) {
    Exchange& e = self(user_data);
    return nghttp3_conn_shutdown_stream_read(e.http_, stream_id) == 0 ? 0
                                                                      : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int extend_max_stream_data(ngtcp2_conn*, int64_t stream_id, uint64_t, void* user_data,
                                    void*) {
    Exchange& e = self(user_data);
    return nghttp3_conn_unblock_stream(e.http_, stream_id) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  // --- nghttp3 ---

  static int h3_acked_stream_data(nghttp3_conn*, int64_t, uint64_t, void*, void*) { return 0; }

  static int h3_stream_close(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code,
                             void* user_data, void*) {
    Exchange& e = self(user_data);
    if (stream_id != e.stream_id_) return 0;
    e.stream_closed_ = true;
    if (!e.complete()) {
      e.error_ = "the server closed the request stream (HTTP/3 error " +
                 std::to_string(app_error_code) + ") before the response ended";
    }
    return 0;
  }

  static int h3_recv_data(nghttp3_conn*, int64_t stream_id, const uint8_t* data, size_t datalen,
                          void* user_data, void*) {
    Exchange& e = self(user_data);
    e.sink_(std::string_view(reinterpret_cast<const char*>(data), datalen));
    ngtcp2_conn_extend_max_stream_offset(e.conn_, stream_id, datalen);
    ngtcp2_conn_extend_max_offset(e.conn_, datalen);
    return 0;
  }

  static int h3_deferred_consume(nghttp3_conn*, int64_t stream_id, size_t consumed, void* user_data,
                                 void*) {
    Exchange& e = self(user_data);
    ngtcp2_conn_extend_max_stream_offset(e.conn_, stream_id, consumed);
    ngtcp2_conn_extend_max_offset(e.conn_, consumed);
    return 0;
  }

  static int h3_begin_headers(nghttp3_conn*, int64_t, void* user_data, void*) {
    Exchange& e = self(user_data);
    // An interim (1xx) head is replaced by the next one.
    e.response_.status = 0;
    e.response_.headers.clear();
    return 0;
  }

  static int h3_recv_header(nghttp3_conn*, int64_t, int32_t, nghttp3_rcbuf* name,
                            nghttp3_rcbuf* value, uint8_t, void* user_data, void*) {
    Exchange& e = self(user_data);
    const nghttp3_vec n = nghttp3_rcbuf_get_buf(name);
    const nghttp3_vec v = nghttp3_rcbuf_get_buf(value);
    std::string_view field_name(reinterpret_cast<const char*>(n.base), n.len);
    std::string_view field_value(reinterpret_cast<const char*>(v.base), v.len);
    if (e.in_trailers_) {
      e.response_.trailers.add(field_name, field_value);
    } else if (field_name == ":status") {
      std::from_chars(field_value.data(), field_value.data() + field_value.size(),
                      e.response_.status);
    } else {
      e.response_.headers.add(field_name, field_value);
    }
    return 0;
  }

  static int h3_begin_trailers(nghttp3_conn*, int64_t, void* user_data, void*) {
    self(user_data).in_trailers_ = true;
    return 0;
  }

  static int h3_end_stream(nghttp3_conn*, int64_t stream_id, void* user_data, void*) {
    Exchange& e = self(user_data);
    if (stream_id == e.stream_id_) e.ended_ = true;
    return 0;
  }

  static nghttp3_ssize read_body(nghttp3_conn*, int64_t, nghttp3_vec* vec, size_t veccnt,
                                 uint32_t* pflags, void* user_data, void*) {
    Exchange& e = self(user_data);
    const std::string& body = *e.request_.body;
    *pflags |= NGHTTP3_DATA_FLAG_EOF;
    if (veccnt == 0 || e.body_sent_ == body.size()) return 0;
    vec[0].base = reinterpret_cast<uint8_t*>(const_cast<char*>(body.data()));
    vec[0].len = body.size();
    e.body_sent_ = body.size();
    return 1;
  }
};

ngtcp2_conn* get_conn(ngtcp2_crypto_conn_ref* ref) {
  return static_cast<ngtcp2_conn*>(ref->user_data);
}

std::optional<std::string> Exchange::init(const ClientTls& tls) {
  if (gnutls_certificate_allocate_credentials(&credentials_) != 0) return "out of memory";
  if (tls.verify) {
    const int loaded = tls.ca_file.empty()
                           ? gnutls_certificate_set_x509_system_trust(credentials_)
                           : gnutls_certificate_set_x509_trust_file(
                                 credentials_, tls.ca_file.c_str(), GNUTLS_X509_FMT_PEM);
    if (loaded <= 0) {
      return tls.ca_file.empty() ? std::string("the system's trust store cannot be loaded")
                                 : "CA file '" + tls.ca_file + "' cannot be used";
    }
  }
  if (gnutls_init(&session_,
                  GNUTLS_CLIENT | GNUTLS_ENABLE_EARLY_DATA | GNUTLS_NO_END_OF_EARLY_DATA) != 0 ||
      gnutls_priority_set_direct(session_, kPriority, nullptr) != 0 ||
      ngtcp2_crypto_gnutls_configure_client_session(session_) != 0 ||
      gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, credentials_) != 0) {
    return "cannot set up TLS";
  }
  static const char kAlpn[] = "h3";
  gnutls_datum_t alpn{reinterpret_cast<unsigned char*>(const_cast<char*>(kAlpn)), 2};
  gnutls_alpn_set_protocols(session_, &alpn, 1, GNUTLS_ALPN_MANDATORY);
  asio::error_code ec;
  asio::ip::make_address(tls.server_name, ec);
  const bool ip = !ec;
  if (!ip) {
    gnutls_server_name_set(session_, GNUTLS_NAME_DNS, tls.server_name.data(),
                           tls.server_name.size());
  }
  verify_name_ = tls.server_name;
  if (tls.verify) gnutls_session_set_verify_cert(session_, verify_name_.c_str(), 0);
  conn_ref_.get_conn = get_conn;
  gnutls_session_set_ptr(session_, &conn_ref_);

  ngtcp2_cid dcid;
  ngtcp2_cid scid;
  dcid.datalen = NGTCP2_MIN_INITIAL_DCIDLEN + 2;
  scid.datalen = 16;
  if (gnutls_rnd(GNUTLS_RND_RANDOM, dcid.data, dcid.datalen) != 0 ||
      gnutls_rnd(GNUTLS_RND_RANDOM, scid.data, scid.datalen) != 0) {
    return "no randomness";
  }
  const asio::ip::udp::endpoint local = socket_.local_endpoint();
  const asio::ip::udp::endpoint remote = socket_.remote_endpoint();
  ngtcp2_path_storage_init(&path_, local.data(), local.size(), remote.data(), remote.size(),
                           nullptr);

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
  callbacks.recv_stream_data = ClientCallbacks::recv_stream_data;
  callbacks.acked_stream_data_offset = ClientCallbacks::acked_stream_data_offset;
  callbacks.stream_close = ClientCallbacks::stream_close;
  callbacks.stream_reset = ClientCallbacks::stream_reset;
  callbacks.extend_max_stream_data = ClientCallbacks::extend_max_stream_data;
  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns();
  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = kStreamWindow;
  params.initial_max_stream_data_uni = kStreamWindow;
  params.initial_max_data = kConnectionWindow;
  params.initial_max_streams_uni = 3;
  params.max_idle_timeout = 30ULL * NGTCP2_SECONDS;
  if (ngtcp2_conn_client_new(&conn_, &dcid, &scid, &path_.path, NGTCP2_PROTO_VER_V1, &callbacks,
                             &settings, &params, nullptr, this) != 0) {
    return "cannot set up QUIC";
  }
  conn_ref_.user_data = conn_;
  ngtcp2_conn_set_tls_native_handle(conn_, session_);
  return std::nullopt;
}

int Exchange::setup_http() {
  nghttp3_callbacks callbacks{};
  callbacks.acked_stream_data = ClientCallbacks::h3_acked_stream_data;
  callbacks.stream_close = ClientCallbacks::h3_stream_close;
  callbacks.recv_data = ClientCallbacks::h3_recv_data;
  callbacks.deferred_consume = ClientCallbacks::h3_deferred_consume;
  callbacks.begin_headers = ClientCallbacks::h3_begin_headers;
  callbacks.recv_header = ClientCallbacks::h3_recv_header;
  callbacks.begin_trailers = ClientCallbacks::h3_begin_trailers;
  callbacks.recv_trailer = ClientCallbacks::h3_recv_header;
  callbacks.end_stream = ClientCallbacks::h3_end_stream;
  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  if (nghttp3_conn_client_new(&http_, &callbacks, &settings, nghttp3_mem_default(), this) != 0) {
    return -1;
  }
  std::int64_t control = 0;
  std::int64_t encoder = 0;
  std::int64_t decoder = 0;
  if (ngtcp2_conn_open_uni_stream(conn_, &control, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(http_, control) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &decoder, nullptr) != 0 ||
      nghttp3_conn_bind_qpack_streams(http_, encoder, decoder) != 0) {
    return -1;
  }
  return 0;
}

int Exchange::submit() {
  if (ngtcp2_conn_open_bidi_stream(conn_, &stream_id_, nullptr) != 0) return -1;
  std::vector<nghttp3_nv> nva;
  nva.reserve(request_.fields.size() + 5);
  nva.push_back(make_nv(":method", request_.method));
  nva.push_back(make_nv(":scheme", "https"));
  nva.push_back(make_nv(":authority", request_.authority));
  nva.push_back(make_nv(":path", request_.path));
  std::string length;
  if (request_.body) {
    length = std::to_string(request_.body->size());
    nva.push_back(make_nv("content-length", length));
  }
  for (const auto& [name, value] : request_.fields)
    nva.push_back(make_nv(name, value));
  nghttp3_data_reader reader{ClientCallbacks::read_body};
  return nghttp3_conn_submit_request(http_, stream_id_, nva.data(), nva.size(),
                                     request_.body ? &reader : nullptr, nullptr);
}

bool Exchange::on_datagram(const std::uint8_t* data, std::size_t size) {
  ngtcp2_pkt_info info{};
  const int rv = ngtcp2_conn_read_pkt(conn_, &path_.path, &info, data, size, now_ns());
  if (rv == 0) return true;
  if (rv == NGTCP2_ERR_DRAINING) {
    if (!complete()) error_ = "the server closed the connection";
    stream_closed_ = true;
    return true;
  }
  if (rv == NGTCP2_ERR_CRYPTO) {
    const gnutls_alert_description_t alert = gnutls_alert_get(session_);
    error_ = std::string("TLS handshake failed: ") + gnutls_alert_get_name(alert);
    const unsigned status = gnutls_session_get_verify_cert_status(session_);
    if (status != 0) {
      gnutls_datum_t text{};
      if (gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509, &text, 0) == 0) {
        error_ = "certificate verification failed: " +
                 std::string(reinterpret_cast<const char*>(text.data), text.size);
        gnutls_free(text.data);
      }
    }
    return false;
  }
  error_ = std::string("QUIC: ") + ngtcp2_strerror(rv);
  return false;
}

bool Exchange::on_expiry() {
  const int rv = ngtcp2_conn_handle_expiry(conn_, now_ns());
  if (rv != 0) {
    error_ = rv == NGTCP2_ERR_IDLE_CLOSE ? "the connection went idle (no answer)"
                                         : std::string("QUIC: ") + ngtcp2_strerror(rv);
    return false;
  }
  return true;
}

bool Exchange::write() {
  std::array<std::uint8_t, kMaxDatagram> buffer;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  const ngtcp2_tstamp ts = now_ns();
  for (;;) {
    const NextPacket next =
        write_next_packet(conn_, http_, &ps.path, &info, buffer.data(), buffer.size(), ts);
    if (next.failed) {
      error_ = next.http_error != 0 ? std::string("HTTP/3: ") + nghttp3_strerror(next.http_error)
                                    : std::string("QUIC: ") + ngtcp2_strerror(next.quic_error);
      return false;
    }
    const std::size_t n = next.size;
    if (n == 0) break;
    asio::error_code ec;
    socket_.send(asio::buffer(buffer.data(), n), 0, ec);
    // A datagram the socket could not take is lost like one on the wire: QUIC resends.
  }
  if (ngtcp2_conn_get_handshake_completed(conn_) != 0) ngtcp2_conn_update_pkt_tx_time(conn_, ts);
  return true;
}

void Exchange::close() {
  if (conn_ == nullptr || ngtcp2_conn_is_in_closing_period(conn_) ||
      ngtcp2_conn_is_in_draining_period(conn_)) {
    return;
  }
  std::array<std::uint8_t, kMaxDatagram> buffer;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  ngtcp2_connection_close_error ccerr;
  ngtcp2_connection_close_error_set_application_error(&ccerr, NGHTTP3_H3_NO_ERROR, nullptr, 0);
  const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn_, &ps.path, &info, buffer.data(),
                                                            buffer.size(), &ccerr, now_ns());
  if (n > 0) {
    asio::error_code ec;
    socket_.send(asio::buffer(buffer.data(), static_cast<std::size_t>(n)), 0, ec);
  }
}

}  // namespace

asio::awaitable<Result<ClientResponse>> fetch(const asio::ip::udp::endpoint& remote,
                                              const ClientTls& tls, const ClientRequest& request,
                                              const std::function<void(std::string_view)>& sink,
                                              std::chrono::milliseconds timeout) {
  using namespace asio::experimental::awaitable_operators;
  auto executor = co_await asio::this_coro::executor;
  asio::ip::udp::socket socket(executor);
  asio::error_code ec;
  socket.connect(remote, ec);
  if (ec)
    co_return failure(Errc::kClosed,
                      "cannot reach " + remote.address().to_string() + ": " + ec.message());
  socket.non_blocking(true, ec);
  Exchange exchange(socket, request, sink);
  if (auto problem = exchange.init(tls)) co_return failure(Errc::kInvalidArgument, *problem);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  asio::steady_timer timer(executor);
  std::array<std::uint8_t, 65536> datagram;
  bool ok = exchange.write();
  while (ok && !exchange.done()) {
    if (std::chrono::steady_clock::now() >= deadline) {
      exchange.close();
      co_return failure(Errc::kTimeout, "no complete HTTP/3 response in time");
    }
    const ngtcp2_tstamp expiry = exchange.expiry();
    const ngtcp2_tstamp now = now_ns();
    const auto wait = std::chrono::nanoseconds(expiry > now ? expiry - now : 0);
    timer.expires_after(std::min<std::chrono::nanoseconds>(
        wait, std::chrono::duration_cast<std::chrono::nanoseconds>(
                  deadline - std::chrono::steady_clock::now())));
    auto event = co_await (socket.async_receive(asio::buffer(datagram), kUseTuple) ||
                           timer.async_wait(kUseTuple));
    if (event.index() == 0) {
      auto [receive_error, n] = std::get<0>(event);
      if (receive_error) {
        co_return failure(Errc::kClosed, "receiving from the server: " + receive_error.message());
      }
      ok = exchange.on_datagram(datagram.data(), n);
    } else if (now_ns() >= exchange.expiry()) {
      ok = exchange.on_expiry();
    }
    if (ok) ok = exchange.write();
  }
  if (!ok || !exchange.complete()) {
    exchange.close();
    co_return failure(Errc::kClosed, exchange.error().empty()
                                         ? std::string("the HTTP/3 exchange failed")
                                         : exchange.error());
  }
  exchange.close();
  co_return std::move(exchange.response());
}

}  // namespace rws::h3
