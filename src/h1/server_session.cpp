#include "h1/server_session.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>
#include <tuple>

#include <asio/error.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/client_address.hpp>
#include <rws/http/status.hpp>

#include "core/log.hpp"
#include "h1/serializer.hpp"
#include "http/date.hpp"
#include "http/drain_notice.hpp"
#include "net/tcp_transport.hpp"

namespace rws::h1 {
namespace {

// Pending output is written once it reaches this size even if more pipelined requests wait.
constexpr std::size_t kFlushThreshold = 64 * 1024;
// In-memory bodies up to this size are copied next to the head and leave in the same write.
constexpr std::size_t kInlineBodyLimit = 64 * 1024;
// Files up to this size are read next to the head instead of being sent with sendfile.
constexpr std::size_t kInlineFileLimit = 16 * 1024;
// Large bodies leave in pieces of this size; the write deadline applies to each piece.
constexpr std::size_t kWritePiece = 256 * 1024;
constexpr std::uint64_t kFilePiece = 1 << 20;
constexpr std::size_t kStreamFrame = 64 * 1024;
// Unread request body discarded to keep a connection alive; beyond it the connection closes.
constexpr std::uint64_t kMaxDrain = 1 << 20;
// Bytes read and discarded after the response before a close (so the close does not reset).
constexpr std::uint64_t kMaxLinger = 1 << 20;
// How long the wait for the next request relies on readiness alone (see wait_for_request); the
// sweep interval comes on top.
constexpr std::chrono::milliseconds kNextRecheck{200};

http::Response error_response(int status, std::string_view reason) {
  std::string body(http::reason_phrase(status));
  if (!reason.empty()) {
    body += ": ";
    body += reason;
  }
  body += '\n';
  return http::Response::text(status, std::move(body));
}

net::Clock::time_point after(std::chrono::milliseconds timeout) {
  return net::Clock::now() + timeout;
}

}  // namespace

// The request line fields needed after the request itself has been moved into the handler.
struct ExchangeMeta {
  std::string method;
  std::string target;
  int version = 11;
  std::string referer;
  std::string user_agent;
};

// Shared between the session and the body sources it hands out, so that a source outliving its
// exchange (or the session) fails cleanly instead of touching freed state.
struct ServerSession::BodyLink {
  ServerSession* session = nullptr;
  std::uint64_t generation = 0;
};

class ServerSession::RequestBody final : public http::BodySource {
 public:
  explicit RequestBody(std::shared_ptr<BodyLink> link)
      : link_(std::move(link)), generation_(link_->generation) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    if (link_->session == nullptr || link_->generation != generation_) {
      co_return fail(Errc::kCancelled, ErrorSide::kInternal,
                     "request body read after its exchange ended");
    }
    co_return co_await link_->session->read_body(std::max<std::size_t>(max_bytes, 1));
  }

 private:
  std::shared_ptr<BodyLink> link_;
  std::uint64_t generation_;
};

ServerSession::ServerSession(std::unique_ptr<net::Transport> transport, SessionEnv env,
                             std::uint64_t id)
    : transport_(std::move(transport)),
      tcp_(dynamic_cast<net::TcpTransport*>(transport_.get())),
      env_(env),
      id_(id),
      link_(std::make_shared<BodyLink>()),
      parser_(env.settings.parser) {
  link_->session = this;
  env_.registry.add(*this);
}

ServerSession::~ServerSession() {
  link_->session = nullptr;
  env_.registry.remove(*this);
  env_.buffers.release(std::move(buffer_));
}

asio::awaitable<void> ServerSession::run(std::unique_ptr<ServerSession> self) {
  try {
    co_await self->serve();
  } catch (const std::exception& e) {
    log::http().error("conn {}: session failed: {}", self->id_, e.what());
  }
  self->transport_->close();
}

