#include "h3/connection.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <deque>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>

#include <rws/http/client_address.hpp>
#include <rws/http/headers.hpp>
#include <rws/http/status.hpp>

#include "core/log.hpp"
#include "h1/stream_exchange.hpp"
#include "h1/stream_limits.hpp"
#include "h2/signal.hpp"
#include "h3/datagram_sender.hpp"
#include "h3/nv.hpp"
#include "h3/outgoing_body.hpp"
#include "h3/packet_writer.hpp"
#include "h3/peer_certificate.hpp"
#include "h3/stream_glue.hpp"
#include "http/date.hpp"

namespace rws::h3 {
namespace {

// Response bytes buffered per stream ahead of the client's acknowledgements.
constexpr std::size_t kPumpHighWater = 256 * 1024;
constexpr std::size_t kPumpChunk = 16 * 1024;
constexpr std::uint64_t kMaxRequestStreams = 100;  // concurrent, per connection
constexpr std::uint64_t kStreamWindow = 256 * 1024;
constexpr std::uint64_t kConnectionWindow = 1024 * 1024;
constexpr std::size_t kMaxDatagram = 1500;

ngtcp2_tstamp now_ns() {
  return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

ngtcp2_duration to_ns(std::chrono::milliseconds ms) {
  return static_cast<ngtcp2_duration>(ms.count()) * NGTCP2_MILLISECONDS;
}

asio::ip::udp::endpoint to_endpoint(const ngtcp2_addr& addr) {
  asio::ip::udp::endpoint e;
  std::memcpy(e.data(), addr.addr, addr.addrlen);
  e.resize(addr.addrlen);
  return e;
}

ngtcp2_addr to_addr(const asio::ip::udp::endpoint& e) {
  return ngtcp2_addr{
      const_cast<ngtcp2_sockaddr*>(reinterpret_cast<const ngtcp2_sockaddr*>(e.data())),
      static_cast<ngtcp2_socklen>(e.size())};
}

// Fields only an HTTP/1.1 connection has (RFC 9114 §4.2), or that the connection writes itself.
bool dropped_response_field(std::string_view name) {
  return http::iequals(name, "connection") || http::iequals(name, "keep-alive") ||
         http::iequals(name, "proxy-connection") || http::iequals(name, "transfer-encoding") ||
         http::iequals(name, "upgrade") || http::iequals(name, "content-length");
}

// ":status" then the handler's fields, lower-cased, without the HTTP/1.1-only ones.
void head_strings(int status, const http::Headers& headers, std::vector<std::string>& strings) {
  strings.push_back(":status");
  strings.push_back(std::to_string(status));
  for (const http::Field& f : headers) {
    if (dropped_response_field(f.name)) continue;
    strings.push_back(http::to_lower(f.name));
    strings.push_back(f.value);
  }
}

}  // namespace

struct Connection::Stream : h1::StreamExchange, OutgoingBody {
  std::int64_t id = 0;
  http::RequestHead head;
  std::string cookies;  // crumbs joined with "; " (RFC 9114 §4.2.1)
  std::size_t header_bytes = 0;
  std::size_t fields = 0;       // regular fields (not pseudo-header fields, not trailers)
  bool too_large = false;       // over the head size or field count limit → 431
  bool body_too_large = false;  // more request body than max_body_size → 413
  bool in_trailers = false;
  bool started = false;

  // Request body bytes nghttp3 delivered that the handler has not read yet.
  std::string body_in;
  bool has_body = false;
  bool body_ended = false;
  http::Headers trailers_in;
  std::unique_ptr<h2::Signal> body_wake;

  // Response body, pulled from the handler's Body.
  std::unique_ptr<http::BodySource> source;
  std::unique_ptr<h2::Signal> pump_wake;

  bool closed = false;
  bool responded = false;
  std::string peer_address;  // for the access log, with the StreamExchange facts

  // The client acknowledged `n` more response body bytes.
  void acknowledged(std::uint64_t n) {
    release(n);
    if (pump_wake) pump_wake->notify();
  }
};

namespace {

// The request body of one stream, as the handler pulls it; reading reopens the flow-control
// windows by what was read.
class RequestBody final : public http::BodySource {
 public:
  RequestBody(std::weak_ptr<Connection> connection, std::shared_ptr<Connection::Stream> stream)
      : connection_(std::move(connection)), stream_(std::move(stream)) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    Connection::Stream& s = *stream_;
    for (;;) {
      if (!s.body_in.empty()) {
        const std::size_t n = std::min(max_bytes, s.body_in.size());
        chunk_.assign(s.body_in, 0, n);
        s.body_in.erase(0, n);
        if (std::shared_ptr<Connection> c = connection_.lock()) c->consume(s, n);
        co_return http::BodyFrame::bytes(chunk_);
      }
      if (s.body_ended) {
        if (!trailers_sent_ && !s.trailers_in.empty()) {
          trailers_sent_ = true;
          http::BodyFrame frame;
          frame.kind = http::BodyFrame::Kind::kTrailers;
          frame.trailers = std::move(s.trailers_in);
          co_return frame;
        }
        co_return http::BodyFrame::end();
      }
      if (s.closed) {
        co_return fail(Errc::kClosed, ErrorSide::kDownstream,
                       "the client reset the stream before the request body ended");
      }
      co_await s.body_wake->wait();
    }
  }

