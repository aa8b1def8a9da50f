#include "h2/server_session.hpp"

#include <nghttp2/nghttp2.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <functional>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>

#include <rws/http/client_address.hpp>
#include <rws/http/headers.hpp>
#include <rws/http/status.hpp>

#include "core/log.hpp"
#include "h1/stream_exchange.hpp"
#include "h1/stream_limits.hpp"
#include "h2/outgoing_data.hpp"
#include "h2/signal.hpp"
#include "http/date.hpp"
#include "http/drain_notice.hpp"

namespace rws::h2 {
namespace {

constexpr std::size_t kReadChunk = 32 * 1024;
constexpr std::size_t kWriteBatch = 64 * 1024;
// Response bytes buffered per stream ahead of the flow-control window.
constexpr std::size_t kPumpHighWater = 64 * 1024;
constexpr std::size_t kPumpChunk = 16 * 1024;
constexpr std::uint32_t kMaxConcurrentStreams = 128;
constexpr std::int32_t kStreamWindow = 256 * 1024;
constexpr std::int32_t kConnectionWindow = 1024 * 1024;
// RST_STREAM frames a client may send per second before the connection is refused (CVE-2023-
// 44487 "rapid reset": open and cancel streams so the server works for nothing).
constexpr std::uint64_t kMaxResetsPerSecond = 200;

// Fields that are only meaningful to an HTTP/1.1 connection (RFC 9113 §8.2.2) or that the
// session writes itself.
bool dropped_response_field(std::string_view name) {
  return http::iequals(name, "connection") || http::iequals(name, "keep-alive") ||
         http::iequals(name, "proxy-connection") || http::iequals(name, "transfer-encoding") ||
         http::iequals(name, "upgrade") || http::iequals(name, "content-length");
}

nghttp2_nv make_nv(const std::string& name, const std::string& value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

// A response head as HTTP/2 fields: ":status", then the fields lower-cased, without those only
// HTTP/1.1 connections have. `strings` keeps the text the returned fields point into.
std::vector<nghttp2_nv> head_fields(int status, const http::Headers& headers,
                                    std::vector<std::string>& strings) {
  strings.reserve(strings.size() + 2 * headers.size() + 2);
  strings.push_back(":status");
  strings.push_back(std::to_string(status));
  for (const http::Field& f : headers) {
    if (dropped_response_field(f.name)) continue;
    strings.push_back(http::to_lower(f.name));
    strings.push_back(f.value);
  }
  std::vector<nghttp2_nv> nva;
  nva.reserve(strings.size() / 2);
  for (std::size_t i = 0; i < strings.size(); i += 2)
    nva.push_back(make_nv(strings[i], strings[i + 1]));
  return nva;
}

}  // namespace

struct ServerSession::Stream : OutgoingData, h1::StreamExchange {
  std::int32_t id = 0;
  http::RequestHead head;
  std::string cookies;  // crumbs joined with "; " (RFC 9113 §8.2.3)
  std::size_t header_bytes = 0;
  std::size_t fields = 0;       // regular fields (not pseudo-header fields, not trailers)
  bool too_large = false;       // over the head size or field count limit → 431
  bool body_too_large = false;  // more request body than max_body_size → 413
  bool in_trailers = false;
  bool started = false;

  // Request body as DATA frames delivered it; what the handler has not read yet.
  std::string body_in;
  bool body_ended = false;
  bool has_body = false;
  http::Headers trailers_in;
  std::unique_ptr<Signal> body_wake;

  // A file body is read by the data provider straight into nghttp2's frame buffer.
  std::optional<http::FileRegion> file;
  std::uint64_t file_sent = 0;
  // Other response bodies are pulled from the handler's Body into OutgoingData.
  std::unique_ptr<http::BodySource> source;
  std::unique_ptr<Signal> pump_wake;

  // Extended CONNECT (RFC 8441): the :protocol asked for; the stream then carries that
  // protocol's bytes in DATA frames after a 200 (WebSocket over HTTP/2).
  std::string protocol;
  bool extended_connect = false;
  std::function<void()> on_drain;  // a tunnel's wish to hear of draining (http::DrainNotice)

