#include "proxy/proxy_service.hpp"

#include <algorithm>

#include <asio/experimental/awaitable_operators.hpp>

#include <rws/http/status.hpp>

#include "core/log.hpp"
#include "h1/body_decoder.hpp"
#include "h1/response_parser.hpp"
#include "h1/serializer.hpp"
#include "http/syntax.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/grpc.hpp"
#include "proxy/h2_forward.hpp"
#include "proxy/h3_forward.hpp"
#include "proxy/upstream_connection.hpp"
#include "proxy/upstream_request.hpp"

namespace rws::proxy {
namespace {

using std::chrono::milliseconds;

constexpr milliseconds kExpectWait{1000};  // how long a backend may take to answer 100-continue
constexpr std::size_t kBodyChunk = 64 * 1024;
constexpr std::size_t kTunnelChunk = 16 * 1024;
// A Content-Length body up to this size that arrived whole with its head is handed on from
// memory (see final_response).
constexpr std::uint64_t kWholeBodyLimit = 2 * 1024;

bool idempotent(std::string_view method) {
  return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" ||
         method == "DELETE" || method == "TRACE";
}

http::Response gateway_error(int status, std::string_view detail) {
  return http::Response::text(
      status, std::string(http::reason_phrase(status)) + ": " + std::string(detail) + "\n");
}

// "request <id>: " when the request has an id (for log lines about it), else "".
std::string request_id_prefix(const http::RequestContext& context) {
  if (context.notes == nullptr || context.notes->request_id.empty()) return {};
  return "request " + context.notes->request_id + ": ";
}

Unexpected<Error> upstream_failure(std::error_code code, bool retryable, std::string context) {
  return Unexpected(Error{code, ErrorSide::kUpstream, retryable, std::move(context)});
}

// The answer of an upgrade-only route to a request that is not an upgrade. Built outside handle()
// to keep that coroutine's frame under 1020 bytes: Asio's per-thread cache recycles only frames up
// to that size, bigger ones cost a malloc and a free per call (and evict smaller cached frames).
http::Response upgrade_required() {
  http::Response r = gateway_error(426, "this route accepts only WebSocket upgrades");
  r.head.headers.add("Upgrade", "websocket");
  return r;
}

// A HEAD response's body: its length is the representation's, nothing follows on the wire.
class NoBody final : public http::BodySource {
 public:
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t) override {
    co_return http::BodyFrame::end();
  }
};

// The backends one request has tried; inline for up to 64 backends.
class TriedBackends {
 public:
  explicit TriedBackends(std::size_t n) {
    if (n > 64) more_.resize(n, 0);
  }
  bool contains(std::size_t i) const {
    return more_.empty() ? (bits_ >> i & 1) != 0 : more_[i] != 0;
  }
  void insert(std::size_t i) {
    if (more_.empty()) {
      bits_ |= std::uint64_t{1} << i;
    } else {
      more_[i] = 1;
    }
  }

 private:
  std::uint64_t bits_ = 0;
  std::vector<char> more_;
};

struct PoolSettings {
  unsigned max_idle;
  std::chrono::seconds idle_timeout;
  unsigned max_requests;
};

void release(std::unique_ptr<UpstreamConnection> conn, const PoolSettings& pool) {
  if (++conn->requests >= pool.max_requests || !conn->input().empty()) return;
  ConnectionPool::local().give(std::move(conn), pool.max_idle, pool.idle_timeout);
}

// The response body, read from the backend as the client takes it. When it ends cleanly the
// connection goes back to the pool; abandoned half-way, it is closed.
class UpstreamBody final : public http::BodySource {
 public:
  UpstreamBody(std::unique_ptr<UpstreamConnection> conn, h1::BodyDecoder decoder,
               milliseconds read_timeout, bool reusable, PoolSettings pool)
      : conn_(std::move(conn)),
        decoder_(std::move(decoder)),
        read_timeout_(read_timeout),
        reusable_(reusable),
        pool_(pool) {}