 private:
  std::weak_ptr<Connection> connection_;
  std::shared_ptr<Connection::Stream> stream_;
  std::string chunk_;
  bool trailers_sent_ = false;
};

}  // namespace

// ngtcp2's and nghttp3's callbacks, with the connection as user data.
struct Callbacks {
  static Connection& self(void* user_data) { return *static_cast<Connection*>(user_data); }

  // --- ngtcp2 ---

  static void rand(uint8_t* dest, size_t size, const ngtcp2_rand_ctx*) {
    gnutls_rnd(GNUTLS_RND_NONCE, dest, size);
  }

  static int get_new_connection_id(ngtcp2_conn*, ngtcp2_cid* cid, uint8_t* token, size_t cidlen,
                                   void* user_data) {
    Connection& c = self(user_data);
    if (cidlen != kCidLength || !c.host_.make_cid(*cid)) return NGTCP2_ERR_CALLBACK_FAILURE;
    if (ngtcp2_crypto_generate_stateless_reset_token(token, c.host_.reset_secret(),
                                                     c.host_.reset_secret_size(), cid) != 0) {
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    c.cids_.push_back(*cid);
    c.host_.associate(*cid, c);
    return 0;
  }

  static int remove_connection_id(ngtcp2_conn*, const ngtcp2_cid* cid, void* user_data) {
    Connection& c = self(user_data);
    c.host_.dissociate(*cid);
    std::erase_if(c.cids_, [&](const ngtcp2_cid& x) { return ngtcp2_cid_eq(&x, cid) != 0; });
    return 0;
  }

  static int recv_tx_key(ngtcp2_conn*, ngtcp2_crypto_level level, void* user_data) {
    if (level != NGTCP2_CRYPTO_LEVEL_APPLICATION) return 0;
    return self(user_data).setup_http() == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
  }

  static int handshake_completed(ngtcp2_conn*, void* user_data) {
    Connection& c = self(user_data);
    http::TlsInfo& info = c.tls_info_;
    info.alpn = "h3";
    info.version = "TLSv1.3";
    if (const char* suite = gnutls_ciphersuite_get(c.session_)) info.cipher = suite;
    char name[256];
    std::size_t size = sizeof name;
    unsigned int type = 0;
    if (gnutls_server_name_get(c.session_, name, &size, &type, 0) == GNUTLS_E_SUCCESS &&
        type == GNUTLS_NAME_DNS) {
      info.server_name.assign(name, size);
    }
    // With tls_client_ca_file the handshake only completes once the certificate verified.
    if (c.tls_->requires_client_certificate()) {
      info.has_client_certificate = describe_peer_certificate(c.session_, info.client_certificate);
    }
    return 0;
  }

  static int recv_stream_data(ngtcp2_conn* conn, uint32_t flags, int64_t stream_id, uint64_t,
                              const uint8_t* data, size_t size, void* user_data, void*) {
    Connection& c = self(user_data);
    // Body bytes' credit goes back only as the handler reads them.
    const nghttp3_ssize consumed = feed_stream_data(conn, c.http_, stream_id, flags, data, size);
    if (consumed < 0) {
      log::http().debug("conn {}: h3 stream {}: {}", c.id_, stream_id,
                        nghttp3_strerror(static_cast<int>(consumed)));
      ngtcp2_connection_close_error_set_application_error(
          &c.last_error_, nghttp3_err_infer_quic_app_error_code(static_cast<int>(consumed)),
          nullptr, 0);
      c.error_set_ = true;
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    return 0;
  }

  static int acked_stream_data_offset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t size,
                                      void* user_data, void*) {
    return acked_stream_data(self(user_data).http_, stream_id, size);
  }

  static int stream_close(ngtcp2_conn* conn, uint32_t flags, int64_t stream_id,
                          uint64_t app_error_code, void* user_data, void*) {
    if (close_stream(self(user_data).http_, flags, stream_id, app_error_code) != 0) {
      return NGTCP2_ERR_CALLBACK_FAILURE;
    }
    // A request stream is gone: the client may open another.
    if (ngtcp2_is_bidi_stream(stream_id) != 0) ngtcp2_conn_extend_max_streams_bidi(conn, 1);
    return 0;
  }

  static int stream_reset(ngtcp2_conn*, int64_t stream_id, uint64_t, uint64_t, void* user_data,
                          void*) {
    return shutdown_stream_read(self(user_data).http_, stream_id);
  }

  static int stream_stop_sending(ngtcp2_conn*, int64_t stream_id, uint64_t, void* user_data,
                                 void*) {
    return shutdown_stream_read(self(user_data).http_, stream_id);
  }

  static int extend_max_remote_streams_bidi(ngtcp2_conn*, uint64_t max_streams, void* user_data) {
    Connection& c = self(user_data);
    if (c.http_ != nullptr) nghttp3_conn_set_max_client_streams_bidi(c.http_, max_streams);
    return 0;
  }

  static int extend_max_stream_data(ngtcp2_conn*, int64_t stream_id, uint64_t, void* user_data,
                                    void*) {
    return unblock_stream(self(user_data).http_, stream_id);
  }

  // --- nghttp3 ---

  static Connection::Stream* stream_of(void* stream_user_data) {
    return static_cast<Connection::Stream*>(stream_user_data);
  }

  static int h3_acked_stream_data(nghttp3_conn*, int64_t, uint64_t size, void*,
                                  void* stream_user_data) {
    if (Connection::Stream* s = stream_of(stream_user_data)) s->acknowledged(size);
    return 0;
  }

  static int h3_stream_close(nghttp3_conn*, int64_t stream_id, uint64_t, void* user_data, void*) {
    Connection& c = self(user_data);
    auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end()) return 0;
    Connection::Stream& s = *it->second;
    s.closed = true;
    // Body bytes the handler never read still count against the connection's window.
    if (!s.body_in.empty()) {
      ngtcp2_conn_extend_max_offset(c.conn_, s.body_in.size());
      s.body_in.clear();
    }
    if (s.body_wake) s.body_wake->notify();
    if (s.pump_wake) s.pump_wake->notify();
    c.streams_.erase(it);
    return 0;
  }