  bool closed = false;
  bool responded = false;         // the final response head was submitted
  bool continue_pending = false;  // "Expect: 100-continue": 100 owed when the body is first read
};

namespace {

// The request body of one stream, as the handler pulls it.
class RequestBody final : public http::BodySource {
 public:
  RequestBody(nghttp2_session* session, std::shared_ptr<ServerSession::Stream> stream,
              std::function<void()> wake_writer)
      : session_(session), stream_(std::move(stream)), wake_writer_(std::move(wake_writer)) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    ServerSession::Stream& s = *stream_;
    if (s.continue_pending) {
      // The client waits for this before it sends the body (RFC 9110 §10.1.1).
      s.continue_pending = false;
      if (!s.closed && !s.responded && s.body_in.empty() && !s.body_ended) {
        const nghttp2_nv status = make_nv(kStatusName, kContinue);
        nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, s.id, nullptr, &status, 1, nullptr);
        wake_writer_();
      }
    }
    for (;;) {
      if (!s.body_in.empty()) {
        const std::size_t n = std::min(max_bytes, s.body_in.size());
        chunk_.assign(s.body_in, 0, n);
        s.body_in.erase(0, n);
        // The client may send this much more: the window reopens as the handler reads. Once
        // the stream is closed the session may be gone (a proxy can still be reading).
        if (!s.closed) {
          nghttp2_session_consume(session_, s.id, n);
          wake_writer_();
        }
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
  nghttp2_session* session_;
  std::shared_ptr<ServerSession::Stream> stream_;
  std::function<void()> wake_writer_;
  static inline const std::string kStatusName = ":status";
  static inline const std::string kContinue = "100";
  std::string chunk_;
  bool trailers_sent_ = false;
};

// Interim (1xx) responses of one stream, e.g. 103 Early Hints relayed by the proxy: HEADERS
// frames without END_STREAM ahead of the final response (RFC 9113 §8.1).
class StreamInterim final : public http::InterimSender {
 public:
  StreamInterim(nghttp2_session* session, ServerSession::Stream& stream,
                std::function<void()> wake_writer)
      : session_(session), stream_(stream), wake_writer_(std::move(wake_writer)) {}

  asio::awaitable<bool> send_interim(const http::ResponseHead& head) override {
    // 101 does not exist in HTTP/2; after the final head it is too late.
    if (stream_.closed || stream_.responded || head.status < 100 || head.status > 199 ||
        head.status == 101) {
      co_return false;
    }
    if (head.status == 100) stream_.continue_pending = false;
    std::vector<std::string> strings;
    std::vector<nghttp2_nv> nva = head_fields(head.status, head.headers, strings);
    const int rv = nghttp2_submit_headers(session_, NGHTTP2_FLAG_NONE, stream_.id, nullptr,
                                          nva.data(), nva.size(), nullptr);
    wake_writer_();
    co_return rv >= 0;
  }

 private:
  nghttp2_session* session_;
  ServerSession::Stream& stream_;
  std::function<void()> wake_writer_;
};

}  // namespace

// nghttp2's callbacks, with the session as user data.
struct Callbacks {
  static ServerSession& self(void* user_data) { return *static_cast<ServerSession*>(user_data); }

  static ServerSession::Stream* find(ServerSession& s, std::int32_t id) {
    auto it = s.streams_.find(id);
    return it == s.streams_.end() ? nullptr : it->second.get();
  }