  std::optional<Result<http::BodyFrame>> next_ready(std::size_t max_bytes) override {
    for (;;) {
      if (decoder_.done()) {
        if (!decoder_.trailers().empty()) {
          http::BodyFrame trailers;
          trailers.kind = http::BodyFrame::Kind::kTrailers;
          trailers.trailers = std::move(decoder_.trailers());
          decoder_.trailers().clear();
          return trailers;
        }
        if (conn_) {
          if (reusable_) release(std::move(conn_), pool_);
          conn_.reset();
        }
        return http::BodyFrame::end();
      }
      const std::string_view input = conn_->input();
      if (input.empty()) return std::nullopt;
      h1::BodyDecoder::Step step;
      if (decoder_.decode(input.substr(0, max_bytes), step) == h1::BodyDecoder::Status::kError) {
        return fail(Errc::kBadMessage, ErrorSide::kUpstream,
                    "malformed response body from the backend: " + std::string(decoder_.error()));
      }
      conn_->consume(step.consumed);  // the bytes stay in place until the next read
      if (!step.data.empty()) return http::BodyFrame::bytes(step.data);
      if (step.consumed == 0 && !decoder_.done()) return std::nullopt;  // more must be read
    }
  }

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    for (;;) {
      if (std::optional<Result<http::BodyFrame>> ready = next_ready(max_bytes)) {
        co_return std::move(*ready);
      }
      std::error_code ec = co_await conn_->read_more(read_timeout_);
      if (ec == asio::error::eof && decoder_.delimited_by_close()) {
        decoder_.end_of_input();
        reusable_ = false;
        continue;
      }
      if (ec) {
        co_return fail(ec == make_error_code(Errc::kTimeout) ? Errc::kTimeout : Errc::kClosed,
                       ErrorSide::kUpstream, "backend failed during the response body");
      }
    }
  }

 private:
  std::unique_ptr<UpstreamConnection> conn_;
  h1::BodyDecoder decoder_;
  milliseconds read_timeout_;
  bool reusable_;
  PoolSettings pool_;
};

// Copies bytes one way until the source ends; then half-closes the destination.
asio::awaitable<void> client_to_backend(http::UpgradedStream& client, UpstreamConnection& backend,
                                        milliseconds timeout) {
  std::string buffer(kTunnelChunk, '\0');
  for (;;) {
    auto [ec, n] = co_await client.read_some(asio::buffer(buffer));
    if (ec) break;
    std::array<asio::const_buffer, 1> piece{asio::buffer(buffer.data(), n)};
    if (co_await backend.write(piece, timeout)) break;
  }
  backend.transport().shutdown_send();
}

asio::awaitable<void> backend_to_client(UpstreamConnection& backend, http::UpgradedStream& client,
                                        milliseconds timeout) {
  for (;;) {
    if (!backend.input().empty()) {
      std::string_view input = backend.input();
      std::array<asio::const_buffer, 1> piece{asio::buffer(input.data(), input.size())};
      std::error_code wec = co_await client.write(piece);
      backend.consume(input.size());
      if (wec) break;
    }
    std::error_code ec = co_await backend.read_more(timeout);
    if (ec && backend.input().empty()) break;
  }
  client.shutdown_send();
}

// What the head sent to the backend says about the request's framing.
struct UpstreamFraming {
  std::optional<std::uint64_t> content_length;
  bool chunked;
  bool upgrade;
  bool expect_continue;
};

// Appends the request head as the backend sees it to `out`. A plain function: the head's
// parameters stay out of the coroutine frame that sends it.
void append_request_head(std::string& out, const ProxyOptions& options, const Backend& backend,
                         const http::RequestHead& in, const http::RequestContext& context,
                         const UpstreamFraming& framing) {
  const UpstreamHead head{.host = options.preserve_host && !in.authority.empty()
                                      ? std::string_view(in.authority)
                                      : backend.authority(),
                          .strip_prefix = options.strip_path_prefix,
                          .add_prefix = options.add_path_prefix,
                          .content_length = framing.content_length,
                          .chunked = framing.chunked,
                          .upgrade = framing.upgrade,
                          .expect_continue = framing.expect_continue};
  const ForwardedFor client{
      context.peer_address, context.secure ? "https" : "http", in.authority, in.version,
      context.tls && context.tls->has_client_certificate ? &context.tls->client_certificate
                                                         : nullptr};
  append_upstream_request_head(out, in, head, client);
}