  static int h3_recv_data(nghttp3_conn*, int64_t, const uint8_t* data, size_t size, void*,
                          void* stream_user_data) {
    Connection::Stream* s = stream_of(stream_user_data);
    if (s == nullptr) return 0;
    s->body_in.append(reinterpret_cast<const char*>(data), size);
    s->received += size;
    if (s->body_wake) s->body_wake->notify();
    return 0;
  }

  static int h3_deferred_consume(nghttp3_conn*, int64_t stream_id, size_t consumed, void* user_data,
                                 void*) {
    Connection& c = self(user_data);
    ngtcp2_conn_extend_max_stream_offset(c.conn_, stream_id, consumed);
    ngtcp2_conn_extend_max_offset(c.conn_, consumed);
    return 0;
  }

  static int h3_begin_headers(nghttp3_conn* h3, int64_t stream_id, void* user_data, void*) {
    Connection& c = self(user_data);
    auto stream = std::make_shared<Connection::Stream>();
    stream->id = stream_id;
    stream->head.version = 30;
    stream->started_wall = std::chrono::system_clock::now();
    stream->started_steady = net::Clock::now();
    nghttp3_conn_set_stream_user_data(h3, stream_id, stream.get());
    c.streams_[stream_id] = std::move(stream);
    return 0;
  }

  static int h3_recv_header(nghttp3_conn*, int64_t, int32_t, nghttp3_rcbuf* name_buffer,
                            nghttp3_rcbuf* value_buffer, uint8_t, void* user_data,
                            void* stream_user_data) {
    Connection& c = self(user_data);
    Connection::Stream* s = stream_of(stream_user_data);
    if (s == nullptr) return 0;
    const std::string_view name = view(name_buffer);
    const std::string_view value = view(value_buffer);
    // RFC 9114 §4.2.2: each field counts its name, value and 32 bytes.
    s->header_bytes += name.size() + value.size() + 32;
    if (s->header_bytes > c.env_.settings.parser.max_head_bytes) {
      s->too_large = true;
      return 0;
    }
    if (s->in_trailers) {
      s->trailers_in.add(name, value);
      return 0;
    }
    if (!name.starts_with(':') && ++s->fields > c.env_.settings.parser.max_fields) {
      s->too_large = true;
      return 0;
    }
    http::RequestHead& head = s->head;
    if (name.starts_with(':')) {
      if (name == ":method") {
        head.method.assign(value);
      } else if (name == ":path") {
        head.target.assign(value);
      } else if (name == ":authority") {
        head.authority.assign(value);
      } else if (name == ":scheme") {
        head.scheme.assign(value);
      }
      return 0;
    }
    if (name == "cookie") {
      if (!s->cookies.empty()) s->cookies += "; ";
      s->cookies.append(value);
      return 0;
    }
    head.headers.add(name, value);
    return 0;
  }

  static int h3_end_headers(nghttp3_conn*, int64_t stream_id, int fin, void* user_data, void*) {
    Connection& c = self(user_data);
    auto it = c.streams_.find(stream_id);
    if (it == c.streams_.end() || it->second->started) return 0;
    it->second->has_body = fin == 0;
    it->second->body_ended = fin != 0;
    c.start_stream(it->second);
    return 0;
  }

  static int h3_begin_trailers(nghttp3_conn*, int64_t, void*, void* stream_user_data) {
    if (Connection::Stream* s = stream_of(stream_user_data)) s->in_trailers = true;
    return 0;
  }

  static int h3_end_stream(nghttp3_conn*, int64_t, void*, void* stream_user_data) {
    if (Connection::Stream* s = stream_of(stream_user_data)) {
      s->body_ended = true;
      if (s->body_wake) s->body_wake->notify();
    }
    return 0;
  }

  // nghttp3 asks for STOP_SENDING (our read side) ...
  static int h3_stop_sending(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code,
                             void* user_data, void*) {
    return stop_sending(self(user_data).conn_, stream_id, app_error_code);
  }

  // ... or for RESET_STREAM (our write side).
  static int h3_reset_stream(nghttp3_conn*, int64_t stream_id, uint64_t app_error_code,
                             void* user_data, void*) {
    return reset_stream(self(user_data).conn_, stream_id, app_error_code);
  }

