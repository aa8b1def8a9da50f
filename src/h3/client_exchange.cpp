// h3::ClientSession, second half: the exchanges, their request-body pumps and response bodies.
#include <algorithm>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/steady_timer.hpp>

#include "core/log.hpp"
#include "h3/client_session.hpp"
#include "h3/client_stream.hpp"
#include "h3/nv.hpp"

namespace rws::h3 {
namespace {

// Request bytes buffered per stream ahead of the server's acknowledgements.
constexpr std::size_t kPumpHighWater = 256 * 1024;
constexpr std::size_t kPumpChunk = 16 * 1024;

}  // namespace

nghttp3_ssize read_request_body(nghttp3_conn* http, int64_t stream_id, nghttp3_vec* vec,
                                size_t veccnt, uint32_t* flags, void*, void* stream_user_data) {
  auto* s = static_cast<ClientSession::Stream*>(stream_user_data);
  if (s == nullptr) return NGHTTP3_ERR_CALLBACK_FAILURE;
  return s->provide(http, stream_id, vec, veccnt, flags);
}

// The response body of one stream, read by the proxy as its client takes it.
class ClientResponseBody final : public http::BodySource {
 public:
  ClientResponseBody(std::shared_ptr<ClientSession> session,
                     std::shared_ptr<ClientSession::Stream> stream, http::ExchangeLimits limits)
      : session_(std::move(session)), stream_(std::move(stream)), limits_(limits) {}