  static int on_begin_headers(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    if (frame->hd.type != NGHTTP2_HEADERS) return 0;
    if (frame->headers.cat == NGHTTP2_HCAT_REQUEST) {
      auto stream = std::make_shared<ServerSession::Stream>();
      stream->id = frame->hd.stream_id;
      stream->head.version = 20;
      stream->started_wall = std::chrono::system_clock::now();
      stream->started_steady = net::Clock::now();
      s.streams_[stream->id] = std::move(stream);
    } else if (ServerSession::Stream* stream = find(s, frame->hd.stream_id)) {
      stream->in_trailers = true;
    }
    return 0;
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name_data,
                       size_t name_length, const uint8_t* value_data, size_t value_length, uint8_t,
                       void* user_data) {
    ServerSession& s = self(user_data);
    ServerSession::Stream* stream = find(s, frame->hd.stream_id);
    if (stream == nullptr) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_data), name_length);
    std::string_view value(reinterpret_cast<const char*>(value_data), value_length);
    // RFC 9113 §6.5.2: each field counts its name, value and 32 bytes.
    stream->header_bytes += name.size() + value.size() + 32;
    if (stream->header_bytes > s.env_.settings.parser.max_head_bytes) {
      stream->too_large = true;
      return 0;
    }
    if (stream->in_trailers) {
      stream->trailers_in.add(name, value);
      return 0;
    }
    if (!name.starts_with(':') && ++stream->fields > s.env_.settings.parser.max_fields) {
      stream->too_large = true;
      return 0;
    }
    http::RequestHead& head = stream->head;
    if (name.starts_with(':')) {
      if (name == ":method") {
        head.method.assign(value);
      } else if (name == ":path") {
        head.target.assign(value);
      } else if (name == ":authority") {
        head.authority.assign(value);
      } else if (name == ":scheme") {
        head.scheme.assign(value);
      } else if (name == ":protocol") {
        stream->protocol.assign(value);
      }
      return 0;
    }
    if (name == "cookie") {
      if (!stream->cookies.empty()) stream->cookies += "; ";
      stream->cookies.append(value);
      return 0;
    }
    head.headers.add(name, value);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ServerSession& s = self(user_data);
    if (frame->hd.type == NGHTTP2_RST_STREAM) {
      s.note_reset();
      return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    auto it = s.streams_.find(frame->hd.stream_id);
    if (it == s.streams_.end()) return 0;
    std::shared_ptr<ServerSession::Stream> stream = it->second;
    const bool end_stream = (frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !stream->started &&
        (frame->hd.flags & NGHTTP2_FLAG_END_HEADERS) != 0) {
      stream->has_body = !end_stream;
      stream->body_ended = end_stream;
      s.start_stream(stream);
      return 0;
    }
    if (end_stream) {
      stream->body_ended = true;
      if (stream->body_wake) stream->body_wake->notify();
    }
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t length, void* user_data) {
    ServerSession& s = self(user_data);
    ServerSession::Stream* stream = find(s, stream_id);
    if (stream == nullptr) {
      nghttp2_session_consume_connection(session, length);
      return 0;
    }
    stream->body_in.append(reinterpret_cast<const char*>(data), length);
    stream->received += length;
    if (stream->body_wake) stream->body_wake->notify();
    return 0;
  }

  static int on_stream_close(nghttp2_session* session, int32_t stream_id, uint32_t,
                             void* user_data) {
    ServerSession& s = self(user_data);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end()) return 0;
    ServerSession::Stream& stream = *it->second;
    stream.closed = true;
    if (!stream.body_in.empty()) {
      nghttp2_session_consume_connection(session, stream.body_in.size());
      stream.body_in.clear();
    }
    if (stream.body_wake) stream.body_wake->notify();
    if (stream.pump_wake) stream.pump_wake->notify();
    s.streams_.erase(it);
    return 0;
  }