  static nghttp3_ssize h3_read_data(nghttp3_conn* h3, int64_t stream_id, nghttp3_vec* vec,
                                    size_t veccnt, uint32_t* flags, void*, void* stream_user_data) {
    Connection::Stream* s = stream_of(stream_user_data);
    if (s == nullptr) return NGHTTP3_ERR_CALLBACK_FAILURE;
    return s->provide(h3, stream_id, vec, veccnt, flags);
  }
};

namespace {

// Interim (1xx) responses of one stream, e.g. 103 Early Hints relayed by the proxy.
class StreamInterim final : public http::InterimSender {
 public:
  StreamInterim(nghttp3_conn* h3, Connection::Stream& stream, std::function<void()> wake)
      : h3_(h3), stream_(stream), wake_(std::move(wake)) {}

  asio::awaitable<bool> send_interim(const http::ResponseHead& head) override {
    if (stream_.closed || stream_.responded || head.status < 100 || head.status > 199 ||
        head.status == 101) {
      co_return false;
    }
    std::vector<std::string> strings;
    head_strings(head.status, head.headers, strings);
    std::vector<nghttp3_nv> nva = to_nva(strings);
    const int rv = nghttp3_conn_submit_info(h3_, stream_.id, nva.data(), nva.size());
    wake_();
    co_return rv == 0;
  }

 private:
  nghttp3_conn* h3_;
  Connection::Stream& stream_;
  std::function<void()> wake_;
};

}  // namespace

Connection::Connection(ConnectionHost& host, h1::SessionEnv env,
                       std::shared_ptr<const Credentials> tls,
                       const asio::any_io_executor& executor, std::uint64_t id,
                       asio::ip::udp::endpoint local, asio::ip::udp::endpoint remote)
    : host_(host),
      env_(env),
      tls_(std::move(tls)),
      executor_(executor),
      id_(id),
      local_(local),
      remote_(remote),
      timer_(executor) {
  ngtcp2_connection_close_error_default(&last_error_);
}

Connection::~Connection() {
  if (http_ != nullptr) nghttp3_conn_del(http_);
  if (conn_ != nullptr) ngtcp2_conn_del(conn_);
  if (session_ != nullptr) gnutls_deinit(session_);
}

bool Connection::init(const ngtcp2_pkt_hd& hd, const ngtcp2_cid* original_dcid) {
  ngtcp2_callbacks callbacks{};
  callbacks.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb;
  callbacks.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb;
  callbacks.encrypt = ngtcp2_crypto_encrypt_cb;
  callbacks.decrypt = ngtcp2_crypto_decrypt_cb;
  callbacks.hp_mask = ngtcp2_crypto_hp_mask_cb;
  callbacks.update_key = ngtcp2_crypto_update_key_cb;
  callbacks.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb;
  callbacks.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb;
  callbacks.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb;
  callbacks.version_negotiation = ngtcp2_crypto_version_negotiation_cb;
  callbacks.rand = Callbacks::rand;
  callbacks.get_new_connection_id = Callbacks::get_new_connection_id;
  callbacks.remove_connection_id = Callbacks::remove_connection_id;
  callbacks.recv_tx_key = Callbacks::recv_tx_key;
  callbacks.handshake_completed = Callbacks::handshake_completed;
  callbacks.recv_stream_data = Callbacks::recv_stream_data;
  callbacks.acked_stream_data_offset = Callbacks::acked_stream_data_offset;
  callbacks.stream_close = Callbacks::stream_close;
  callbacks.stream_reset = Callbacks::stream_reset;
  callbacks.stream_stop_sending = Callbacks::stream_stop_sending;
  callbacks.extend_max_remote_streams_bidi = Callbacks::extend_max_remote_streams_bidi;
  callbacks.extend_max_stream_data = Callbacks::extend_max_stream_data;

  ngtcp2_settings settings;
  ngtcp2_settings_default(&settings);
  settings.initial_ts = now_ns();
  if (env_.settings.header_timeout.count() > 0) {
    settings.handshake_timeout = to_ns(env_.settings.header_timeout);
  }

  ngtcp2_cid scid;
  if (!host_.make_cid(scid)) return false;

  ngtcp2_transport_params params;
  ngtcp2_transport_params_default(&params);
  params.initial_max_stream_data_bidi_local = kStreamWindow;
  params.initial_max_stream_data_bidi_remote = kStreamWindow;
  params.initial_max_stream_data_uni = kStreamWindow;
  params.initial_max_data = kConnectionWindow;
  params.initial_max_streams_bidi = kMaxRequestStreams;
  params.initial_max_streams_uni = 3;  // control + QPACK encoder + decoder
  params.max_idle_timeout = to_ns(env_.settings.idle_timeout);
  params.active_connection_id_limit = 7;
  if (original_dcid != nullptr) {
    params.original_dcid = *original_dcid;
    params.retry_scid = hd.dcid;
    params.retry_scid_present = 1;
    settings.token = hd.token;
  } else {
    params.original_dcid = hd.dcid;
  }
  params.stateless_reset_token_present = 1;
  if (ngtcp2_crypto_generate_stateless_reset_token(params.stateless_reset_token,
                                                   host_.reset_secret(), host_.reset_secret_size(),
                                                   &scid) != 0) {
    return false;
  }

  ngtcp2_addr local = to_addr(local_);
  ngtcp2_addr remote = to_addr(remote_);
  const ngtcp2_path path{local, remote, nullptr};
  if (ngtcp2_conn_server_new(&conn_, &hd.scid, &scid, &path, hd.version, &callbacks, &settings,
                             &params, nullptr, this) != 0) {
    return false;
  }

  if (gnutls_init(&session_,
                  GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET | GNUTLS_NO_END_OF_EARLY_DATA) != 0) {
    return false;
  }
  conn_ref_.get_conn = [](ngtcp2_crypto_conn_ref* ref) {
    return static_cast<Connection*>(ref->user_data)->conn_;
  };
  conn_ref_.user_data = this;
  static constexpr char kAlpn[] = "h3";
  gnutls_datum_t alpn{reinterpret_cast<unsigned char*>(const_cast<char*>(kAlpn)), 2};
  if (gnutls_priority_set(session_, tls_->priority()) != 0 ||
      ngtcp2_crypto_gnutls_configure_server_session(session_) != 0 ||
      gnutls_credentials_set(session_, GNUTLS_CRD_CERTIFICATE, tls_->certificates()) != 0 ||
      gnutls_alpn_set_protocols(session_, &alpn, 1, GNUTLS_ALPN_MANDATORY) != 0) {
    return false;
  }
  if (tls_->requires_client_certificate()) {
    // Chain verification against the client CA during the handshake; no host name to match.
    gnutls_certificate_server_set_request(session_, GNUTLS_CERT_REQUIRE);
    gnutls_session_set_verify_cert(session_, nullptr, 0);
  }
  gnutls_session_set_ptr(session_, &conn_ref_);
  ngtcp2_conn_set_tls_native_handle(conn_, session_);

  cids_.push_back(hd.dcid);
  cids_.push_back(scid);
  host_.associate(hd.dcid, *this);
  host_.associate(scid, *this);
  return true;
}

int Connection::setup_http() {
  nghttp3_callbacks callbacks{};
  callbacks.acked_stream_data = Callbacks::h3_acked_stream_data;
  callbacks.stream_close = Callbacks::h3_stream_close;
  callbacks.recv_data = Callbacks::h3_recv_data;
  callbacks.deferred_consume = Callbacks::h3_deferred_consume;
  callbacks.begin_headers = Callbacks::h3_begin_headers;
  callbacks.recv_header = Callbacks::h3_recv_header;
  callbacks.end_headers = Callbacks::h3_end_headers;
  callbacks.begin_trailers = Callbacks::h3_begin_trailers;
  callbacks.recv_trailer = Callbacks::h3_recv_header;
  callbacks.end_stream = Callbacks::h3_end_stream;
  callbacks.stop_sending = Callbacks::h3_stop_sending;
  callbacks.reset_stream = Callbacks::h3_reset_stream;

  nghttp3_settings settings;
  nghttp3_settings_default(&settings);
  settings.max_field_section_size = env_.settings.parser.max_head_bytes;
  settings.qpack_max_dtable_capacity = 4096;
  settings.qpack_blocked_streams = 100;
  if (nghttp3_conn_server_new(&http_, &callbacks, &settings, nghttp3_mem_default(), this) != 0) {
    return -1;
  }
  nghttp3_conn_set_max_client_streams_bidi(
      http_, ngtcp2_conn_get_local_transport_params(conn_)->initial_max_streams_bidi);
  std::int64_t control = -1;
  std::int64_t encoder = -1;
  std::int64_t decoder = -1;
  if (ngtcp2_conn_open_uni_stream(conn_, &control, nullptr) != 0 ||
      nghttp3_conn_bind_control_stream(http_, control) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &encoder, nullptr) != 0 ||
      ngtcp2_conn_open_uni_stream(conn_, &decoder, nullptr) != 0 ||
      nghttp3_conn_bind_qpack_streams(http_, encoder, decoder) != 0) {
    return -1;
  }
  return 0;
}