void ServerSession::on_deadline() noexcept {
  if (phase_ == Phase::kHandler) return;
  if (awaiting_recheck_) {  // not a timeout: the wait for the next request reads anew
    awaiting_recheck_ = false;
    recheck_due_ = true;
    transport_->cancel();
    return;
  }
  timed_out_ = true;
  transport_->cancel();
}

void ServerSession::on_drain() noexcept {
  if (drain_callback_) drain_callback_();  // an upgraded protocol that closes on its own
  if (phase_ == Phase::kIdle || phase_ == Phase::kLinger) transport_->cancel();
}

void ServerSession::on_abort() noexcept {
  aborted_ = true;
  transport_->cancel();
}

asio::awaitable<void> ServerSession::serve() {
  // (co_await is kept out of loop and switch conditions: g++ 12 miscompiles the former.)
  for (;;) {
    bool more = co_await wait_for_request();
    if (!more) break;
    if (!begin_head()) {
      more = co_await read_head();
      if (!more) break;
    }
    more = co_await exchange();
    if (!more) break;
  }
}

asio::awaitable<bool> ServerSession::wait_for_request() {
  if (!buffer_.empty()) co_return true;  // a pipelined request is already here
  bool flushed = false;
  if (!flush_at_once(flushed)) flushed = co_await flush();
  if (!flushed) co_return false;
  if (aborted_ || env_.draining.load(std::memory_order_relaxed)) co_return false;
  // Idle: the pooled buffer goes back, the output buffer is freed, and the wait reads into the
  // small buffer every session has, so an idle connection holds neither (and the wait costs no
  // extra syscall).
  env_.buffers.release(std::move(buffer_));
  std::string().swap(out_);
  phase_ = Phase::kIdle;
  timed_out_ = false;
  // The wait skips a recv() that would find nothing (Transport::read_next). An end of stream
  // that came with the last request's bytes does not wake it, so after kNextRecheck it reads
  // once more the usual way.
  const net::Clock::time_point now = net::Clock::now();
  const net::Clock::time_point idle_deadline = now + env_.settings.idle_timeout;
  deadline = std::min(idle_deadline, now + kNextRecheck);
  awaiting_recheck_ = true;
  recheck_due_ = false;
  net::ReadOutcome got;
  if (tcp_ != nullptr) {
    co_await tcp_->read_next_into(asio::buffer(idle_buffer_), got);
  } else {
    got = co_await transport_->read_next(asio::buffer(idle_buffer_));
  }
  auto [ec, n] = got;
  awaiting_recheck_ = false;
  if (recheck_due_ && ec == asio::error::operation_aborted && !aborted_) {
    deadline = idle_deadline;
    std::tie(ec, n) = co_await transport_->read_now(asio::buffer(idle_buffer_));
  }
  deadline = net::Clock::time_point::max();
  if (ec || aborted_) co_return false;  // closed, idle timeout, drain or error: close quietly
  buffer_ = env_.buffers.acquire();
  std::memcpy(buffer_.write_pointer(), idle_buffer_.data(), n);
  buffer_.commit(n);
  co_return true;
}

bool ServerSession::begin_head() {
  started_wall_ = std::chrono::system_clock::now();
  started_steady_ = net::Clock::now();
  client_address_.clear();
  return parser_.parse(buffer_.readable()) == RequestParser::Status::kComplete;
}

asio::awaitable<bool> ServerSession::read_head() {
  const net::Clock::time_point head_deadline = started_steady_ + env_.settings.header_timeout;
  for (;;) {
    switch (parser_.parse(buffer_.readable())) {
      case RequestParser::Status::kComplete:
        co_return true;
      case RequestParser::Status::kError:
        co_await reject(parser_.error().status, parser_.error().reason);
        co_return false;
      case RequestParser::Status::kIncomplete:
        break;
    }
    if (buffer_.writable() == 0) buffer_.grow(env_.settings.parser.max_head_bytes + 1);
    const ReadResult read = co_await read_more(Phase::kHead, head_deadline);
    switch (read) {
      case ReadResult::kOk:
        break;
      case ReadResult::kTimeout:
        co_await reject(408, "request header not received in time");
        co_return false;
      default:
        co_return false;  // the peer went away mid-head: nobody to answer
    }
  }
}