// The client's response from the backend's final response head, which `parser` holds and `conn`
// still has in its input. `reusable` says whether the exchange left the connection fit for
// another request if the backend keeps it. A plain function: its locals stay out of forward()'s
// coroutine frame.
Result<http::Response> final_response(std::unique_ptr<UpstreamConnection> conn,
                                      h1::ResponseParser& parser, std::string_view method,
                                      bool upgrade, bool reusable, const std::string& backend_url,
                                      const config::Upstream& cfg, milliseconds read_timeout) {
  const PoolSettings pool{cfg.max_idle_per_backend, cfg.idle_timeout,
                          cfg.max_requests_per_connection};
  const h1::ResponseInfo info = parser.info();
  http::Response response;
  response.head.status = parser.head().status;
  response.head.reason = parser.head().reason;
  response.head.headers = std::move(parser.head().headers);
  conn->consume(parser.head_size());

  if (response.head.status == 101) {
    if (!upgrade) {
      return upstream_failure(make_error_code(Errc::kBadMessage), false,
                              backend_url + " switched protocols unasked");
    }
    remove_hop_by_hop(response.head.headers, true);
    append_via(response.head.headers, info.version);
    std::shared_ptr<UpstreamConnection> tunnel(std::move(conn));
    const milliseconds idle = std::chrono::duration_cast<milliseconds>(cfg.idle_timeout);
    response.upgrade = [tunnel, idle](http::UpgradedStream& client) -> asio::awaitable<void> {
      using namespace asio::experimental::awaitable_operators;
      co_await (client_to_backend(client, *tunnel, idle) &&
                backend_to_client(*tunnel, client, idle));
    };
    return response;
  }

  // A HEAD response's Content-Length states the representation's size (read before the
  // filter drops the field).
  std::uint64_t head_size = 0;
  const bool head_sized =
      method == "HEAD" && response.head.headers.contains("content-length") &&
      http::syntax::parse_decimal(response.head.headers.get("content-length"), head_size);
  filter_response_fields(response.head.headers, info.version);
  reusable = reusable && info.keep_alive;
  if (method == "HEAD") {
    if (head_sized) {
      response.body = http::Body::from_stream(std::make_unique<NoBody>(), head_size);
    }
    if (reusable) release(std::move(conn), pool);
    return response;
  }
  if (info.framing == h1::BodyFraming::kNone && !info.until_close) {
    if (reusable) release(std::move(conn), pool);
    return response;
  }
  // A small body that arrived whole with the head goes on as bytes, and the connection back to
  // the pool at once: copying a few bytes costs less than pulling them through a stream (its
  // allocation, decoder and the session's streaming loop). Larger bodies stream from the
  // connection's buffer without a copy.
  if (info.framing == h1::BodyFraming::kContentLength && !info.until_close &&
      info.content_length <= kWholeBodyLimit && conn->input().size() >= info.content_length) {
    const auto length = static_cast<std::size_t>(info.content_length);
    response.body = http::Body::from_string(std::string(conn->input().substr(0, length)));
    conn->consume(length);
    if (reusable) release(std::move(conn), pool);
    return response;
  }
  h1::BodyDecoder decoder = info.until_close ? h1::BodyDecoder::until_close()
                            : info.framing == h1::BodyFraming::kChunked
                                ? h1::BodyDecoder::chunked()
                                : h1::BodyDecoder::content_length(info.content_length);
  std::optional<std::uint64_t> size;
  if (info.framing == h1::BodyFraming::kContentLength) size = info.content_length;
  response.body =
      http::Body::from_stream(std::make_unique<UpstreamBody>(std::move(conn), std::move(decoder),
                                                             read_timeout, reusable, pool),
                              size);
  return response;
}

}  // namespace

struct ProxyService::Attempt {
  bool body_started = false;  // the client's body is being consumed: the request cannot replay
  bool idempotent = false;
  // grpc-timeout of a gRPC request: the exchange ends there; max: none.
  Clock::time_point deadline = Clock::time_point::max();
};