void Connection::on_packet(const asio::ip::udp::endpoint& remote, const std::uint8_t* data,
                           std::size_t size) {
  std::shared_ptr<Connection> self = shared_from_this();
  if (finished_) return;
  ngtcp2_addr local_addr = to_addr(local_);
  ngtcp2_addr remote_addr = to_addr(remote);
  const ngtcp2_path path{local_addr, remote_addr, nullptr};
  ngtcp2_pkt_info info{};
  const int rv = ngtcp2_conn_read_pkt(conn_, &path, &info, data, size, now_ns());
  if (rv != 0) {
    switch (rv) {
      case NGTCP2_ERR_DRAINING:   // the client closed the connection
      case NGTCP2_ERR_DROP_CONN:  // nothing should be sent back
        finish();
        return;
      case NGTCP2_ERR_CRYPTO:
        if (!error_set_) {
          ngtcp2_connection_close_error_set_transport_error_tls_alert(
              &last_error_, ngtcp2_conn_get_tls_alert(conn_), nullptr, 0);
        }
        break;
      default:
        if (!error_set_) {
          ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
        }
        break;
    }
    log::http().debug("conn {}: QUIC packet from {} refused: {}", id_, remote.address().to_string(),
                      ngtcp2_strerror(rv));
    close(last_error_);
    return;
  }
  // Written once the datagrams already received are read (the endpoint reads a batch): one
  // write answers them all, in runs of datagrams.
  schedule_write();
}

void Connection::on_writable() {
  std::shared_ptr<Connection> self = shared_from_this();
  blocked_ = false;
  if (finished_) return;
  if (!flush_pending()) return;
  write();
}