asio::awaitable<bool> ServerSession::exchange() {
  ++requests_;
  const MessageInfo info = parser_.info();
  // The head stays in the parser until the handler takes it (start_handler).
  const http::RequestHead& head = parser_.head();
  buffer_.consume(parser_.head_size());

  ExchangeMeta meta{head.method, head.target, head.version, {}, {}};
  if (env_.log != nullptr) {
    meta.referer = head.headers.get("referer");
    meta.user_agent = head.headers.get("user-agent");
  }

  body_ = BodyState{};
  ++link_->generation;
  if (info.framing == BodyFraming::kContentLength) {
    body_decoder_ = BodyDecoder::content_length(info.content_length);
    body_.active = true;
  } else if (info.framing == BodyFraming::kChunked) {
    body_decoder_ = BodyDecoder::chunked(env_.settings.chunked);
    body_.active = true;
  }
  body_.continue_pending = body_.active && info.expect_continue;

  if (info.unsupported_expectation) {
    parser_.reset();
    co_await reject(417, "only 100-continue is supported", &meta);
    co_return false;
  }
  const std::uint64_t max_body = env_.settings.max_body_size;
  if (max_body > 0 && info.framing == BodyFraming::kContentLength &&
      info.content_length > max_body) {
    parser_.reset();
    co_await reject(413, "request body larger than the server accepts", &meta);
    co_return false;
  }

  const net::PeerAddress& peer = transport_->peer();
  http::RequestContext context{peer.address, peer.port, transport_->secure(),  id_, requests_, this,
                               &notes_,      {},        transport_->tls_info()};
  if (!env_.settings.trusted_proxies.empty()) {
    context.client_address =
        http::client_address(peer.address, head.headers, env_.settings.trusted_proxies);
    client_address_ = context.client_address;
  }
  interim_allowed_ = meta.version >= 11;
  phase_ = Phase::kHandler;
  http::Response response;
  try {
    response = co_await start_handler(info, context);
  } catch (const std::exception& e) {
    log::http().error("conn {}: handler for {} {} threw: {}", id_, meta.method, meta.target,
                      e.what());
    response = error_response(500, "");
  } catch (...) {
    log::http().error("conn {}: handler for {} {} threw a non-standard exception", id_, meta.method,
                      meta.target);
    response = error_response(500, "");
  }
  interim_allowed_ = false;
  if (aborted_) co_return false;

  if (response.head.status == 101) {
    if (info.upgrade && response.upgrade && body_.error_status == 0) {
      co_await switch_protocols(response, meta);
      co_return false;
    }
    log::http().error("conn {}: 101 answer without an upgrade request or handler", id_);
    response = error_response(502, "invalid protocol switch");
  }

  bool keep_alive = info.keep_alive && !env_.draining.load(std::memory_order_relaxed);
  if (http::list_contains(response.head.headers.get("connection"), "close")) keep_alive = false;
  bool drain_after = false;
  if (body_.error_status != 0) {
    // Reading the request body failed: the framing is lost, so the handler's answer is replaced.
    response = error_response(body_.error_status, body_.error_reason);
    keep_alive = false;
  } else if (body_.active && !body_.finished) {
    if (body_.continue_pending) {
      keep_alive = false;  // the client may or may not send the body it announced
    } else if (info.framing == BodyFraming::kContentLength &&
               body_decoder_.remaining_in_chunk() > kMaxDrain) {
      keep_alive = false;
    } else {
      drain_after = keep_alive;
    }
  }

  std::uint64_t body_bytes = 0;
  const int status = response.head.status;
  // Most responses go whole into the output buffer (send_response's first step), without a
  // coroutine of their own.
  bool chunked = false;
  bool sent = false;
  switch (stage_response(response, meta, keep_alive, body_bytes, chunked)) {
    case Staged::kWhole:
      sent = true;
      break;
    case Staged::kFailed:
      break;
    case Staged::kHeadOnly:
      sent = co_await send_body(response.body, chunked, body_bytes);
      break;
  }
  log_exchange(&meta, status, body_bytes);
  if (!sent) co_return false;
  if (drain_after) keep_alive = co_await drain_body();
  if (!keep_alive) {
    co_await linger_and_close();
    co_return false;
  }
  if (out_.size() >= kFlushThreshold) co_return co_await flush();
  co_return true;
}

