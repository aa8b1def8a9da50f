#include "fetch.hpp"

#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "h1/body_decoder.hpp"
#include "h1/response_parser.hpp"
#include "h1/serializer.hpp"
#include "h2/client_session.hpp"
#include "h3/client_session.hpp"
#include "http/outgoing_request.hpp"
#include "http/syntax.hpp"
#include "net/tls_client_context.hpp"
#include "proxy/upstream_connection.hpp"

namespace rws::client {
namespace {

using Alpn = net::TlsClientContext::Alpn;
constexpr std::chrono::seconds kIdleTimeout{60};

Unexpected<Error> failure(std::string what) {
  return fail(Errc::kClosed, ErrorSide::kUpstream, std::move(what));
}

asio::awaitable<Result<FetchResult>> fetch_h1(proxy::UpstreamConnection& conn,
                                              const FetchRequest& request,
                                              const std::function<void(std::string_view)>& sink) {
  http::Headers fields;
  std::string_view authority = request.url.authority;  // or a Host field given with -H
  for (const auto& [name, value] : request.headers) {
    fields.add(name, value);
    if (http::iequals(name, "host")) authority = value;
  }
  std::string head;
  std::optional<std::uint64_t> length;
  if (request.body) length = request.body->size();
  h1::append_request_head(head, request.method, request.url.target, authority, fields, length,
                          false, "close");
  std::array<asio::const_buffer, 2> pieces{
      asio::buffer(head), request.body ? asio::buffer(*request.body) : asio::const_buffer()};
  if (std::error_code ec = co_await conn.write(pieces, request.read_timeout)) {
    co_return failure("sending the request: " + ec.message());
  }
  h1::ResponseParser parser;
  for (;;) {
    auto status = parser.parse(conn.input(), request.method);
    if (status == h1::ResponseParser::Status::kError) {
      co_return failure("malformed response: " + std::string(parser.error()));
    }
    if (status == h1::ResponseParser::Status::kComplete) {
      if (parser.head().status >= 200 || parser.head().status == 101) break;
      conn.consume(parser.head_size());  // an interim response
      parser.reset();
      continue;
    }
    if (std::error_code ec = co_await conn.read_more(request.read_timeout)) {
      co_return failure("reading the response head: " + ec.message());
    }
  }
  FetchResult result;
  result.protocol = parser.info().version == 10 ? "HTTP/1.0" : "HTTP/1.1";
  result.head = parser.head();
  const h1::ResponseInfo info = parser.info();
  conn.consume(parser.head_size());
  if (info.framing == h1::BodyFraming::kNone && !info.until_close) co_return result;
  h1::BodyDecoder decoder = info.until_close ? h1::BodyDecoder::until_close()
                            : info.framing == h1::BodyFraming::kChunked
                                ? h1::BodyDecoder::chunked()
                                : h1::BodyDecoder::content_length(info.content_length);
  while (!decoder.done()) {
    if (!conn.input().empty()) {
      h1::BodyDecoder::Step step;
      if (decoder.decode(conn.input(), step) == h1::BodyDecoder::Status::kError) {
        co_return failure("malformed response body: " + std::string(decoder.error()));
      }
      if (!step.data.empty()) sink(step.data);
      conn.consume(step.consumed);
      if (step.consumed > 0 || decoder.done()) continue;
    }
    std::error_code ec = co_await conn.read_more(request.read_timeout);
    if (ec == asio::error::eof && decoder.delimited_by_close()) {
      decoder.end_of_input();
      continue;
    }
    if (ec) co_return failure("the response body ended early: " + ec.message());
  }
  result.trailers = std::move(decoder.trailers());
  co_return result;
}

// The request's fields for HTTP/2 and HTTP/3: lower-case names (kept in `names`, which must
// not reallocate while the fields are used), without Host: :authority says it. A Host field
// given with -H becomes the :authority (as curl does), else `authority` stays the URL's.
std::vector<std::pair<std::string_view, std::string_view>> multiplexed_fields(
    const FetchRequest& request, std::vector<std::string>& names, std::string_view& authority) {
  names.reserve(request.headers.size());
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  for (const auto& [name, value] : request.headers) {
    names.push_back(http::to_lower(name));
    if (names.back() == "host") {
      authority = value;
      continue;
    }
    fields.emplace_back(names.back(), value);
  }
  return fields;
}

// Sends the request on `session` (an h2:: or h3::ClientSession), reads the response body into
// `sink`, and closes the session either way.
template <class Session>
asio::awaitable<Result<FetchResult>> exchange_on(
    Session& session, const FetchRequest& request, std::string_view protocol,
    const std::function<void(std::string_view)>& sink) {
  std::vector<std::string> names;
  std::string_view authority = request.url.authority;
  const std::vector<std::pair<std::string_view, std::string_view>> fields =
      multiplexed_fields(request, names, authority);
  http::OutgoingRequest outgoing{.method = request.method,
                                 .scheme = request.url.tls ? "https" : "http",
                                 .authority = authority,
                                 .path = request.url.target,
                                 .fields = fields,
                                 .body = nullptr,
                                 .content_length = std::nullopt};
  if (request.body) {
    outgoing.content_length = request.body->size();
    outgoing.body = http::Body::from_string(*request.body).into_source();
  }
  const http::ExchangeLimits limits{.read_timeout = request.read_timeout,
                                    .write_timeout = request.read_timeout};
  Result<http::Response> response = co_await session.exchange(std::move(outgoing), limits, nullptr);
  if (!response) {
    session.close();
    co_return Unexpected(std::move(response).error());
  }
  FetchResult result;
  result.protocol = std::string(protocol);
  result.head = std::move(response->head);
  if (!response->body.is_empty()) {
    std::unique_ptr<http::BodySource> body = std::move(response->body).into_source();
    for (;;) {
      Result<http::BodyFrame> frame = co_await body->next(64 * 1024);
      if (!frame) {
        session.close();
        co_return Unexpected(std::move(frame).error());
      }
      if (frame->kind == http::BodyFrame::Kind::kEnd) break;
      if (frame->kind == http::BodyFrame::Kind::kTrailers) {
        result.trailers = std::move(frame->trailers);
      } else {
        sink(frame->data);
      }
    }
  }
  session.close();
  co_return result;
}

asio::awaitable<Result<FetchResult>> fetch_h2(std::unique_ptr<net::Transport> transport,
                                              const FetchRequest& request,
                                              const std::function<void(std::string_view)>& sink) {
  std::string session_name = request.url.authority;
  std::shared_ptr<h2::ClientSession> session = co_await h2::ClientSession::start(
      std::move(transport), kIdleTimeout, std::move(session_name));
  co_return co_await exchange_on(*session, request, "HTTP/2", sink);
}

asio::awaitable<Result<FetchResult>> fetch_h3(const std::vector<asio::ip::tcp::endpoint>& endpoints,
                                              const FetchRequest& request,
                                              const std::function<void(std::string_view)>& sink) {
  h3::ClientTlsSettings settings;
  settings.verify = !request.insecure;
  settings.ca_file = request.ca_file;
  auto credentials = h3::ClientCredentials::load(settings);
  if (!credentials) co_return failure(credentials.error());
  const h3::ClientTarget target{
      .remote = asio::ip::udp::endpoint(endpoints.front().address(), endpoints.front().port()),
      .credentials = *credentials,
      .server_name = request.url.host,
      .handshake_timeout = request.read_timeout,
      .idle_timeout = kIdleTimeout,
      .name = request.url.authority};
  Result<std::shared_ptr<h3::ClientSession>> session = co_await h3::ClientSession::connect(target);
  if (!session) co_return Unexpected(std::move(session).error());
  co_return co_await exchange_on(**session, request, "HTTP/3", sink);
}

}  // namespace

asio::awaitable<Result<FetchResult>> fetch(const FetchRequest& request,
                                           const std::function<void(std::string_view)>& sink) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  const std::string service = std::to_string(request.url.port);
  auto [resolve_error, results] = co_await resolver.async_resolve(
      request.url.host, service, asio::experimental::as_tuple(asio::use_awaitable));
  if (resolve_error) {
    co_return failure("cannot resolve '" + request.url.host + "': " + resolve_error.message());
  }
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& entry : results)
    endpoints.push_back(entry.endpoint());

  if (request.protocol == Protocol::kHttp3) {
    if (!request.url.tls) co_return failure("HTTP/3 needs an https:// URL");
    co_return co_await fetch_h3(endpoints, request, sink);
  }
  std::shared_ptr<const net::TlsClientContext> tls;
  Alpn alpn = Alpn::kHttp11;
  if (request.url.tls) {
    net::TlsClientSettings settings;
    settings.verify = !request.insecure;
    settings.ca_file = request.ca_file;
    auto context = net::TlsClientContext::load(settings);
    if (!context) co_return failure(context.error());
    tls = *context;
    alpn = request.protocol == Protocol::kHttp2   ? Alpn::kH2
           : request.protocol == Protocol::kHttp1 ? Alpn::kHttp11
                                                  : Alpn::kH2OrHttp11;
  }
  Result<std::unique_ptr<proxy::UpstreamConnection>> conn =
      co_await proxy::UpstreamConnection::connect(
          endpoints, request.connect_timeout, request.url.authority, tls, request.url.host, alpn);
  if (!conn) co_return Unexpected(std::move(conn).error());
  const http::TlsInfo* info = (*conn)->transport().tls_info();
  const bool h2 = request.protocol == Protocol::kHttp2 || (info != nullptr && info->alpn == "h2");
  if (h2) co_return co_await fetch_h2((*conn)->release_transport(), request, sink);
  co_return co_await fetch_h1(**conn, request, sink);
}

}  // namespace rws::client