  static ssize_t read_data(nghttp2_session* session, int32_t stream_id, uint8_t* buffer,
                           size_t length, uint32_t* flags, nghttp2_data_source*, void* user_data) {
    ServerSession& s = self(user_data);
    ServerSession::Stream* stream = find(s, stream_id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    if (stream->file) {
      const http::FileRegion& region = *stream->file;
      const std::size_t want = static_cast<std::size_t>(
          std::min<std::uint64_t>(length, region.length - stream->file_sent));
      const ssize_t got = ::pread(region.file->fd(), buffer, want,
                                  static_cast<off_t>(region.offset + stream->file_sent));
      if (got <= 0 && want > 0) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // shrank, or EIO
      stream->file_sent += static_cast<std::uint64_t>(got);
      stream->body_bytes += static_cast<std::uint64_t>(got);
      if (stream->file_sent == region.length) {
        *flags |= NGHTTP2_DATA_FLAG_EOF;
        if (stream->pump_wake) stream->pump_wake->notify();  // the handler logs the exchange
      }
      return got;
    }
    const ssize_t n = provide_data(session, stream_id, *stream, buffer, length, flags);
    if (stream->pump_wake) stream->pump_wake->notify();
    return n;
  }
};

ServerSession::ServerSession(std::unique_ptr<net::Transport> transport, h1::SessionEnv env,
                             std::uint64_t id)
    : transport_(std::move(transport)), env_(env), id_(id) {
  env_.registry.add(*this);
}

ServerSession::~ServerSession() {
  // Request bodies may outlive the session (a proxy streaming one to an HTTP/2 backend): they
  // must see their stream closed and no longer touch the session.
  for (auto& [id, stream] : streams_) {
    stream->closed = true;
    if (stream->body_wake) stream->body_wake->notify();
  }
  env_.registry.remove(*this);
  if (session_ != nullptr) nghttp2_session_del(session_);
}

asio::awaitable<void> ServerSession::run(std::unique_ptr<ServerSession> self) {
  co_await self->serve();
}

void ServerSession::wake_writer() {
  if (writer_wake_) writer_wake_->notify();
}

void ServerSession::update_deadline() {
  const net::Clock::time_point now = net::Clock::now();
  if (streams_.empty() && running_tasks_ == 0) {
    deadline = now + env_.settings.idle_timeout;
    return;
  }
  // A client that keeps its flow-control window shut while response data waits would hold the
  // streams forever: that wait is bounded like a write.
  const bool connection_shut = nghttp2_session_get_remote_window_size(session_) <= 0;
  for (const auto& [id, stream] : streams_) {
    const bool waiting =
        stream->pending_out() > 0 || (stream->file && stream->file_sent < stream->file->length);
    if (waiting &&
        (connection_shut || nghttp2_session_get_stream_remote_window_size(session_, id) <= 0)) {
      if (!stalled_) stalled_since_ = now;
      stalled_ = true;
      deadline = stalled_since_ + env_.settings.write_timeout;
      return;
    }
  }
  stalled_ = false;
  deadline = net::Clock::time_point::max();
}

void ServerSession::note_reset() {
  const net::Clock::time_point now = net::Clock::now();
  if (now - reset_window_start_ > std::chrono::seconds(1)) {
    reset_window_start_ = now;
    resets_in_window_ = 0;
  }
  if (++resets_in_window_ > kMaxResetsPerSecond && !goaway_sent_) {
    log::http().warn("conn {}: h2 client reset more than {} streams in a second; closing", id_,
                     kMaxResetsPerSecond);
    nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                          nghttp2_session_get_last_proc_stream_id(session_),
                          NGHTTP2_ENHANCE_YOUR_CALM, nullptr, 0);
    goaway_sent_ = true;
    closing_ = true;
  }
}

void ServerSession::start_stream(const std::shared_ptr<Stream>& stream) {
  stream->started = true;
  http::RequestHead& head = stream->head;
  const std::string_view target = head.target;
  if (target == "*") {
    head.path = "*";
  } else {
    const std::size_t q = target.find('?');
    head.path.assign(target.substr(0, q));
    if (q != std::string_view::npos) head.query.assign(target.substr(q + 1));
  }
  if (head.authority.empty()) head.authority = std::string(head.headers.get("host"));
  if (!head.headers.contains("host") && !head.authority.empty()) {
    head.headers.add("Host", head.authority);
  }
  if (!stream->cookies.empty()) head.headers.add("cookie", stream->cookies);
  if (head.method == "CONNECT" && !stream->protocol.empty()) {
    // RFC 8441 §5: an extended CONNECT stands for HTTP/1.1's GET with Upgrade, so the same
    // upgrade handlers answer it. The key only feeds Sec-WebSocket-Accept, which HTTP/2 drops.
    stream->extended_connect = true;
    stream->has_body = false;  // DATA frames are the tunnel's bytes, not a request body
    head.method = "GET";
    head.headers.add("Upgrade", stream->protocol);
    head.headers.add("Connection", "Upgrade");
    if (http::iequals(stream->protocol, "websocket") &&
        !head.headers.contains("sec-websocket-key")) {
      head.headers.add("Sec-WebSocket-Key", "AAAAAAAAAAAAAAAAAAAAAA==");
    }
  }
  stream->continue_pending =
      stream->has_body && http::iequals(head.headers.get("expect"), "100-continue");
  stream->method = head.method;
  stream->target = head.target;
  stream->referer = std::string(head.headers.get("referer"));
  stream->user_agent = std::string(head.headers.get("user-agent"));
  const asio::any_io_executor& executor = executor_;
  stream->body_wake = std::make_unique<Signal>(executor);
  stream->pump_wake = std::make_unique<Signal>(executor);
  ++running_tasks_;
  asio::co_spawn(executor, handle_stream(stream), [this](const std::exception_ptr&) {
    if (--running_tasks_ == 0 && tasks_done_) tasks_done_->notify();
  });
}

asio::awaitable<void> ServerSession::handle_stream(std::shared_ptr<Stream> stream) {
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
        h1::limit_request_body(
            std::make_unique<RequestBody>(session_, stream, [this] { wake_writer(); }),
            env_.settings.max_body_size, &stream->body_too_large),
        size);
  }
  const net::PeerAddress& peer = transport_->peer();
  StreamInterim interim(session_, *stream, [this] { wake_writer(); });
  http::RequestContext context{peer.address,          peer.port, transport_->secure(), id_,
                               ++requests_,           &interim,  &stream->notes,       {},
                               transport_->tls_info()};
  if (!env_.settings.trusted_proxies.empty()) {
    context.client_address =
        http::client_address(peer.address, request.head.headers, env_.settings.trusted_proxies);
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
  if (response.upgrade && stream->extended_connect && response.head.status == 101 &&
      !stream->closed && !failed_) {
    co_await run_tunnel(stream, response);
    log_exchange(*stream);
    co_return;
  }
  if (response.upgrade) {
    // Switching protocols does not exist in HTTP/2 (RFC 9113 §8.6) without extended CONNECT.
    response = http::Response::text(501, "Not Implemented: upgrade over HTTP/2\n");
  } else if (stream->extended_connect && response.head.status / 100 == 2) {
    // A 2xx would tell the client its tunnel is open (RFC 8441 §5): the handler did not switch.
    response = http::Response::text(
        501, "Not Implemented: " + stream->protocol + " is not served at this path\n");
  }
  if (!stream->closed && !failed_) {
    if (submit_response(*stream, response, head_request)) {
      if (stream->source) {
        co_await pump_response(stream);
      } else {
        // A file goes out from the data provider; the exchange ends when it has all left.
        wake_writer();
        for (;;) {
          if (stream->closed || failed_ || stream->file_sent == stream->file->length) break;
          co_await stream->pump_wake->wait();
        }
      }
    }
    wake_writer();
  }
  log_exchange(*stream);
}