asio::awaitable<http::Response> ServerSession::start_handler(const MessageInfo& info,
                                                             http::RequestContext& context) {
  http::Body body;
  if (body_.active) {
    std::optional<std::uint64_t> size;
    if (info.framing == BodyFraming::kContentLength) size = info.content_length;
    body = http::Body::from_stream(std::make_unique<RequestBody>(link_), size);
  }
  // The request is built in the handler's parameter from the parser's head (one move of each
  // string). The handler sees only its parameter, so the parser is reset once the call returns,
  // or throws.
  struct ResetAfter {
    RequestParser& parser;
    ~ResetAfter() { parser.reset(); }
  } reset_after{parser_};
  return env_.service.handle(http::Request(std::move(parser_.head()), std::move(body)), context);
}

// The connection's byte stream after a 101: bytes the client sent right after the request come
// first, then the socket. A read waits at most idle_timeout, a write write_timeout; a read and a
// write may be pending together (WebSocket sessions, proxy tunnels), so each keeps its own
// deadline and the connection's is the earlier one.
class ServerSession::Tunnel final : public http::UpgradedStream, public http::DrainNotice {
 public:
  explicit Tunnel(ServerSession& session) : s_(session) {}

  asio::awaitable<std::pair<std::error_code, std::size_t>> read_some(
      asio::mutable_buffer buffer) override {
    if (!s_.buffer_.empty()) {
      std::size_t n = std::min(buffer.size(), s_.buffer_.size());
      std::memcpy(buffer.data(), s_.buffer_.readable().data(), n);
      s_.buffer_.consume(n);
      co_return std::pair<std::error_code, std::size_t>{std::error_code{}, n};
    }
    if (s_.aborted_)
      co_return std::pair<std::error_code, std::size_t>{asio::error::operation_aborted, 0};
    s_.phase_ = Phase::kBody;
    read_deadline_ = after(s_.env_.settings.idle_timeout);
    update_deadline();
    auto [ec, n] = co_await s_.transport_->read_some(buffer);
    read_deadline_ = net::Clock::time_point::max();
    update_deadline();
    co_return std::pair<std::error_code, std::size_t>{ec, n};
  }

  asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers) override {
    if (s_.aborted_) co_return make_error_code(asio::error::operation_aborted);
    write_deadline_ = after(s_.env_.settings.write_timeout);
    update_deadline();
    std::error_code ec = co_await s_.transport_->write(buffers);
    write_deadline_ = net::Clock::time_point::max();
    update_deadline();
    co_return ec;
  }

  void shutdown_send() noexcept override { s_.transport_->shutdown_send(); }

  void on_drain(std::function<void()> callback) override {
    s_.drain_callback_ = std::move(callback);
    if (s_.drain_callback_ && s_.env_.draining.load(std::memory_order_relaxed)) {
      s_.drain_callback_();
    }
  }

 private:
  void update_deadline() noexcept { s_.deadline = std::min(read_deadline_, write_deadline_); }

  ServerSession& s_;
  net::Clock::time_point read_deadline_ = net::Clock::time_point::max();
  net::Clock::time_point write_deadline_ = net::Clock::time_point::max();
};