ProxyService::ProxyService(std::shared_ptr<UpstreamGroup> upstream, ProxyOptions options)
    : upstream_(std::move(upstream)), options_(std::move(options)) {}

asio::awaitable<http::Response> ProxyService::handle(
    http::Request request, const http::RequestContext& context,
    [[maybe_unused]] std::shared_ptr<const void> pin) {
  if (options_.upgrade_only && !is_upgrade_request(request.head)) co_return upgrade_required();
  UpstreamGroup& group = *upstream_;
  const config::CircuitBreaker* breaker = group.breaker();
  Attempt attempt;
  attempt.idempotent = idempotent(request.head.method);
  if (options_.grpc) {
    if (auto timeout = grpc::parse_timeout(request.head.headers.get("grpc-timeout"))) {
      attempt.deadline = Clock::now() + std::chrono::duration_cast<Clock::duration>(*timeout);
    }
  }
  unsigned retries_left = group.config.retries;
  TriedBackends tried(group.backends.size());
  std::optional<Error> last_error;
  for (;;) {
    // The eligibility test captures one pointer, so the Balancer::Eligible built from it holds
    // it inline (no allocation per pick).
    struct Eligibility {
      const TriedBackends& tried;
      const UpstreamGroup& group;
      const config::CircuitBreaker* breaker;
      Clock::time_point now;
    } eligibility{tried, group, breaker, Clock::now()};
    std::optional<std::size_t> pick =
        group.balancer->pick(context.client(), [e = &eligibility](std::size_t i) {
          return !e->tried.contains(i) && e->group.backends[i]->available(e->breaker, e->now);
        });
    if (!pick) break;
    tried.insert(*pick);
    const Clock::time_point now = eligibility.now;
    // The group, which this service holds, keeps its backends.
    Backend* const backend = group.backends[*pick].get();
    if (!backend->admit(breaker, now)) continue;

    // Counted only where the balancer reads it: other strategies leave the counter, which
    // every worker would write, alone.
    Backend* const counted = group.balancer->uses_load() ? backend : nullptr;
    if (counted != nullptr) counted->in_flight.fetch_add(1, std::memory_order_relaxed);
    struct InFlight {
      Backend* b;
      ~InFlight() {
        if (b != nullptr) b->in_flight.fetch_sub(1, std::memory_order_relaxed);
      }
    } in_flight{counted};
    const Clock::time_point start = now;  // taken just above, for the pick
    Result<http::Response> result = co_await forward(*backend, request, context, attempt);
    const Clock::time_point end = Clock::now();
    if (http::ExchangeNotes* notes = context.notes) {
      notes->upstream = backend->upstream();
      notes->upstream_address = backend->authority();
      notes->upstream_time = std::chrono::duration_cast<std::chrono::microseconds>(end - start);
      notes->upstream_status = result ? result->head.status : 0;
    }
    if (result) {
      if (counted != nullptr) {
        counted->record_latency(std::chrono::duration_cast<std::chrono::microseconds>(end - start));
      }
      backend->on_result(breaker, true, end);
      if (options_.grpc && result->body.is_stream()) {
        std::optional<std::uint64_t> size = result->body.size();
        result->body = http::Body::from_stream(
            grpc::guard_body(std::move(result->body).into_source(), attempt.deadline), size);
      }
      co_return std::move(*result);
    }
    last_error = std::move(result).error();
    const bool backend_fault = last_error->side == ErrorSide::kUpstream;
    if (backend_fault) backend->record_failure(group.config.passive, end);
    backend->on_result(breaker, !backend_fault, end);
    log::http().warn("{}upstream '{}' backend {}: {}", request_id_prefix(context),
                     group.config.name, backend->url(), last_error->describe());
    const bool retry = last_error->retryable && retries_left > 0 && Clock::now() < attempt.deadline;
    if (!retry) break;
    --retries_left;
  }
  co_return failure_response(last_error ? &*last_error : nullptr, attempt);
}

