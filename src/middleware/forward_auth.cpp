#include <algorithm>
#include <array>
#include <memory>
#include <optional>
#include <stdexcept>
#include <tuple>
#include <variant>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/headers.hpp>
#include <rws/middleware/forward_auth.hpp>

#include "h1/body_decoder.hpp"
#include "h1/response_parser.hpp"
#include "http/syntax.hpp"
#include "middleware/service_address.hpp"
#include "net/tls_client_context.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/upstream_connection.hpp"

namespace rws::middleware {
namespace {

// Client fields never sent to the auth service: hop-by-hop, framing (no body is sent), Host
// (the service's own is sent) and the X-Forwarded-* fields this middleware writes.
bool dropped_field(const http::Headers& headers, std::string_view name) {
  constexpr std::string_view kOwn[] = {"host",
                                       "expect",
                                       "content-length",
                                       "transfer-encoding",
                                       "x-forwarded-method",
                                       "x-forwarded-proto",
                                       "x-forwarded-host",
                                       "x-forwarded-uri",
                                       "x-forwarded-for"};
  for (std::string_view own : kOwn) {
    if (http::iequals(name, own)) return true;
  }
  return proxy::is_fixed_hop_by_hop(name, false) ||
         proxy::named_in_connection(headers, name, false);
}

void append_field(std::string& out, std::string_view name, std::string_view value) {
  out.append(name).append(": ").append(value).append("\r\n");
}

// The auth request head: GET `target`, the client's safe fields, the X-Forwarded-* fields.
std::string auth_request_head(const ForwardAuthOptions& o, const http::RequestHead& in,
                              std::string_view client) {
  std::string out;
  out.reserve(512);
  out.append("GET ").append(o.target).append(" HTTP/1.1\r\n");
  append_field(out, "Host", o.host);
  for (const http::Field& f : in.headers) {
    if (dropped_field(in.headers, f.name)) continue;
    if (!http::syntax::is_token(f.name) || !http::syntax::is_field_value(f.value)) continue;
    append_field(out, f.name, f.value);
  }
  append_field(out, "X-Forwarded-Method", in.method);
  append_field(out, "X-Forwarded-Proto", in.scheme.empty() ? "http" : in.scheme);
  if (http::syntax::is_field_value(in.authority)) {
    append_field(out, "X-Forwarded-Host", in.authority);
  }
  std::string uri = in.path;
  if (!in.query.empty()) uri.append("?").append(in.query);
  if (http::syntax::is_field_value(uri)) append_field(out, "X-Forwarded-Uri", uri);
  append_field(out, "X-Forwarded-For", client);
  out.append("\r\n");
  return out;
}

// What the auth service answered: a full response, or a reason it could not be had.
struct AuthReply {
  int failure = 0;  // 0: `head` and `body` hold the response; else 502
  std::string reason;
  http::ResponseHead head;
  std::string body;
  bool stale = false;     // a reused connection failed before any response byte
  bool reusable = false;  // the connection may carry another check
};

AuthReply fail(std::string reason) {
  AuthReply r;
  r.failure = 502;
  r.reason = std::move(reason);
  return r;
}

// What a middleware instance shares between its checks.
struct State {
  ForwardAuthOptions options;
  std::shared_ptr<ServiceAddress> address;
  std::string pool_key;  // the service's connections in the worker's ConnectionPool
  std::shared_ptr<const net::TlsClientContext> tls;  // null for http
};

// The pool key: the scheme, and the service's name and port or its fixed addresses.
std::string pool_key(const ForwardAuthOptions& o) {
  std::string key = o.tls ? "forward_auth https://" : "forward_auth http://";
  if (!o.resolve_host.empty()) return key + o.resolve_host + ":" + std::to_string(o.port);
  for (const asio::ip::tcp::endpoint& e : o.endpoints) {
    key.append(e.address().to_string()).append(":").append(std::to_string(e.port())).append(",");
  }
  return key;
}

// One auth exchange on `conn`: sends `head`, reads the response.
asio::awaitable<AuthReply> exchange(proxy::UpstreamConnection& conn, const std::string& head,
                                    std::chrono::milliseconds timeout) {
  const bool reused = conn.reused;
  std::array<asio::const_buffer, 1> piece{asio::buffer(head)};
  if (std::error_code ec = co_await conn.write(piece, timeout)) {
    AuthReply r = fail("sending the auth request failed");
    r.stale = reused;
    co_return r;
  }
  h1::ResponseParser parser;
  for (;;) {
    h1::ResponseParser::Status s = parser.parse(conn.input(), "GET");
    if (s == h1::ResponseParser::Status::kError) co_return fail("malformed auth response");
    if (s == h1::ResponseParser::Status::kComplete) break;
    const bool nothing_yet = conn.input().empty();
    std::error_code ec = co_await conn.read_more(timeout);
    if (ec) {
      AuthReply r = fail("the auth service closed before a response head");
      r.stale = reused && nothing_yet && ec != make_error_code(Errc::kTimeout);
      co_return r;
    }
  }
  AuthReply reply;
  reply.head = std::move(parser.head());
  if (reply.head.status < 200) co_return fail("interim auth response");
  conn.consume(parser.head_size());
  const h1::ResponseInfo& info = parser.info();
  std::optional<h1::BodyDecoder> decoder;
  if (info.until_close) {
    decoder = h1::BodyDecoder::until_close();
  } else if (info.framing == h1::BodyFraming::kChunked) {
    decoder = h1::BodyDecoder::chunked();
  } else if (info.framing == h1::BodyFraming::kContentLength) {
    if (info.content_length > kMaxAuthBody) co_return fail("auth response body too large");
    decoder = h1::BodyDecoder::content_length(info.content_length);
  }
  while (decoder && !decoder->done()) {
    h1::BodyDecoder::Step step;
    if (decoder->decode(conn.input(), step) != h1::BodyDecoder::Status::kOk) {
      co_return fail("malformed auth response body");
    }
    reply.body.append(step.data);
    conn.consume(step.consumed);
    if (reply.body.size() > kMaxAuthBody) co_return fail("auth response body too large");
    if (decoder->done() || step.consumed > 0) continue;
    std::error_code ec = co_await conn.read_more(timeout);
    if (ec == asio::error::eof) {
      decoder->end_of_input();
      if (!decoder->done()) co_return fail("auth response body cut short");
    } else if (ec) {
      co_return fail("reading the auth response body failed");
    }
  }
  // Stray bytes after the response: the connection is out of step, not reused.
  reply.reusable = info.keep_alive && !info.until_close && conn.input().empty();
  co_return reply;
}

// A check: on a pooled connection if there is one, once more on a new connection when the
// pooled one turns out to be closed.
asio::awaitable<AuthReply> ask(const State& s, std::string head) {
  const ForwardAuthOptions& o = s.options;
  proxy::ConnectionPool& pool = proxy::ConnectionPool::local();
  const asio::any_io_executor executor = co_await asio::this_coro::executor;
  for (int round = 0;; ++round) {
    std::unique_ptr<proxy::UpstreamConnection> conn;
    if (round == 0) conn = pool.take(s.pool_key, o.idle_timeout, false);
    if (!conn) {
      s.address->refresh_if_due(executor);
      std::shared_ptr<const ServiceAddress::Endpoints> endpoints = s.address->endpoints();
      Result<std::unique_ptr<proxy::UpstreamConnection>> connected =
          co_await proxy::UpstreamConnection::connect(*endpoints, o.timeout, s.pool_key, s.tls,
                                                      o.server_name);
      if (!connected) {
        co_return fail(s.tls ? "the auth service is unreachable or its TLS handshake failed"
                             : "the auth service is unreachable");
      }
      conn = std::move(*connected);
    }
    AuthReply reply = co_await exchange(*conn, head, o.timeout);
    if (reply.stale) continue;
    if (reply.reusable) pool.give(std::move(conn), o.max_idle, o.idle_timeout);
    co_return reply;
  }
}

}  // namespace

Middleware forward_auth(ForwardAuthOptions options) {
  auto state = std::make_shared<State>();
  state->pool_key = pool_key(options);
  if (options.tls) {
    auto tls = net::TlsClientContext::load({});  // verification on, the system's trust store
    if (!tls) throw std::runtime_error("forward_auth: " + tls.error());
    state->tls = std::move(*tls);
  }
  state->address = std::make_shared<ServiceAddress>(options.endpoints, options.resolve_host,
                                                    options.port, options.resolve_every);
  state->options = std::move(options);
  return [state](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    using namespace asio::experimental::awaitable_operators;
    const ForwardAuthOptions& o = state->options;
    // Never trust the client's copies of fields the auth service vouches for.
    for (const std::string& name : o.copy_headers)
      request.head.headers.remove(name);
    std::string head = auth_request_head(o, request.head, context.client_address());
    asio::steady_timer timer(co_await asio::this_coro::executor, o.timeout);
    std::variant<AuthReply, std::tuple<std::error_code>> raced =
        co_await (ask(*state, std::move(head)) ||
                  timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    if (raced.index() == 1) {
      co_return http::Response::text(504,
                                     "Gateway Timeout: the auth service did not answer "
                                     "within " +
                                         std::to_string(o.timeout.count()) + " ms\n");
    }
    AuthReply& reply = std::get<0>(raced);
    if (reply.failure != 0) {
      co_return http::Response::text(reply.failure, "Bad Gateway: " + reply.reason + "\n");
    }
    if (reply.head.status >= 200 && reply.head.status < 300) {
      for (const std::string& name : o.copy_headers) {
        for (const http::Field& f : reply.head.headers) {
          if (http::iequals(f.name, name)) request.head.headers.add(name, f.value);
        }
      }
      Next n = next;
      co_return co_await n(request, context);
    }
    http::Response response;
    response.head.status = reply.head.status;
    response.head.reason = std::move(reply.head.reason);
    response.head.headers = std::move(reply.head.headers);
    proxy::remove_hop_by_hop(response.head.headers);
    response.body = http::Body::from_string(std::move(reply.body));
    co_return response;
  };
}

}  // namespace rws::middleware
