#include "h2/client_session.hpp"

#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <deque>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/this_coro.hpp>

#include <rws/http/headers.hpp>

#include "core/log.hpp"
#include "h2/outgoing_data.hpp"
#include "h2/signal.hpp"

namespace rws::h2 {
namespace {

using std::chrono::milliseconds;

constexpr std::size_t kReadChunk = 32 * 1024;
constexpr std::size_t kWriteBatch = 64 * 1024;
// Request bytes buffered per stream ahead of the backend's flow-control window.
constexpr std::size_t kPumpHighWater = 64 * 1024;
constexpr std::size_t kPumpChunk = 16 * 1024;
// Streams this side opens on one connection at most (the backend may allow fewer).
constexpr std::uint32_t kMaxStreamsPerSession = 100;
constexpr std::int32_t kStreamWindow = 256 * 1024;
constexpr std::int32_t kConnectionWindow = 4 * 1024 * 1024;
// A response head (with trailers: the trailer block) larger than this resets the stream.
constexpr std::size_t kMaxHeaderBytes = 256 * 1024;

nghttp2_nv make_nv(std::string_view name, std::string_view value) {
  return nghttp2_nv{reinterpret_cast<uint8_t*>(const_cast<char*>(name.data())),
                    reinterpret_cast<uint8_t*>(const_cast<char*>(value.data())), name.size(),
                    value.size(), NGHTTP2_NV_FLAG_NONE};
}

Unexpected<Error> upstream_error(Errc code, bool retryable, std::string context) {
  return Unexpected(
      Error{make_error_code(code), ErrorSide::kUpstream, retryable, std::move(context)});
}

}  // namespace

struct ClientSession::Stream : OutgoingData {
  std::int32_t id = 0;
  // The request body is pulled from `source` into OutgoingData.
  std::unique_ptr<http::BodySource> source;
  std::unique_ptr<Signal> pump_wake;

  // Response: interim heads not yet relayed, the final head, the body as DATA delivered it.
  int pending_status = 0;
  http::Headers pending_fields;
  std::deque<http::ResponseHead> interims;
  http::ResponseHead head;
  bool head_done = false;
  std::size_t header_bytes = 0;
  std::string body_in;
  bool ended = false;  // END_STREAM received
  http::Headers trailers_in;
  std::unique_ptr<Signal> wake;

  bool closed = false;
  std::uint32_t error_code = 0;  // RST_STREAM / GOAWAY code when closed early
};

// The response body of one stream, read by the proxy as its client takes it.
class ClientResponseBody final : public http::BodySource {
 public:
  ClientResponseBody(std::shared_ptr<ClientSession> session,
                     std::shared_ptr<ClientSession::Stream> stream, http::ExchangeLimits limits)
      : session_(std::move(session)), stream_(std::move(stream)), limits_(limits) {}

  ~ClientResponseBody() override {
    ClientSession::Stream& s = *stream_;
    if (!s.body_in.empty()) {
      nghttp2_session_consume_connection(session_->session_, s.body_in.size());
      s.body_in.clear();
    }
    // Abandoned before the end: the backend need not send the rest.
    if (!s.closed) session_->reset_stream(s, NGHTTP2_CANCEL);
    session_->wake_writer();
  }

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    ClientSession::Stream& s = *stream_;
    for (;;) {
      if (!s.body_in.empty()) {
        const std::size_t n = std::min(std::max<std::size_t>(max_bytes, 1), s.body_in.size());
        chunk_.assign(s.body_in, 0, n);
        s.body_in.erase(0, n);
        // The backend may send this much more: the window reopens as the client reads.
        nghttp2_session_consume(session_->session_, s.id, n);
        session_->wake_writer();
        co_return http::BodyFrame::bytes(chunk_);
      }
      if (s.ended) {
        if (!s.trailers_in.empty()) {
          http::BodyFrame frame;
          frame.kind = http::BodyFrame::Kind::kTrailers;
          frame.trailers = std::move(s.trailers_in);
          s.trailers_in.clear();
          co_return frame;
        }
        co_return http::BodyFrame::end();
      }
      if (s.closed) {
        co_return fail(
            Errc::kClosed, ErrorSide::kUpstream,
            "backend " + session_->name() + " reset the stream during the response body");
      }
      const auto until = std::min(net::Clock::now() + limits_.read_timeout, limits_.deadline);
      if (!co_await s.wake->wait_until(until) && s.body_in.empty() && !s.ended && !s.closed) {
        session_->reset_stream(s, NGHTTP2_CANCEL);
        co_return fail(Errc::kTimeout, ErrorSide::kUpstream,
                       "backend " + session_->name() + " sent no more of the response in time");
      }
    }
  }