http::Response ProxyService::failure_response(const Error* last_error,
                                              const Attempt& attempt) const {
  const std::string& name = upstream_->config.name;
  if (last_error == nullptr) {
    const std::string detail = "no live backend for upstream '" + name + "'";
    return options_.grpc ? grpc::error_response(grpc::Status::kUnavailable, detail)
                         : gateway_error(options_.no_live_backend_status, detail);
  }
  const bool timeout = last_error->code == make_error_code(Errc::kTimeout);
  if (options_.grpc) {
    if (Clock::now() >= attempt.deadline) {
      return grpc::error_response(grpc::Status::kDeadlineExceeded,
                                  "deadline exceeded at the proxy: " + last_error->context);
    }
    if (last_error->side == ErrorSide::kDownstream) {
      return grpc::error_response(last_error->code == make_error_code(Errc::kTooLarge)
                                      ? grpc::Status::kResourceExhausted
                                      : grpc::Status::kInternal,
                                  last_error->context);
    }
    return grpc::error_response(grpc::Status::kUnavailable, last_error->context);
  }
  if (last_error->side == ErrorSide::kDownstream) {
    // The client's side failed (its body was too large, too slow or malformed).
    const int status = last_error->code == make_error_code(Errc::kTooLarge) ? 413
                       : timeout                                            ? 408
                                                                            : 400;
    return gateway_error(status, last_error->context);
  }
  return gateway_error(timeout ? 504 : 502, last_error->context);
}

asio::awaitable<Result<http::Response>> ProxyService::forward(Backend& backend,
                                                              http::Request& request,
                                                              const http::RequestContext& context,
                                                              Attempt& attempt) {
  if (backend.http2() || backend.http3()) {
    return forward_multiplexed(backend, request, context, attempt);
  }
  return forward_over_h1(backend, request, context, attempt);
}

asio::awaitable<Result<http::Response>> ProxyService::forward_multiplexed(
    Backend& backend, http::Request& request, const http::RequestContext& context,
    Attempt& attempt) {
  const config::Upstream& cfg = upstream_->config;
  MultiplexedAttempt multiplexed{
      .connect_timeout = options_.connect_timeout.value_or(cfg.connect_timeout),
      .read_timeout = options_.read_timeout.value_or(cfg.read_timeout),
      .deadline = attempt.deadline,
      .replayable = attempt.idempotent};
  Result<http::Response> response = Unexpected(Error{});
  if (backend.http3()) {
    response = co_await forward_h3(*upstream_, backend, options_, request, context, multiplexed);
  } else {
    response = co_await forward_h2(*upstream_, backend, options_, request, context, multiplexed);
  }
  attempt.body_started = attempt.body_started || multiplexed.body_started;
  co_return response;
}

asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> ProxyService::connect(
    Backend& backend, const std::vector<asio::ip::tcp::endpoint>& endpoints,
    const std::string& pool_key, bool tls) const {
  const config::Upstream& cfg = upstream_->config;
  std::shared_ptr<const net::TlsClientContext> context;
  std::string_view server_name;
  if (tls) {
    context = upstream_->tls;
    server_name = upstream_->tls_server_name(backend);
  }
  return UpstreamConnection::connect(endpoints,
                                     options_.connect_timeout.value_or(cfg.connect_timeout),
                                     pool_key, std::move(context), server_name);
}