// The byte stream of an extended CONNECT stream (RFC 8441): reads take what DATA frames
// delivered (reopening the window as they do), writes queue DATA and wait while more than
// kPumpHighWater bytes are not yet taken by the flow-control window, shutdown_send ends the
// stream.
class ServerSession::Tunnel final : public http::UpgradedStream, public http::DrainNotice {
 public:
  Tunnel(ServerSession& session, std::shared_ptr<Stream> stream)
      : s_(session), stream_(std::move(stream)) {}
  ~Tunnel() override { stream_->on_drain = nullptr; }

  asio::awaitable<std::pair<std::error_code, std::size_t>> read_some(
      asio::mutable_buffer buffer) override {
    Stream& st = *stream_;
    for (;;) {
      if (!st.body_in.empty()) {
        const std::size_t n = std::min(buffer.size(), st.body_in.size());
        std::memcpy(buffer.data(), st.body_in.data(), n);
        st.body_in.erase(0, n);
        if (!st.closed && !s_.failed_) {
          nghttp2_session_consume(s_.session_, st.id, n);
          s_.wake_writer();
        }
        co_return std::pair<std::error_code, std::size_t>{{}, n};
      }
      if (st.body_ended || st.closed || s_.failed_) {
        co_return std::pair<std::error_code, std::size_t>{asio::error::eof, 0};
      }
      co_await st.body_wake->wait();
    }
  }

  asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers) override {
    Stream& st = *stream_;
    if (st.closed || s_.failed_ || st.out_ended)
      co_return make_error_code(asio::error::broken_pipe);
    for (const asio::const_buffer& b : buffers)
      st.out.append(static_cast<const char*>(b.data()), b.size());
    resume();
    while (st.pending_out() > kPumpHighWater && !st.closed && !s_.failed_) {
      co_await st.pump_wake->wait();
    }
    co_return st.closed || s_.failed_ ? make_error_code(asio::error::broken_pipe)
                                      : std::error_code{};
  }

  void shutdown_send() noexcept override {
    stream_->out_ended = true;
    resume();
  }

  void on_drain(std::function<void()> callback) override {
    stream_->on_drain = std::move(callback);
    if (stream_->on_drain && s_.goaway_sent_) asio::post(s_.executor_, stream_->on_drain);
  }

 private:
  void resume() {
    Stream& st = *stream_;
    if (st.deferred && !st.closed && !s_.failed_) {
      st.deferred = false;
      nghttp2_session_resume_data(s_.session_, st.id);
    }
    s_.wake_writer();
  }

  ServerSession& s_;
  std::shared_ptr<Stream> stream_;
};

asio::awaitable<void> ServerSession::run_tunnel(std::shared_ptr<Stream> stream,
                                                http::Response& response) {
  // 200 instead of 101, without the fields of HTTP/1.1's switch (RFC 8441 §5).
  std::vector<std::string> strings;
  http::Headers fields;
  for (const http::Field& f : response.head.headers) {
    if (http::iequals(f.name, "sec-websocket-accept")) continue;
    fields.add(f.name, f.value);
  }
  std::vector<nghttp2_nv> nva = head_fields(200, fields, strings);
  const std::string date_name = "date";
  const std::string date(http::http_date_now());
  nva.push_back(make_nv(date_name, date));
  stream->status = 200;
  stream->responded = true;
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::read_data;
  nghttp2_submit_response(session_, stream->id, nva.data(), nva.size(), &provider);
  wake_writer();
  {
    Tunnel tunnel(*this, stream);
    try {
      co_await response.upgrade(tunnel);
    } catch (const std::exception& e) {
      log::http().warn("conn {} stream {}: tunnel failed: {}", id_, stream->id, e.what());
    }
    tunnel.shutdown_send();
  }
  // The rest of what the handler wrote, and the end of the stream, go out before the stream's
  // coroutine ends.
  while (!stream->closed && !failed_ && !stream->eof_taken) {
    co_await stream->pump_wake->wait();
  }
  // The upgraded protocol is over; a client that keeps its half open is told to stop, without
  // an error (RFC 9113 §8.1), as an HTTP/1.1 upgrade would close the connection.
  if (!stream->closed && !failed_ && !stream->body_ended) {
    nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_NO_ERROR);
  }
  wake_writer();
}