 private:
  std::shared_ptr<ClientSession> session_;
  std::shared_ptr<ClientSession::Stream> stream_;
  http::ExchangeLimits limits_;
  std::string chunk_;
};

// nghttp2's callbacks, with the session as user data.
struct ClientCallbacks {
  static ClientSession& self(void* user_data) { return *static_cast<ClientSession*>(user_data); }

  static ClientSession::Stream* find(ClientSession& s, std::int32_t id) {
    auto it = s.streams_.find(id);
    return it == s.streams_.end() ? nullptr : it->second.get();
  }

  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name_data,
                       size_t name_length, const uint8_t* value_data, size_t value_length, uint8_t,
                       void* user_data) {
    ClientSession::Stream* stream = find(self(user_data), frame->hd.stream_id);
    if (stream == nullptr) return 0;
    std::string_view name(reinterpret_cast<const char*>(name_data), name_length);
    std::string_view value(reinterpret_cast<const char*>(value_data), value_length);
    stream->header_bytes += name.size() + value.size() + 32;
    if (stream->header_bytes > kMaxHeaderBytes) {
      return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;  // resets the stream
    }
    if (stream->head_done) {
      stream->trailers_in.add(name, value);
      return 0;
    }
    if (name == ":status") {
      int status = 0;
      std::from_chars(value.data(), value.data() + value.size(), status);
      stream->pending_status = status;
      return 0;
    }
    stream->pending_fields.add(name, value);
    return 0;
  }

  static int on_frame_recv(nghttp2_session*, const nghttp2_frame* frame, void* user_data) {
    ClientSession& s = self(user_data);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      s.goaway_ = true;
      return 0;
    }
    if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA) return 0;
    ClientSession::Stream* stream = find(s, frame->hd.stream_id);
    if (stream == nullptr) return 0;
    if (frame->hd.type == NGHTTP2_HEADERS && !stream->head_done) {
      const int status = stream->pending_status;
      http::ResponseHead head;
      head.status = status;
      head.headers = std::move(stream->pending_fields);
      stream->pending_fields.clear();
      stream->pending_status = 0;
      stream->header_bytes = 0;
      if (status >= 100 && status < 200) {
        stream->interims.push_back(std::move(head));
      } else {
        stream->head = std::move(head);
        stream->head_done = true;
      }
    }
    if ((frame->hd.flags & NGHTTP2_FLAG_END_STREAM) != 0) stream->ended = true;
    stream->wake->notify();
    return 0;
  }

  static int on_data_chunk(nghttp2_session* session, uint8_t, int32_t stream_id,
                           const uint8_t* data, size_t length, void* user_data) {
    ClientSession::Stream* stream = find(self(user_data), stream_id);
    if (stream == nullptr) {
      nghttp2_session_consume_connection(session, length);
      return 0;
    }
    stream->body_in.append(reinterpret_cast<const char*>(data), length);
    stream->wake->notify();
    return 0;
  }

  static int on_stream_close(nghttp2_session*, int32_t stream_id, uint32_t error_code,
                             void* user_data) {
    ClientSession& s = self(user_data);
    auto it = s.streams_.find(stream_id);
    if (it == s.streams_.end()) return 0;
    std::shared_ptr<ClientSession::Stream> stream = std::move(it->second);
    s.streams_.erase(it);
    stream->closed = true;
    stream->error_code = error_code;
    stream->wake->notify();
    stream->pump_wake->notify();
    s.stream_finished();
    return 0;
  }

  static ssize_t read_data(nghttp2_session* session, int32_t stream_id, uint8_t* buffer,
                           size_t length, uint32_t* flags, nghttp2_data_source*, void* user_data) {
    ClientSession::Stream* stream = find(self(user_data), stream_id);
    if (stream == nullptr) return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
    const ssize_t n = provide_data(session, stream_id, *stream, buffer, length, flags);
    stream->pump_wake->notify();
    return n;
  }
};