bool Connection::flush_pending() {
  while (!pending_.empty()) {
    PendingRun& run = pending_.front();
    const std::size_t sent = host_.send(run.to, run.bytes.data(), run.bytes.size(), run.segment);
    if (sent < run.bytes.size()) {
      run.bytes.erase(run.bytes.begin(), run.bytes.begin() + static_cast<std::ptrdiff_t>(sent));
      blocked_ = true;
      host_.wait_writable(shared_from_this());
      return false;
    }
    pending_.pop_front();
  }
  return true;
}

bool Connection::send_run(const asio::ip::udp::endpoint& to, const std::uint8_t* data,
                          std::size_t size, std::size_t segment) {
  const std::size_t sent = blocked_ ? 0 : host_.send(to, data, size, segment);
  if (sent == size) return true;
  pending_.push_back(PendingRun{to, std::vector<std::uint8_t>(data + sent, data + size), segment});
  if (!blocked_) {
    blocked_ = true;
    host_.wait_writable(shared_from_this());
  }
  return false;
}

void Connection::schedule_write() {
  if (write_scheduled_ || finished_) return;
  write_scheduled_ = true;
  asio::post(executor_, [self = shared_from_this()] {
    self->write_scheduled_ = false;
    self->write();
  });
}

void Connection::write() {
  if (finished_ || blocked_ || in_write_) return;
  if (ngtcp2_conn_is_in_closing_period(conn_) || ngtcp2_conn_is_in_draining_period(conn_)) {
    return;
  }
  in_write_ = true;
  // Datagrams are gathered into runs (same address, same size but the last) sent with one
  // system call each (datagram_sender.hpp).
  std::array<std::uint8_t, kMaxRunBytes> buffer;
  ngtcp2_path_storage ps;
  ngtcp2_path_storage_zero(&ps);
  ngtcp2_pkt_info info{};
  const ngtcp2_tstamp ts = now_ns();
  const std::size_t max_size =
      std::clamp<std::size_t>(ngtcp2_conn_get_path_max_tx_udp_payload_size(conn_), 1, kMaxDatagram);
  const std::size_t max_packets = std::max<std::size_t>(
      1, ngtcp2_conn_get_send_quantum(conn_) / std::max<std::size_t>(1, max_size));
  const std::size_t max_run = std::min(kMaxRunDatagrams, buffer.size() / max_size);
  std::size_t run = 0;  // bytes of the run at the start of buffer
  std::size_t run_count = 0;
  std::size_t segment = 0;
  asio::ip::udp::endpoint run_to;
  std::size_t packets = 0;
  bool failed = false;
  while (packets < max_packets && !blocked_) {
    std::uint8_t* out = buffer.data() + run;
    const NextPacket next = write_next_packet(conn_, http_, &ps.path, &info, out, max_size, ts);
    if (next.failed) {
      if (next.http_error != 0) {
        ngtcp2_connection_close_error_set_application_error(
            &last_error_, nghttp3_err_infer_quic_app_error_code(next.http_error), nullptr, 0);
        error_set_ = true;
      } else if (!error_set_) {
        ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, next.quic_error,
                                                                 nullptr, 0);
      }
      failed = true;
      break;
    }
    const std::size_t n = next.size;
    if (n == 0) break;
    ++packets;
    const asio::ip::udp::endpoint to = to_endpoint(ps.path.remote);
    if (run_count > 0 && (n > segment || to != run_to)) {
      // This datagram cannot join the run: the run goes first, the datagram starts the next.
      const bool sent = send_run(run_to, buffer.data(), run, segment);
      run = 0;
      run_count = 0;
      if (!sent) {
        send_run(to, out, n, n);
        break;
      }
      std::memmove(buffer.data(), out, n);
    }
    if (run_count == 0) {
      segment = n;
      run_to = to;
    }
    run += n;
    ++run_count;
    if (n < segment || run_count == max_run) {  // a shorter datagram ends a run
      send_run(run_to, buffer.data(), run, segment);
      run = 0;
      run_count = 0;
    }
  }
  if (run_count > 0) send_run(run_to, buffer.data(), run, segment);
  in_write_ = false;
  if (failed) {
    close(last_error_);
    return;
  }
  // Pacing only once the handshake is done: 0.12.1 would otherwise pace the first flight with
  // the 333 ms initial RTT estimate (PLATFORM-NOTES "pacing quirk").
  if (ngtcp2_conn_get_handshake_completed(conn_) != 0) {
    ngtcp2_conn_update_pkt_tx_time(conn_, ts);
  } else if (packets == max_packets) {
    schedule_write();
  }
  arm_timer();
  maybe_close_drained();
}

void Connection::arm_timer() {
  if (finished_) return;
  const ngtcp2_tstamp expiry = ngtcp2_conn_get_expiry(conn_);
  if (expiry == timer_expiry_) return;  // already waiting for it
  timer_expiry_ = expiry;
  if (expiry == UINT64_MAX) {
    timer_.cancel();
    return;
  }
  timer_.expires_at(std::chrono::steady_clock::time_point(std::chrono::nanoseconds(expiry)));
  timer_.async_wait([weak = weak_from_this()](const std::error_code& ec) {
    if (ec) return;
    if (std::shared_ptr<Connection> self = weak.lock()) {
      self->timer_expiry_ = UINT64_MAX;
      self->on_timer();
    }
  });
}