bool ServerSession::submit_response(Stream& stream, http::Response& response, bool head_request) {
  const int status = response.head.status;
  stream.status = status;
  const bool body = !head_request && !http::status_forbids_body(status) &&
                    !response.body.is_empty() && response.body.size().value_or(1) > 0;
  stream.responded = true;
  bool has_date = false;
  bool has_server = false;
  bool has_hsts = false;
  bool has_alt_svc = false;
  for (const http::Field& f : response.head.headers) {
    has_date = has_date || http::iequals(f.name, "date");
    has_server = has_server || http::iequals(f.name, "server");
    has_hsts = has_hsts || http::iequals(f.name, "strict-transport-security");
    has_alt_svc = has_alt_svc || http::iequals(f.name, "alt-svc");
  }
  // The fields the session adds, after the handler's.
  std::vector<std::string> strings;
  std::vector<nghttp2_nv> nva = head_fields(status, response.head.headers, strings);
  std::vector<std::string> added;
  added.reserve(10);
  auto add = [&](std::string name, std::string value) {
    added.push_back(std::move(name));
    added.push_back(std::move(value));
  };
  if (!has_date) add("date", std::string(http::http_date_now()));
  if (!has_server && !env_.settings.server_name.empty()) add("server", env_.settings.server_name);
  if (!has_hsts && !env_.settings.hsts.empty() && transport_->secure()) {
    add("strict-transport-security", env_.settings.hsts);
  }
  if (!has_alt_svc && !env_.settings.alt_svc.empty() && transport_->secure()) {
    add("alt-svc", env_.settings.alt_svc);
  }
  if (!http::status_forbids_body(status)) {
    if (std::optional<std::uint64_t> size = response.body.size()) {
      add("content-length", std::to_string(*size));
    }
  }
  for (std::size_t i = 0; i < added.size(); i += 2)
    nva.push_back(make_nv(added[i], added[i + 1]));
  nghttp2_data_provider provider{};
  provider.read_callback = Callbacks::read_data;
  if (body && response.body.is_file()) {
    stream.file = response.body.file();
  } else if (body) {
    stream.source = std::move(response.body).into_source();
  }
  nghttp2_submit_response(session_, stream.id, nva.data(), nva.size(), body ? &provider : nullptr);
  return body;
}

asio::awaitable<void> ServerSession::pump_response(std::shared_ptr<Stream> stream) {
  for (;;) {
    if (stream->closed || failed_) co_return;
    if (stream->pending_out() >= kPumpHighWater) {
      co_await stream->pump_wake->wait();
      continue;
    }
    Result<http::BodyFrame> frame = co_await stream->source->next(kPumpChunk);
    if (stream->closed || failed_) co_return;
    if (!frame) {
      log::http().warn("conn {} stream {}: response body failed: {}", id_, stream->id,
                       frame.error().describe());
      nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream->id, NGHTTP2_INTERNAL_ERROR);
      wake_writer();
      co_return;
    }
    bool end = false;
    switch (frame->kind) {
      case http::BodyFrame::Kind::kData:
        stream->out.append(frame->data);
        stream->body_bytes += frame->data.size();
        break;
      case http::BodyFrame::Kind::kTrailers:
        stream->trailers_out = std::move(frame->trailers);
        break;
      case http::BodyFrame::Kind::kEnd:
        stream->out_ended = true;
        end = true;
        break;
    }
    if (stream->deferred) {
      stream->deferred = false;
      nghttp2_session_resume_data(session_, stream->id);
    }
    wake_writer();
    if (end) co_return;
  }
}

void ServerSession::log_exchange(Stream& stream) {
  h1::log_stream_exchange(env_.log, stream, transport_->peer().address, 20, id_);
}

asio::awaitable<void> ServerSession::write_loop() {
  std::string out;
  for (;;) {
    if (failed_) break;
    out.clear();
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        failed_ = true;
        break;
      }
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      if (out.size() >= kWriteBatch) break;
    }
    if (failed_) break;
    if (!out.empty()) {
      deadline = net::Clock::now() + env_.settings.write_timeout;
      std::array<asio::const_buffer, 1> piece{asio::buffer(out)};
      std::error_code ec = co_await transport_->write(piece);
      update_deadline();
      if (ec) {
        failed_ = true;
        break;
      }
      continue;
    }
    const bool want_read = nghttp2_session_want_read(session_) != 0;
    const bool want_write = nghttp2_session_want_write(session_) != 0;
    if (!want_write && (!want_read || closing_) && running_tasks_ == 0) break;
    update_deadline();
    co_await writer_wake_->wait();
  }
  writer_done_ = true;
  // The reader may still wait for bytes that no longer matter.
  transport_->cancel();
  tasks_done_->notify();
}