asio::awaitable<Result<http::Response>> ProxyService::forward_over_h1(
    Backend& backend, http::Request& request, const http::RequestContext& context,
    Attempt& attempt) {
  const config::Upstream& cfg = upstream_->config;
  const milliseconds read_timeout = options_.read_timeout.value_or(cfg.read_timeout);
  const http::RequestHead& in = request.head;
  const bool upgrade = is_upgrade_request(in);

  // The request head as the backend sees it (written per connection, see below).
  const bool expect_continue = http::list_contains(in.headers.get("expect"), "100-continue");
  const bool has_body = !request.body.is_empty();
  const std::optional<std::uint64_t> length = request.body.size();
  const bool chunked = has_body && !length;
  std::optional<std::uint64_t> content_length;
  if (has_body && length) {
    content_length = length;
  } else if (!has_body && (in.method == "POST" || in.method == "PUT" || in.method == "PATCH")) {
    content_length = 0;
  }
  const bool relay_expect = expect_continue && has_body && !attempt.body_started;

  // A pooled connection the backend closed meanwhile fails before any byte: then the same
  // request goes out once more on a fresh connection (it never reached the backend). Only an
  // idempotent request without a body can be resent so; for the others the pool first checks
  // that the connection is still open.
  const bool resendable = attempt.idempotent && !has_body;
  const bool tls = backend.tls() && upstream_->tls;
  const std::string& pool_key = tls ? upstream_->tls_pool_keys.at(&backend) : backend.url();
  for (int round = 0;; ++round) {
    std::unique_ptr<UpstreamConnection> conn;
    if (round == 0) {
      conn = ConnectionPool::local().take(pool_key, cfg.idle_timeout, !resendable);
    }
    if (!conn) {
      // Looked up only to connect: the lookup takes the backend's lock, which every worker
      // shares.
      std::shared_ptr<const std::vector<asio::ip::tcp::endpoint>> endpoints = backend.endpoints();
      if (!endpoints || endpoints->empty()) {
        co_return upstream_failure(make_error_code(Errc::kNotFound), true,
                                   "no address known for " + backend.url());
      }
      Result<std::unique_ptr<UpstreamConnection>> connected =
          co_await connect(backend, *endpoints, pool_key, tls);
      if (!connected) co_return Unexpected(std::move(connected).error());
      conn = std::move(*connected);
      conn->idle_gauge = backend.idle_connections;
    }
    const bool stale_possible = conn->reused;
    // Only an idempotent request may go out again (RFC 9110 §9.2.2): a backend that closes
    // right after receiving a request may have acted on it.
    auto retry_stale = [&]() {
      return stale_possible && attempt.idempotent && !attempt.body_started;
    };

    // Written into the connection's own buffer, whose capacity stays with the connection.
    std::string& head_bytes = conn->request_head();
    head_bytes.clear();
    append_request_head(head_bytes, options_, backend, in, context,
                        UpstreamFraming{content_length, chunked, upgrade, relay_expect});
    std::array<asio::const_buffer, 1> head_piece{asio::buffer(head_bytes)};
    std::error_code write_error;
    if (!conn->write_at_once(head_piece, write_error)) {
      write_error = co_await conn->write(head_piece, cfg.write_timeout);
    }
    if (std::error_code ec = write_error) {
      if (retry_stale()) continue;
      co_return upstream_failure(ec, !attempt.body_started,
                                 "sending the request to " + backend.url());
    }

    h1::ResponseParser& parser = conn->response_parser();
    parser.reset();
    bool got_final_early = false;  // the backend answered before it got the body
    bool body_sent = !has_body;
    if (has_body && relay_expect) {
      // Wait briefly for the backend's verdict before pulling the client's body (which is what
      // makes this server send its own 100 Continue to the client).
      std::error_code ec = co_await conn->read_more(kExpectWait);
      if (!ec) {
        auto status = parser.parse(conn->input(), in.method);
        while (status == h1::ResponseParser::Status::kIncomplete) {
          ec = co_await conn->read_more(read_timeout);
          if (ec) break;
          status = parser.parse(conn->input(), in.method);
        }
        if (status == h1::ResponseParser::Status::kError) {
          co_return upstream_failure(
              make_error_code(Errc::kBadMessage), false,
              "malformed response from " + backend.url() + ": " + std::string(parser.error()));
        }
        if (!ec && parser.head().status == 100) {
          conn->consume(parser.head_size());
          parser.reset();
        } else if (!ec) {
          got_final_early = true;
        }
      }
      if (ec && ec != make_error_code(Errc::kTimeout)) {
        if (retry_stale()) continue;
        co_return upstream_failure(ec, attempt.idempotent, "waiting for " + backend.url());
      }
    }

    if (has_body && !got_final_early) {
      attempt.body_started = true;
      Result<bool> sent = co_await send_body(*conn, request.body, chunked, backend.url());
      if (!sent) co_return Unexpected(std::move(sent).error());
      body_sent = *sent;  // false: the backend stopped reading; it may have answered (413)
    }

    bool stale = false;
    // Without a body, the head just written is the whole request: the first read is for its
    // reply.
    auto read_for =
        has_body ? UpstreamConnection::ReadFor::kMore : UpstreamConnection::ReadFor::kReply;
    for (;;) {
      auto status = parser.parse(conn->input(), in.method);
      if (status == h1::ResponseParser::Status::kError) {
        co_return upstream_failure(
            make_error_code(Errc::kBadMessage), false,
            "malformed response from " + backend.url() + ": " + std::string(parser.error()));
      }
      if (status == h1::ResponseParser::Status::kIncomplete) {
        const bool nothing_yet = conn->input().empty();
        std::error_code ec = co_await conn->read_more(read_timeout, read_for);
        read_for = UpstreamConnection::ReadFor::kMore;
        if (ec) {
          if (nothing_yet && retry_stale() && ec != make_error_code(Errc::kTimeout)) {
            stale = true;
            break;
          }
          bool retryable = nothing_yet && attempt.idempotent && !attempt.body_started;
          co_return upstream_failure(ec == make_error_code(Errc::kTimeout)
                                         ? make_error_code(Errc::kTimeout)
                                         : make_error_code(Errc::kClosed),
                                     retryable,
                                     ec == make_error_code(Errc::kTimeout)
                                         ? "no response from " + backend.url() + " in time"
                                         : "backend " + backend.url() + " closed the connection");
        }
        continue;
      }
      const int code = parser.head().status;
      if (code > 599) {  // no class to understand it by (RFC 9110 §15)
        co_return upstream_failure(
            make_error_code(Errc::kBadMessage), false,
            backend.url() + " answered with status " + std::to_string(code) + ", outside 100-599");
      }
      if (code >= 100 && code < 200 && code != 101) {
        // 100 was for us; other interim answers go on to the client.
        if (code != 100 && context.interim != nullptr) {
          filter_response_fields(parser.head().headers, parser.info().version);
          co_await context.interim->send_interim(parser.head());
        }
        conn->consume(parser.head_size());
        parser.reset();
        continue;
      }
      break;
    }
    if (stale) continue;  // the pooled connection had been closed: once more on a fresh one

    co_return final_response(std::move(conn), parser, in.method, upgrade,
                             body_sent && !got_final_early, backend.url(), cfg, read_timeout);
  }
}