void Connection::on_timer() {
  if (finished_) return;
  const int rv = ngtcp2_conn_handle_expiry(conn_, now_ns());
  if (rv == NGTCP2_ERR_IDLE_CLOSE) {
    log::http().debug("conn {}: QUIC idle timeout", id_);
    finish();
    return;
  }
  if (rv != 0) {
    ngtcp2_connection_close_error_set_transport_error_liberr(&last_error_, rv, nullptr, 0);
    close(last_error_);
    return;
  }
  write();
}

void Connection::close(const ngtcp2_connection_close_error& ccerr) {
  if (finished_) return;
  if (ngtcp2_conn_is_in_closing_period(conn_) == 0 &&
      ngtcp2_conn_is_in_draining_period(conn_) == 0) {
    std::array<std::uint8_t, kMaxDatagram> buffer;
    ngtcp2_path_storage ps;
    ngtcp2_path_storage_zero(&ps);
    ngtcp2_pkt_info info{};
    const ngtcp2_ssize n = ngtcp2_conn_write_connection_close(conn_, &ps.path, &info, buffer.data(),
                                                              buffer.size(), &ccerr, now_ns());
    // Best effort: a client that misses it learns from the idle timeout or a stateless reset.
    if (n > 0) {
      host_.send(to_endpoint(ps.path.remote), buffer.data(), static_cast<std::size_t>(n),
                 static_cast<std::size_t>(n));
    }
  }
  finish();
}

void Connection::finish() {
  if (finished_) return;
  finished_ = true;
  timer_.cancel();
  for (const ngtcp2_cid& cid : cids_)
    host_.dissociate(cid);
  cids_.clear();
  for (auto& [id, stream] : streams_) {
    stream->closed = true;
    if (stream->body_wake) stream->body_wake->notify();
    if (stream->pump_wake) stream->pump_wake->notify();
  }
  host_.remove(*this);
}

void Connection::drain() {
  std::shared_ptr<Connection> self = shared_from_this();
  if (finished_ || draining_) return;
  draining_ = true;
  if (http_ == nullptr) {
    abort();
    return;
  }
  // GOAWAY naming the next stream id: requests already open are answered, no new ones.
  nghttp3_conn_shutdown(http_);
  write();
}

void Connection::abort() {
  std::shared_ptr<Connection> self = shared_from_this();
  ngtcp2_connection_close_error ccerr;
  ngtcp2_connection_close_error_default(&ccerr);
  if (http_ != nullptr) {
    ngtcp2_connection_close_error_set_application_error(&ccerr, NGHTTP3_H3_NO_ERROR, nullptr, 0);
  }
  close(ccerr);
}

void Connection::maybe_close_drained() {
  if (!draining_ || finished_ || running_tasks_ > 0 || !streams_.empty()) return;
  abort();
}

void Connection::stop_reading(Stream& stream) {
  ngtcp2_conn_shutdown_stream_read(conn_, stream.id, NGHTTP3_H3_NO_ERROR);
  if (!stream.body_in.empty()) {
    ngtcp2_conn_extend_max_offset(conn_, stream.body_in.size());
    stream.body_in.clear();
  }
}

void Connection::consume(Stream& stream, std::size_t n) {
  if (finished_) return;
  if (!stream.closed) ngtcp2_conn_extend_max_stream_offset(conn_, stream.id, n);
  ngtcp2_conn_extend_max_offset(conn_, n);
  schedule_write();
}

void Connection::start_stream(const std::shared_ptr<Stream>& stream) {
  stream->started = true;
  http::RequestHead& head = stream->head;
  const std::string_view target = head.target;
  const std::size_t q = target.find('?');
  head.path.assign(target.substr(0, q));
  if (q != std::string_view::npos) head.query.assign(target.substr(q + 1));
  if (!head.headers.contains("host") && !head.authority.empty()) {
    head.headers.add("Host", head.authority);
  }
  if (!stream->cookies.empty()) head.headers.add("cookie", stream->cookies);
  stream->method = head.method;
  stream->target = head.target;
  stream->referer = std::string(head.headers.get("referer"));
  stream->user_agent = std::string(head.headers.get("user-agent"));
  stream->body_wake = std::make_unique<h2::Signal>(executor_);
  stream->pump_wake = std::make_unique<h2::Signal>(executor_);
  // While a handler runs (a long poll, an event stream) the connection is kept from going idle
  // with PINGs; the idle timeout applies again once no request is being answered. A client
  // that vanished still times out: its silence is what the idle timer measures.
  if (running_tasks_++ == 0) {
    ngtcp2_conn_set_keep_alive_timeout(conn_, to_ns(env_.settings.idle_timeout) / 2);
  }
  std::shared_ptr<Connection> self = shared_from_this();
  asio::co_spawn(executor_, handle_stream(self, stream), [self](const std::exception_ptr&) {
    if (--self->running_tasks_ == 0 && !self->finished_) {
      ngtcp2_conn_set_keep_alive_timeout(self->conn_, 0);
    }
    self->schedule_write();
  });
}