ClientSession::ClientSession(std::unique_ptr<net::Transport> transport,
                             std::chrono::seconds idle_timeout, std::string name)
    : transport_(std::move(transport)),
      idle_timeout_(idle_timeout),
      name_(std::move(name)),
      registry_(net::ConnectionRegistry::current()) {
  if (registry_ != nullptr) registry_->add(*this);
}

ClientSession::~ClientSession() {
  leave_registry();
  if (session_ != nullptr) nghttp2_session_del(session_);
}

asio::awaitable<std::shared_ptr<ClientSession>> ClientSession::start(
    std::unique_ptr<net::Transport> transport, std::chrono::seconds idle_timeout,
    std::string name) {
  std::shared_ptr<ClientSession> s(
      new ClientSession(std::move(transport), idle_timeout, std::move(name)));
  s->executor_ = co_await asio::this_coro::executor;
  s->writer_wake_ = std::make_unique<Signal>(s->executor_);

  nghttp2_session_callbacks* callbacks = nullptr;
  nghttp2_session_callbacks_new(&callbacks);
  nghttp2_session_callbacks_set_on_header_callback(callbacks, ClientCallbacks::on_header);
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks, ClientCallbacks::on_frame_recv);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks,
                                                            ClientCallbacks::on_data_chunk);
  nghttp2_session_callbacks_set_on_stream_close_callback(callbacks,
                                                         ClientCallbacks::on_stream_close);
  nghttp2_option* option = nullptr;
  nghttp2_option_new(&option);
  nghttp2_option_set_no_auto_window_update(option, 1);
  nghttp2_option_set_peer_max_concurrent_streams(option, kMaxStreamsPerSession);
  const int created = nghttp2_session_client_new2(&s->session_, callbacks, s.get(), option);
  nghttp2_option_del(option);
  nghttp2_session_callbacks_del(callbacks);
  if (created != 0) {
    s->dead_ = true;
    co_return s;
  }
  const nghttp2_settings_entry settings[] = {
      {NGHTTP2_SETTINGS_ENABLE_PUSH, 0},
      {NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, kMaxStreamsPerSession},
      {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, static_cast<std::uint32_t>(kStreamWindow)}};
  nghttp2_submit_settings(s->session_, NGHTTP2_FLAG_NONE, settings, std::size(settings));
  nghttp2_session_set_local_window_size(s->session_, NGHTTP2_FLAG_NONE, 0, kConnectionWindow);
  // Opened while the worker drains (a request still in flight needed it): it ends with its
  // last stream.
  s->draining_ = s->registry_ != nullptr && s->registry_->draining();
  s->update_deadline();
  asio::co_spawn(s->executor_, s->read_loop(s), asio::detached);
  asio::co_spawn(s->executor_, s->write_loop(s), asio::detached);
  co_return s;
}

bool ClientSession::can_take_stream() const noexcept {
  if (dead_ || goaway_ || draining_ || session_ == nullptr) return false;
  const std::uint32_t remote =
      nghttp2_session_get_remote_settings(session_, NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS);
  return streams_.size() < std::min(remote, kMaxStreamsPerSession);
}

void ClientSession::wake_writer() {
  if (writer_wake_) writer_wake_->notify();
}

void ClientSession::reset_stream(Stream& stream, std::uint32_t error_code) {
  if (stream.closed || dead_) return;
  nghttp2_submit_rst_stream(session_, NGHTTP2_FLAG_NONE, stream.id, error_code);
  wake_writer();
}

void ClientSession::fail_all(std::string_view why) noexcept {
  if (!streams_.empty()) log::http().debug("h2 upstream {}: {}", name_, why);
  // Closing a stream may run code that looks at the map: take it first.
  std::map<std::int32_t, std::shared_ptr<Stream>> streams;
  streams.swap(streams_);
  for (auto& [id, stream] : streams) {
    stream->closed = true;
    if (stream->error_code == 0) stream->error_code = NGHTTP2_CONNECT_ERROR;
    stream->wake->notify();
    stream->pump_wake->notify();
  }
}

void ClientSession::close() noexcept {
  dead_ = true;
  fail_all("connection closed");
  transport_->close();
  wake_writer();
}

void ClientSession::stream_finished() {
  if (streams_.empty() && (goaway_ || draining_) && !dead_) {
    // Nothing left to wait for: say goodbye; the writer ends once the GOAWAY is out.
    dead_ = true;
    nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
    wake_writer();
  }
  update_deadline();
}