asio::awaitable<Result<bool>> ProxyService::send_body(UpstreamConnection& conn, http::Body& body,
                                                      bool chunked, const std::string& backend) {
  static constexpr std::string_view kCrlf = "\r\n";
  const milliseconds write_timeout = upstream_->config.write_timeout;
  std::unique_ptr<http::BodySource> source = std::move(body).into_source();
  http::Headers trailers;
  for (;;) {
    Result<http::BodyFrame> frame = co_await source->next(kBodyChunk);
    if (!frame) {
      co_return Unexpected(Error{frame.error().code, ErrorSide::kDownstream, false,
                                 "reading the request body: " + frame.error().describe()});
    }
    if (frame->kind == http::BodyFrame::Kind::kEnd) break;
    if (frame->kind == http::BodyFrame::Kind::kTrailers) {
      trailers = std::move(frame->trailers);
      continue;
    }
    if (frame->data.empty()) continue;
    std::string chunk_head;
    if (chunked) h1::append_chunk_header(chunk_head, frame->data.size());
    std::array<asio::const_buffer, 3> pieces{asio::buffer(chunk_head), asio::buffer(frame->data),
                                             asio::buffer(kCrlf.data(), chunked ? 2 : 0)};
    if (std::error_code ec = co_await conn.write(pieces, write_timeout)) {
      log::http().debug("writing the request body to {}: {}", backend, ec.message());
      co_return false;
    }
  }
  if (chunked) {
    std::string last;
    h1::append_last_chunk(last, trailers);
    std::array<asio::const_buffer, 1> end_piece{asio::buffer(last)};
    if (co_await conn.write(end_piece, write_timeout)) co_return false;
  }
  co_return true;
}

}  // namespace rws::proxy