asio::awaitable<void> ServerSession::switch_protocols(http::Response& response,
                                                      const ExchangeMeta& meta) {
  ResponseFraming framing;
  framing.date = http::http_date_now();
  framing.server = env_.settings.server_name;
  framing.connection = "upgrade";
  append_response_head(out_, response.head, framing);
  bool sent = co_await flush();
  log_exchange(&meta, 101, 0);
  if (!sent) co_return;
  Tunnel tunnel(*this);
  try {
    co_await response.upgrade(tunnel);
  } catch (const std::exception& e) {
    log::http().warn("conn {}: upgraded connection failed: {}", id_, e.what());
  }
  drain_callback_ = nullptr;
}

asio::awaitable<bool> ServerSession::send_interim(const http::ResponseHead& head) {
  if (!interim_allowed_ || head.status < 100 || head.status > 199 || head.status == 101) {
    co_return true;  // HTTP/1.0 clients get no interim responses; 101 is not one
  }
  append_response_head(out_, head, ResponseFraming{});
  co_return co_await flush();
}

Unexpected<Error> ServerSession::body_failure(int status, std::string_view reason, Errc code) {
  body_.error_status = status;
  body_.error_reason = reason;
  return fail(code, ErrorSide::kDownstream, std::string(reason));
}

asio::awaitable<Result<http::BodyFrame>> ServerSession::read_body(std::size_t max_bytes) {
  if (body_.error_status != 0) {
    co_return fail(Errc::kBadMessage, ErrorSide::kDownstream, std::string(body_.error_reason));
  }
  if (body_.continue_pending) {
    body_.continue_pending = false;
    // A client that already started sending does not need the interim response.
    if (buffer_.empty()) {
      out_.append(kContinue);
      if (!co_await flush()) {
        co_return body_failure(400, "connection failed", Errc::kClosed);
      }
    }
  }
  for (;;) {
    if (body_decoder_.done()) {
      if (!body_.trailers_delivered && !body_decoder_.trailers().empty()) {
        body_.trailers_delivered = true;
        http::BodyFrame trailers;
        trailers.kind = http::BodyFrame::Kind::kTrailers;
        trailers.trailers = std::move(body_decoder_.trailers());
        co_return trailers;
      }
      body_.finished = true;
      co_return http::BodyFrame::end();
    }
    if (!buffer_.empty()) {
      std::string_view input = buffer_.readable().substr(0, max_bytes);
      BodyDecoder::Step step;
      if (body_decoder_.decode(input, step) == BodyDecoder::Status::kError) {
        co_return body_failure(400, body_decoder_.error(), Errc::kBadMessage);
      }
      buffer_.consume(step.consumed);  // the bytes stay in place until the next read
      if (!step.data.empty()) {
        body_.received += step.data.size();
        const std::uint64_t max_body = env_.settings.max_body_size;
        if (max_body > 0 && body_.received > max_body) {
          co_return body_failure(413, "request body larger than the server accepts",
                                 Errc::kTooLarge);
        }
        co_return http::BodyFrame::bytes(step.data);
      }
      if (step.consumed > 0 || body_decoder_.done()) continue;
    }
    const ReadResult read = co_await read_more(Phase::kBody, after(env_.settings.body_timeout));
    switch (read) {
      case ReadResult::kOk:
        break;
      case ReadResult::kTimeout:
        co_return body_failure(408, "request body not received in time", Errc::kTimeout);
      case ReadResult::kEof:
        co_return body_failure(400, "connection closed before the request body ended",
                               Errc::kClosed);
      default:
        co_return body_failure(400, "connection failed while reading the request body",
                               Errc::kClosed);
    }
  }
}

asio::awaitable<bool> ServerSession::drain_body() {
  std::uint64_t drained = 0;
  for (;;) {
    Result<http::BodyFrame> frame = co_await read_body(kStreamFrame);
    if (!frame) co_return false;
    if (frame->kind == http::BodyFrame::Kind::kEnd) co_return true;
    drained += frame->data.size();
    if (drained > kMaxDrain) co_return false;
  }
}