void ClientSession::update_deadline() {
  if (writing_) {
    deadline = net::Clock::now() + write_timeout_;
  } else if (streams_.empty()) {
    deadline = net::Clock::now() + idle_timeout_;
  } else {
    deadline = net::Clock::time_point::max();  // the exchanges time themselves
  }
}

void ClientSession::on_deadline() noexcept {
  if (writing_ || !streams_.empty()) {
    log::http().warn("h2 upstream {}: a write made no progress in time; closing", name_);
    close();
    return;
  }
  // Idle for idle_timeout.
  dead_ = true;
  nghttp2_session_terminate_session(session_, NGHTTP2_NO_ERROR);
  wake_writer();
}

void ClientSession::on_drain() noexcept {
  draining_ = true;
  if (streams_.empty()) stream_finished();
}

void ClientSession::on_abort() noexcept {
  close();
}

asio::awaitable<void> ClientSession::read_loop(
    [[maybe_unused]] std::shared_ptr<ClientSession> keep_alive) {
  std::vector<char> buffer(kReadChunk);
  for (;;) {
    auto [ec, n] = co_await transport_->read_some(asio::buffer(buffer));
    if (ec) {
      fail_all(ec == asio::error::eof ? "the backend closed the connection"
                                      : "reading from the backend: " + ec.message());
      break;
    }
    const ssize_t rv =
        nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(buffer.data()), n);
    if (rv < 0) {
      log::http().warn("h2 upstream {}: protocol error: {}", name_,
                       nghttp2_strerror(static_cast<int>(rv)));
      nghttp2_session_terminate_session(session_, NGHTTP2_PROTOCOL_ERROR);
      fail_all("protocol error");
      dead_ = true;
    }
    wake_writer();
    if (dead_ && streams_.empty() && nghttp2_session_want_write(session_) == 0) break;
  }
  dead_ = true;
  wake_writer();
}

asio::awaitable<void> ClientSession::write_loop(
    [[maybe_unused]] std::shared_ptr<ClientSession> keep_alive) {
  std::string out;
  for (;;) {
    out.clear();
    bool failed = false;
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(session_, &data);
      if (n < 0) {
        failed = true;
        break;
      }
      if (n == 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<std::size_t>(n));
      if (out.size() >= kWriteBatch) break;
    }
    if (failed) break;
    if (!out.empty()) {
      writing_ = true;
      update_deadline();
      std::array<asio::const_buffer, 1> piece{asio::buffer(out)};
      std::error_code ec = co_await transport_->write(piece);
      writing_ = false;
      update_deadline();
      if (ec) break;
      continue;
    }
    if (dead_ && streams_.empty()) break;
    if (dead_ && nghttp2_session_want_read(session_) == 0) break;
    co_await writer_wake_->wait();
  }
  dead_ = true;
  fail_all("the connection to the backend failed");
  transport_->close();  // the reader ends with it
  // Ended: a draining worker must not wait for it (the pool may still hold the object).
  leave_registry();
}

void ClientSession::leave_registry() noexcept {
  if (registry_ == nullptr) return;
  registry_->remove(*this);
  registry_ = nullptr;
}

asio::awaitable<void> ClientSession::pump_request(
    [[maybe_unused]] std::shared_ptr<ClientSession> keep_alive, std::shared_ptr<Stream> stream,
    http::ExchangeLimits limits) {
  for (;;) {
    if (stream->closed) break;
    if (stream->pending_out() >= kPumpHighWater) {
      // The backend's window is shut: it may stay so for write_timeout.
      if (!co_await stream->pump_wake->wait_until(net::Clock::now() + limits.write_timeout) &&
          stream->pending_out() >= kPumpHighWater && !stream->closed) {
        log::http().debug("h2 upstream {}: stream {} took no request body in time", name_,
                          stream->id);
        reset_stream(*stream, NGHTTP2_CANCEL);
        break;
      }
      continue;
    }
    Result<http::BodyFrame> frame = co_await stream->source->next(kPumpChunk);
    if (stream->closed) break;
    if (!frame) {
      log::http().debug("h2 upstream {}: request body failed: {}", name_, frame.error().describe());
      reset_stream(*stream, NGHTTP2_CANCEL);
      break;
    }
    bool end = false;
    switch (frame->kind) {
      case http::BodyFrame::Kind::kData:
        stream->out.append(frame->data);
        break;
      case http::BodyFrame::Kind::kTrailers:
        stream->trailers_out = std::move(frame->trailers);
        break;
      case http::BodyFrame::Kind::kEnd:
        stream->out_ended = true;
        end = true;
        break;
    }
    if (stream->deferred && !stream->closed) {
      stream->deferred = false;
      nghttp2_session_resume_data(session_, stream->id);
    }
    wake_writer();
    if (end) break;
  }
  stream->source.reset();  // the client's body is released as soon as it is not needed
}