  ~ClientResponseBody() override {
    ClientSession::Stream& s = *stream_;
    if (!s.body_in.empty()) {
      session_->consume(s, s.body_in.size());
      s.body_in.clear();
    }
    // Abandoned before the end: the server need not send the rest.
    if (!s.ended) session_->cancel_stream(s);
  }

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    ClientSession::Stream& s = *stream_;
    for (;;) {
      if (!s.body_in.empty()) {
        const std::size_t n = std::min(std::max<std::size_t>(max_bytes, 1), s.body_in.size());
        chunk_.assign(s.body_in, 0, n);
        s.body_in.erase(0, n);
        session_->consume(s, n);
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
      if (s.closed || !s.failure.empty()) {
        co_return fail(Errc::kClosed, ErrorSide::kUpstream,
                       !s.failure.empty() ? s.failure
                                          : "backend " + session_->name() +
                                                " reset the stream during the response body "
                                                "(HTTP/3 error " +
                                                hex(s.error_code) + ")");
      }
      const auto until = std::min(net::Clock::now() + limits_.read_timeout, limits_.deadline);
      if (!co_await s.wake->wait_until(until) && s.body_in.empty() && !s.ended && !s.closed &&
          s.failure.empty()) {
        session_->cancel_stream(s);
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

void ClientSession::cancel_stream(Stream& stream) {
  if (stream.closed || finished_) return;
  ngtcp2_conn_shutdown_stream(quic_->conn, stream.id, NGHTTP3_H3_REQUEST_CANCELLED);
  schedule_write();
}

void ClientSession::consume(Stream& stream, std::size_t n) {
  if (finished_) return;
  ngtcp2_conn_extend_max_stream_offset(quic_->conn, stream.id, n);
  ngtcp2_conn_extend_max_offset(quic_->conn, n);
  schedule_write();
}

asio::awaitable<void> ClientSession::pump_request(
    [[maybe_unused]] std::shared_ptr<ClientSession> keep_alive, std::shared_ptr<Stream> stream,
    http::ExchangeLimits limits) {
  for (;;) {
    if (stream->closed || finished_) break;
    if (stream->out_bytes >= kPumpHighWater) {
      // The server acknowledges nothing: it may stay so for write_timeout.
      if (!co_await stream->pump_wake->wait_until(net::Clock::now() + limits.write_timeout) &&
          stream->out_bytes >= kPumpHighWater && !stream->closed) {
        log::http().debug("h3 upstream {}: stream {} took no request body in time", name_,
                          stream->id);
        cancel_stream(*stream);
        break;
      }
      continue;
    }
    Result<http::BodyFrame> frame = co_await stream->source->next(kPumpChunk);
    if (stream->closed || finished_) break;
    if (!frame) {
      log::http().debug("h3 upstream {}: request body failed: {}", name_, frame.error().describe());
      cancel_stream(*stream);
      break;
    }
    const bool end = stream->keep(*frame);
    if (stream->deferred) {
      stream->deferred = false;
      nghttp3_conn_resume_stream(quic_->http, stream->id);
    }
    schedule_write();
    if (end) break;
  }
  stream->source.reset();  // the client's body is released as soon as it is not needed
}

asio::awaitable<Result<http::Response>> ClientSession::exchange(http::OutgoingRequest request,
                                                                const http::ExchangeLimits& limits,
                                                                http::InterimSender* interim) {
  // A draining session still carries what was handed to it (the pool hands it out no more).
  if (dead() || goaway_id_ >= 0 || quic_->http == nullptr) {
    co_return upstream_error(Errc::kClosed, true,
                             "the HTTP/3 connection to " + name_ + " takes no new streams");
  }
  ++exchanges_;
  std::int64_t id = -1;
  for (;;) {
    const int rv = ngtcp2_conn_open_bidi_stream(quic_->conn, &id, nullptr);
    if (rv == 0) break;
    if (rv != NGTCP2_ERR_STREAM_ID_BLOCKED || dead()) {
      co_return upstream_error(Errc::kClosed, true,
                               "cannot open a stream to " + name_ + ": " + ngtcp2_strerror(rv));
    }
    // Streams in flight give credit back as they end.
    const auto until = std::min(net::Clock::now() + limits.read_timeout, limits.deadline);
    asio::steady_timer waiter(executor_, until);
    credit_waiters_.push_back(&waiter);
    co_await waiter.async_wait(kUseTuple);
    std::erase(credit_waiters_, &waiter);
    if (net::Clock::now() >= until) {
      co_return upstream_error(Errc::kTimeout, true,
                               "backend " + name_ + " allowed no new stream in time");
    }
  }
  std::vector<nghttp3_nv> nva;
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
  stream->id = id;
  stream->wake = std::make_unique<h2::Signal>(executor_);
  stream->pump_wake = std::make_unique<h2::Signal>(executor_);
  const bool has_body = request.body != nullptr;
  stream->source = std::move(request.body);
  nghttp3_data_reader reader{read_request_body};
  if (const int rv = nghttp3_conn_submit_request(quic_->http, id, nva.data(), nva.size(),
                                                 has_body ? &reader : nullptr, stream.get());
      rv != 0) {
    ngtcp2_conn_shutdown_stream(quic_->conn, id, NGHTTP3_H3_REQUEST_CANCELLED);
    co_return upstream_error(Errc::kClosed, true,
                             "cannot send a request to " + name_ + ": " + nghttp3_strerror(rv));
  }
  streams_[id] = stream;
  update_deadline();
  schedule_write();

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
    if (stream->head_done && stream->failure.empty()) break;
    if (stream->closed || !stream->failure.empty()) {
      std::string why = !stream->failure.empty()
                            ? stream->failure
                            : "backend " + name_ + " closed the stream before answering (HTTP/3 " +
                                  "error " + hex(stream->error_code) + ")";
      co_return upstream_error(Errc::kClosed, stream->rejected, std::move(why));
    }
    const auto until = std::min(net::Clock::now() + limits.read_timeout, limits.deadline);
    if (!co_await stream->wake->wait_until(until) && !stream->head_done && !stream->closed &&
        stream->interims.empty() && stream->failure.empty()) {
      cancel_stream(*stream);
      co_return upstream_error(Errc::kTimeout, false, "no response from " + name_ + " in time");
    }
  }

  const bool body_follows =
      !stream->ended || !stream->body_in.empty() || !stream->trailers_in.empty();
  std::unique_ptr<http::BodySource> body;
  if (body_follows) body = std::make_unique<ClientResponseBody>(std::move(self), stream, limits);
  co_return http::streamed_response(std::move(stream->head), std::move(body));
}

}  // namespace rws::h3