asio::awaitable<ServerSession::ReadResult> ServerSession::read_more(Phase phase,
                                                                    net::Clock::time_point until) {
  bool flushed = false;
  if (!flush_at_once(flushed)) flushed = co_await flush();
  if (!flushed) co_return ReadResult::kError;
  if (aborted_) co_return ReadResult::kAborted;
  if (!buffer_.allocated()) buffer_ = env_.buffers.acquire();
  std::size_t space = buffer_.writable();
  if (space == 0) co_return ReadResult::kError;
  phase_ = phase;
  timed_out_ = false;
  deadline = until;
  const asio::mutable_buffer room(buffer_.write_pointer(), space);
  net::ReadOutcome got;
  if (phase == Phase::kLinger) {
    // The client's end of stream may have come with its request, unannounced (read_next): ask.
    got = co_await transport_->read_now(room);
  } else {
    got = co_await transport_->read_some(room);
  }
  deadline = net::Clock::time_point::max();
  auto [ec, n] = got;
  if (!ec) {
    buffer_.commit(n);
    co_return ReadResult::kOk;
  }
  if (timed_out_) co_return ReadResult::kTimeout;
  if (aborted_) co_return ReadResult::kAborted;
  if (ec == asio::error::eof) co_return ReadResult::kEof;
  co_return ReadResult::kError;
}

ServerSession::Staged ServerSession::stage_response(http::Response& response,
                                                    const ExchangeMeta& meta, bool& keep_alive,
                                                    std::uint64_t& body_bytes, bool& chunked) {
  const bool no_content = http::status_forbids_body(response.head.status);
  const std::optional<std::uint64_t> size = response.body.size();
  ResponseFraming framing;
  framing.date = http::http_date_now();
  framing.server = env_.settings.server_name;
  if (!env_.settings.hsts.empty() && transport_->secure() &&
      !response.head.headers.contains("strict-transport-security")) {
    response.head.headers.add("Strict-Transport-Security", env_.settings.hsts);
  }
  if (!env_.settings.alt_svc.empty() && transport_->secure() &&
      !response.head.headers.contains("alt-svc")) {
    response.head.headers.add("Alt-Svc", env_.settings.alt_svc);
  }
  if (!no_content) {
    if (size) {
      framing.content_length = size;
    } else if (meta.version >= 11) {
      framing.chunked = true;
    } else {
      keep_alive = false;  // HTTP/1.0 without a length: the close ends the body
    }
  }
  chunked = framing.chunked;
  framing.connection = !keep_alive ? "close" : (meta.version == 10 ? "keep-alive" : "");
  if (std::size_t dropped = append_response_head(out_, response.head, framing); dropped > 0) {
    log::http().warn("conn {}: dropped {} response field(s) with invalid names or values", id_,
                     dropped);
  }
  const http::Body& body = response.body;
  if (no_content || meta.method == "HEAD" || body.is_empty()) return Staged::kWhole;
  if (body.is_bytes() && body.bytes().size() <= kInlineBodyLimit) {
    body_bytes = body.bytes().size();
    out_.append(body.bytes());
    return Staged::kWhole;
  }
  if (body.is_file() && body.file().length <= kInlineFileLimit) {
    body_bytes = body.file().length;
    return read_file_inline(body.file()) ? Staged::kWhole : Staged::kFailed;
  }
  return Staged::kHeadOnly;
}

asio::awaitable<bool> ServerSession::send_body(http::Body& body, bool chunked,
                                               std::uint64_t& body_bytes) {
  if (body.is_bytes()) {
    std::string_view bytes = body.bytes();
    body_bytes = bytes.size();
    std::size_t first = std::min(bytes.size(), kWritePiece);
    std::array<asio::const_buffer, 2> head_and_first{asio::buffer(out_),
                                                     asio::buffer(bytes.data(), first)};
    if (!co_await write(head_and_first)) co_return false;
    out_.clear();
    for (std::size_t pos = first; pos < bytes.size(); pos += kWritePiece) {
      std::array<asio::const_buffer, 1> piece{
          asio::buffer(bytes.data() + pos, std::min(kWritePiece, bytes.size() - pos))};
      if (!co_await write(piece)) co_return false;
    }
    co_return true;
  }
  if (body.is_file()) {
    body_bytes = body.file().length;
    co_return co_await send_file(body.file());
  }
  co_return co_await send_stream(body.stream(), chunked, body.size(), body_bytes);
}