asio::awaitable<Result<http::Response>> ClientSession::exchange(http::OutgoingRequest request,
                                                                const http::ExchangeLimits& limits,
                                                                http::InterimSender* interim) {
  // A draining session still carries what was handed to it (the pool hands it out no more).
  if (dead_ || goaway_ || session_ == nullptr) {
    co_return upstream_error(Errc::kClosed, true,
                             "the HTTP/2 connection to " + name_ + " takes no new streams");
  }
  write_timeout_ = limits.write_timeout;
  std::vector<nghttp2_nv> nva;
  nva.reserve(request.fields.size() + 5);
  nva.push_back(make_nv(":method", request.method));
  nva.push_back(make_nv(":scheme", request.scheme));
  nva.push_back(make_nv(":authority", request.authority));
  nva.push_back(make_nv(":path", request.path));
  for (const auto& [name, value] : request.fields)
    nva.push_back(make_nv(name, value));
  std::string length_text;
  if (request.body && request.content_length) {
    length_text = std::to_string(*request.content_length);
    nva.push_back(make_nv("content-length", length_text));
  }

  auto stream = std::make_shared<Stream>();
  stream->wake = std::make_unique<Signal>(executor_);
  stream->pump_wake = std::make_unique<Signal>(executor_);
  const bool has_body = request.body != nullptr;
  stream->source = std::move(request.body);
  nghttp2_data_provider provider{};
  provider.read_callback = ClientCallbacks::read_data;
  const std::int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(),
                                                 has_body ? &provider : nullptr, nullptr);
  if (id < 0) {
    if (id == NGHTTP2_ERR_STREAM_ID_NOT_AVAILABLE) goaway_ = true;
    co_return upstream_error(Errc::kClosed, true,
                             "cannot open a stream to " + name_ + ": " + nghttp2_strerror(id));
  }
  stream->id = id;
  streams_[id] = stream;
  update_deadline();
  wake_writer();

  std::shared_ptr<ClientSession> self = shared_from_this();
  if (has_body) {
    if (limits.stream_request_body) {
      asio::co_spawn(executor_, pump_request(self, stream, limits), asio::detached);
    } else {
      co_await pump_request(self, stream, limits);
    }
  }

  for (;;) {
    while (!stream->interims.empty()) {
      http::ResponseHead head = std::move(stream->interims.front());
      stream->interims.pop_front();
      if (interim != nullptr && head.status != 100) co_await interim->send_interim(head);
    }
    if (stream->head_done) break;
    if (stream->closed) {
      // REFUSED_STREAM (also what streams above a GOAWAY's last id get): never processed.
      const bool refused = stream->error_code == NGHTTP2_REFUSED_STREAM;
      co_return upstream_error(Errc::kClosed, refused,
                               "backend " + name_ + " closed the stream before answering (" +
                                   nghttp2_http2_strerror(stream->error_code) + ")");
    }
    const auto until = std::min(net::Clock::now() + limits.read_timeout, limits.deadline);
    if (!co_await stream->wake->wait_until(until) && !stream->head_done && !stream->closed &&
        stream->interims.empty()) {
      reset_stream(*stream, NGHTTP2_CANCEL);
      co_return upstream_error(Errc::kTimeout, false, "no response from " + name_ + " in time");
    }
  }

  const bool body_follows =
      !stream->ended || !stream->body_in.empty() || !stream->trailers_in.empty();
  std::unique_ptr<http::BodySource> body;
  if (body_follows) body = std::make_unique<ClientResponseBody>(std::move(self), stream, limits);
  co_return http::streamed_response(std::move(stream->head), std::move(body));
}

}  // namespace rws::h2