asio::awaitable<void> ServerSession::serve() {
  executor_ = co_await asio::this_coro::executor;
  writer_wake_ = std::make_unique<Signal>(executor_);
  tasks_done_ = std::make_unique<Signal>(executor_);

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_begin_headers_callback(callbacks, Callbacks::on_begin_headers);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, Callbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, Callbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks, Callbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks, Callbacks::on_stream_close);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_max_settings(option, 32);
  const int created = nghttp2_session_server_new2(&session_, callbacks, this, option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (created != 0) co_return;

  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxConcurrentStreams},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)},
      {NGHTTP2_SETTINGS_ENABLE_CONNECT_PROTOCOL, 1},
      {NGHTTP2_SETTINGS_MAX_HEADER_LIST_SIZE,
       static_cast<std::uint32_t>(env_.settings.parser.max_head_bytes)}};
  nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);

  asio::co_spawn(executor_, write_loop(), [](const std::exception_ptr&) {});
  std::vector<char> buffer(kReadChunk);
  for (;;) {
    if (failed_ || closing_) break;
    update_deadline();
    auto [ec, n] = co_await transport_->read_some(asio::buffer(buffer));
    if (ec) {
      // The client left (or the connection failed, or a deadline passed): nothing more can be
      // delivered; streams still running are abandoned.
      failed_ = true;
      break;
    }
    const ssize_t rv =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer.data()), n);
    if (rv < 0) {
      log::http().debug("conn {}: h2 protocol error: {}", id_,
                        nghttp2_strerror(static_cast<int>(rv)));
      // Some fatal errors (a flood, too many CONTINUATION frames) queue no GOAWAY of their own:
      // the client still learns why the connection ends.
      nghttp2_session_terminate_session(
          session_, rv == NGHTTP2_ERR_FLOODED || rv == NGHTTP2_ERR_TOO_MANY_CONTINUATIONS
                        ? NGHTTP2_ENHANCE_YOUR_CALM
                        : NGHTTP2_PROTOCOL_ERROR);
      closing_ = true;  // the writer sends the GOAWAY
    }
    wake_writer();
    if (!nghttp2_session_want_read(session_) && !nghttp2_session_want_write(session_)) break;
  }
  closing_ = true;
  if (failed_) {
    for (auto& [id, stream] : streams_) {
      stream->closed = true;
      if (stream->body_wake) stream->body_wake->notify();
      if (stream->pump_wake) stream->pump_wake->notify();
    }
  }
  wake_writer();
  while (running_tasks_ > 0 || !writer_done_) {
    co_await tasks_done_->wait();
    wake_writer();
  }
  transport_->shutdown_send();
  if (failed_) co_return;
  // Closing with unread input would make the kernel reset the connection and destroy the
  // GOAWAY in flight: read and drop what the client still sends, for a short time.
  deadline = net::Clock::now() + env_.settings.linger_timeout;
  for (;;) {
    auto [ec, n] = co_await transport_->read_some(asio::buffer(buffer));
    if (ec || failed_) break;
  }
}

void ServerSession::on_deadline() noexcept {
  failed_ = true;
  transport_->cancel();
  wake_writer();
}

void ServerSession::on_drain() noexcept {
  for (auto& [id, stream] : streams_) {
    if (stream->on_drain) asio::post(executor_, stream->on_drain);
  }
  if (session_ == nullptr || goaway_sent_) return;
  goaway_sent_ = true;
  nghttp2_submit_goaway(session_, NGHTTP2_FLAG_NONE,
                        nghttp2_session_get_last_proc_stream_id(session_), NGHTTP2_NO_ERROR,
                        nullptr, 0);
  wake_writer();
}

void ServerSession::on_abort() noexcept {
  failed_ = true;
  transport_->close();
  wake_writer();
}

}  // namespace rws::h2