// `self` keeps the connection alive for as long as the handler runs.
asio::awaitable<void> Connection::handle_stream([[maybe_unused]] std::shared_ptr<Connection> self,
                                                std::shared_ptr<Stream> stream) {
  http::Request request;
  request.head = std::move(stream->head);
  std::optional<std::uint64_t> size;
  if (stream->has_body) {
    if (std::string_view length = request.head.headers.get("content-length"); !length.empty()) {
      std::uint64_t value = 0;
      auto [end, ec] = std::from_chars(length.data(), length.data() + length.size(), value);
      if (ec == std::errc() && end == length.data() + length.size()) size = value;
    }
    request.body = http::Body::from_stream(
        h1::limit_request_body(std::make_unique<RequestBody>(weak_from_this(), stream),
                               env_.settings.max_body_size, &stream->body_too_large),
        size);
  }
  StreamInterim interim(http_, *stream, [this] { schedule_write(); });
  http::RequestContext context{remote_.address().to_string(),
                               remote_.port(),
                               true,
                               id_,
                               ++requests_,
                               &interim,
                               &stream->notes,
                               {},
                               &tls_info_};
  stream->peer_address = context.peer_address;
  if (!env_.settings.trusted_proxies.empty()) {
    context.client_address = http::client_address(context.peer_address, request.head.headers,
                                                  env_.settings.trusted_proxies);
    stream->client_address = context.client_address;
  }
  const bool head_request = request.head.method == "HEAD";
  http::Response response;
  if (std::optional<http::Response> refused =
          h1::refuse_over_limits(request.head, size, stream->too_large, env_.settings)) {
    response = std::move(*refused);
  } else {
    try {
      response = co_await env_.service.handle(std::move(request), context);
    } catch (const std::exception& e) {
      log::http().error("conn {} stream {}: handler for {} {} threw: {}", id_, stream->id,
                        stream->method, stream->target, e.what());
      response = http::Response::text(500, "Internal Server Error\n");
    }
  }
  // The handler read past max_body_size: its answer is replaced, as over HTTP/1.1.
  if (stream->body_too_large) response = h1::body_too_large_response();
  if (response.upgrade) {
    // Switching protocols does not exist in HTTP/3 (RFC 9114 §4.5).
    response = http::Response::text(501, "Not Implemented: upgrade over HTTP/3\n");
  }
  if (!stream->closed && !finished_) {
    if (submit_response(*stream, response, head_request)) co_await pump_response(stream);
    // Answered without reading the whole request body: ask the client to stop sending it
    // (STOP_SENDING, RFC 9114 §4.1.1), else the stream could never close.
    if (!stream->body_ended && !stream->closed && !finished_) stop_reading(*stream);
    schedule_write();
  }
  log_exchange(*stream);
}

bool Connection::submit_response(Stream& stream, http::Response& response, bool head_request) {
  const int status = response.head.status;
  stream.status = status;
  stream.responded = true;
  const bool body = !head_request && !http::status_forbids_body(status) &&
                    !response.body.is_empty() && response.body.size().value_or(1) > 0;
  bool has_date = false;
  bool has_server = false;
  bool has_hsts = false;
  for (const http::Field& f : response.head.headers) {
    has_date = has_date || http::iequals(f.name, "date");
    has_server = has_server || http::iequals(f.name, "server");
    has_hsts = has_hsts || http::iequals(f.name, "strict-transport-security");
  }
  std::vector<std::string> strings;
  strings.reserve(2 * response.head.headers.size() + 10);
  head_strings(status, response.head.headers, strings);
  auto add = [&](std::string name, std::string value) {
    strings.push_back(std::move(name));
    strings.push_back(std::move(value));
  };
  if (!has_date) add("date", std::string(http::http_date_now()));
  if (!has_server && !env_.settings.server_name.empty()) add("server", env_.settings.server_name);
  if (!has_hsts && !env_.settings.hsts.empty())
    add("strict-transport-security", env_.settings.hsts);
  if (!http::status_forbids_body(status)) {
    if (std::optional<std::uint64_t> size = response.body.size()) {
      add("content-length", std::to_string(*size));
    }
  }
  std::vector<nghttp3_nv> nva = to_nva(strings);
  if (body) stream.source = std::move(response.body).into_source();
  nghttp3_data_reader reader{Callbacks::h3_read_data};
  nghttp3_conn_submit_response(http_, stream.id, nva.data(), nva.size(), body ? &reader : nullptr);
  schedule_write();
  return body;
}

asio::awaitable<void> Connection::pump_response(std::shared_ptr<Stream> stream) {
  for (;;) {
    if (stream->closed || finished_) co_return;
    if (stream->out_bytes >= kPumpHighWater) {
      co_await stream->pump_wake->wait();
      continue;
    }
    Result<http::BodyFrame> frame = co_await stream->source->next(kPumpChunk);
    if (stream->closed || finished_) co_return;
    if (!frame) {
      log::http().warn("conn {} stream {}: response body failed: {}", id_, stream->id,
                       frame.error().describe());
      ngtcp2_conn_shutdown_stream(conn_, stream->id, NGHTTP3_H3_INTERNAL_ERROR);
      schedule_write();
      co_return;
    }
    stream->body_bytes += frame->data.size();
    const bool end = stream->keep(*frame);
    if (stream->deferred) {
      stream->deferred = false;
      nghttp3_conn_resume_stream(http_, stream->id);
    }
    schedule_write();
    if (end) co_return;
  }
}

void Connection::log_exchange(Stream& stream) {
  h1::log_stream_exchange(env_.log, stream, stream.peer_address, 30, id_);
}

}  // namespace rws::h3