asio::awaitable<bool> ServerSession::send_response(http::Response& response,
                                                   const ExchangeMeta& meta, bool& keep_alive,
                                                   std::uint64_t& body_bytes) {
  bool chunked = false;
  const Staged staged = stage_response(response, meta, keep_alive, body_bytes, chunked);
  if (staged != Staged::kHeadOnly) co_return staged == Staged::kWhole;
  co_return co_await send_body(response.body, chunked, body_bytes);
}

bool ServerSession::read_file_inline(const http::FileRegion& region) {
  const std::size_t start = out_.size();
  const auto length = static_cast<std::size_t>(region.length);
  out_.resize(start + length);
  std::size_t done = 0;
  while (done < length) {
    ssize_t n = ::pread(region.file->fd(), out_.data() + start + done, length - done,
                        static_cast<off_t>(region.offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // The head promised `length` bytes; without them the message cannot be completed.
      log::http().error("conn {}: reading a file for the response failed", id_);
      out_.resize(start);
      return false;
    }
    done += static_cast<std::size_t>(n);
  }
  return true;
}

asio::awaitable<bool> ServerSession::send_file(const http::FileRegion& region) {
  std::uint64_t offset = region.offset;
  std::uint64_t left = region.length;
  while (left > 0) {
    std::uint64_t piece = std::min<std::uint64_t>(left, kFilePiece);
    if (aborted_) co_return false;
    phase_ = Phase::kWrite;
    timed_out_ = false;
    deadline = after(env_.settings.write_timeout);
    // The pending output (this response's head) leaves with the first piece.
    std::error_code ec = co_await transport_->send_file(out_, region.file->fd(), offset, piece);
    deadline = net::Clock::time_point::max();
    out_.clear();
    if (ec) co_return false;
    offset += piece;
    left -= piece;
    // Let the worker's other connections run between pieces of a large file.
    if (left > 0) co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
  }
  co_return true;
}

asio::awaitable<bool> ServerSession::send_stream(http::BodySource& source, bool chunked,
                                                 std::optional<std::uint64_t> size,
                                                 std::uint64_t& body_bytes) {
  static constexpr std::string_view kCrlf = "\r\n";
  http::Headers trailers;
  for (;;) {
    // Data already received comes without next()'s coroutine.
    Result<http::BodyFrame> frame = http::BodyFrame::end();
    if (std::optional<Result<http::BodyFrame>> ready = source.next_ready(kStreamFrame)) {
      frame = std::move(*ready);
    } else {
      frame = co_await source.next(kStreamFrame);
    }
    if (!frame) {
      // The status line is gone already; closing without the end of the message tells the
      // client the body is incomplete.
      log::http().warn("conn {}: response body failed: {}", id_, frame.error().describe());
      co_return false;
    }
    switch (frame->kind) {
      case http::BodyFrame::Kind::kData: {
        std::string_view data = frame->data;
        if (data.empty()) break;
        body_bytes += data.size();
        if (size && body_bytes > *size) {
          log::http().error("conn {}: response body longer than its declared length", id_);
          co_return false;
        }
        if (chunked) append_chunk_header(out_, data.size());
        std::array<asio::const_buffer, 3> pieces{asio::buffer(out_), asio::buffer(data),
                                                 asio::buffer(kCrlf.data(), chunked ? 2 : 0)};
        bool written = false;
        if (!write_at_once(pieces, written)) written = co_await write(pieces);
        if (!written) co_return false;
        out_.clear();
        break;
      }
      case http::BodyFrame::Kind::kTrailers:
        trailers = std::move(frame->trailers);
        break;
      case http::BodyFrame::Kind::kEnd:
        if (size && body_bytes != *size) {
          log::http().error("conn {}: response body shorter than its declared length", id_);
          co_return false;
        }
        if (chunked) append_last_chunk(out_, trailers);
        co_return true;
    }
  }
}

asio::awaitable<bool> ServerSession::write(std::span<const asio::const_buffer> buffers) {
  if (aborted_) co_return false;
  phase_ = Phase::kWrite;
  timed_out_ = false;
  deadline = after(env_.settings.write_timeout);
  std::error_code ec = co_await transport_->write(buffers);
  deadline = net::Clock::time_point::max();
  co_return !ec;
}

bool ServerSession::write_at_once(std::span<const asio::const_buffer> buffers, bool& ok) noexcept {
  if (aborted_) {
    ok = false;
    return true;
  }
  std::error_code ec;
  if (!transport_->write_at_once(buffers, ec)) return false;
  ok = !ec;
  return true;
}

bool ServerSession::flush_at_once(bool& ok) noexcept {
  if (out_.empty()) {
    ok = true;
    return true;
  }
  std::array<asio::const_buffer, 1> pending{asio::buffer(out_)};
  if (!write_at_once(pending, ok)) return false;
  out_.clear();
  return true;
}

asio::awaitable<bool> ServerSession::flush() {
  bool ok = false;
  if (flush_at_once(ok)) co_return ok;
  std::array<asio::const_buffer, 1> pending{asio::buffer(out_)};
  ok = co_await write(pending);
  out_.clear();
  co_return ok;
}

asio::awaitable<void> ServerSession::reject(int status, std::string_view reason,
                                            const ExchangeMeta* meta) {
  http::Response response = error_response(status, reason);
  ExchangeMeta unknown{"-", "-", 11, {}, {}};
  bool keep_alive = false;
  std::uint64_t body_bytes = 0;
  const ExchangeMeta& described = meta != nullptr ? *meta : unknown;
  bool sent = co_await send_response(response, described, keep_alive, body_bytes);
  log_exchange(meta ? meta : &unknown, status, body_bytes);
  if (sent) co_await linger_and_close();
}

asio::awaitable<void> ServerSession::linger_and_close() {
  if (!co_await flush()) co_return;
  transport_->shutdown_send();
  // Read and discard what the client still sends, so that closing with unread data does not
  // reset the connection before the client has read the response.
  const net::Clock::time_point until = after(env_.settings.linger_timeout);
  std::uint64_t discarded = 0;
  while (discarded < kMaxLinger) {
    buffer_.consume(buffer_.size());
    const ReadResult read = co_await read_more(Phase::kLinger, until);
    if (read != ReadResult::kOk) break;
    discarded += buffer_.size();
  }
  transport_->close();
}

void ServerSession::log_exchange(const ExchangeMeta* meta, int status, std::uint64_t body_bytes) {
  if (env_.log == nullptr) {
    notes_.clear();
    return;
  }
  http::ExchangeRecord record;
  record.peer_address = client_address_.empty() ? transport_->peer().address : client_address_;
  record.method = meta->method;
  record.target = meta->target;
  record.version = meta->version;
  record.referer = meta->referer;
  record.user_agent = meta->user_agent;
  record.status = status;
  record.body_bytes = body_bytes;
  record.request_bytes = body_.received;
  record.start = started_wall_;
  record.duration = net::Clock::now() - started_steady_;
  record.connection_id = id_;
  record.request_id = notes_.request_id;
  record.route = notes_.route;
  record.upstream = notes_.upstream;
  record.upstream_address = notes_.upstream_address;
  record.upstream_time = notes_.upstream_time;
  record.upstream_status = notes_.upstream_status;
  env_.log->record(record);
  notes_.clear();
}

}  // namespace rws::h1
