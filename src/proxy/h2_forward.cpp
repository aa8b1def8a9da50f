#include "proxy/h2_forward.hpp"

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/h2_pool.hpp"
#include "proxy/upstream_request.hpp"

namespace rws::proxy {
namespace {

bool dropped_for_h2(std::string_view lower_name) {
  return lower_name == "host" || lower_name == "content-length" ||
         lower_name == "transfer-encoding" || lower_name == "connection" ||
         lower_name == "expect" || lower_name == "upgrade" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "te";
}

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> h2_fields_from_head(
    std::string& head_text, bool te_trailers) {
  std::vector<std::pair<std::string_view, std::string_view>> fields;
  fields.reserve(24);
  std::size_t pos = head_text.find("\r\n");  // after the request line
  while (pos != std::string::npos) {
    pos += 2;
    const std::size_t end = head_text.find("\r\n", pos);
    if (end == std::string::npos || end == pos) break;  // the blank line ends the head
    const std::size_t colon = head_text.find(':', pos);
    if (colon == std::string::npos || colon > end) break;  // never: we wrote the head
    for (std::size_t i = pos; i < colon; ++i) {
      char& c = head_text[i];
      if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    std::string_view name(head_text.data() + pos, colon - pos);
    std::size_t value_start = colon + 1;
    while (value_start < end && head_text[value_start] == ' ')
      ++value_start;
    if (!dropped_for_h2(name)) {
      fields.emplace_back(name,
                          std::string_view(head_text.data() + value_start, end - value_start));
    }
    pos = end;
  }
  if (te_trailers) fields.emplace_back("te", "trailers");
  return fields;
}

asio::awaitable<Result<http::Response>> forward_h2(const UpstreamGroup& group, Backend& backend,
                                                   const ProxyOptions& options,
                                                   http::Request& request,
                                                   const http::RequestContext& context,
                                                   H2Attempt& attempt) {
  const config::Upstream& cfg = group.config;
  const http::RequestHead& in = request.head;
  if (is_upgrade_request(in)) {
    co_return fail(Errc::kBadMessage, ErrorSide::kUpstream,
                   "backend " + backend.url() +
                       " speaks HTTP/2: protocol upgrades (WebSocket) need an http:// or ws:// "
                       "backend");
  }
  auto endpoints = backend.endpoints();
  if (!endpoints || endpoints->empty()) {
    co_return Unexpected(Error{make_error_code(Errc::kNotFound), ErrorSide::kUpstream, true,
                               "no address known for " + backend.url()});
  }
  const bool tls = backend.tls() && group.tls;
  const H2Target target{.key = tls ? group.tls_pool_keys.at(&backend) : backend.url(),
                        .endpoints = endpoints.get(),
                        .connect_timeout = attempt.connect_timeout,
                        .idle_timeout = cfg.idle_timeout,
                        .tls = tls ? group.tls : nullptr,
                        .server_name = tls ? group.tls_server_name(backend) : std::string_view{}};
  Result<std::shared_ptr<h2::ClientSession>> session =
      co_await H2SessionPool::local().acquire(target);
  if (!session) co_return Unexpected(std::move(session).error());

  const std::string_view authority = options.preserve_host && !in.authority.empty()
                                         ? std::string_view(in.authority)
                                         : std::string_view(backend.authority());
  const UpstreamHead upstream_head{.host = authority,
                                   .strip_prefix = options.strip_path_prefix,
                                   .add_prefix = options.add_path_prefix,
                                   .content_length = std::nullopt};
  const ForwardedFor forwarded_for{
      context.peer_address, context.secure ? "https" : "http", in.authority, in.version,
      context.tls && context.tls->has_client_certificate ? &context.tls->client_certificate
                                                         : nullptr};
  std::string head_text;
  append_upstream_request_head(head_text, in, upstream_head, forwarded_for);
  std::string path;
  if (in.path == "*") {
    path = "*";
  } else {
    append_target(path, in.path, in.query, options.strip_path_prefix, options.add_path_prefix);
  }
  const bool te_trailers = http::list_contains(in.headers.get("te"), "trailers");
  const std::vector<std::pair<std::string_view, std::string_view>> fields =
      h2_fields_from_head(head_text, te_trailers);

  http::OutgoingRequest outgoing{.method = in.method,
                               .scheme = backend.tls() ? "https" : "http",
                               .authority = authority,
                               .path = path,
                               .fields = fields,
                               .body = nullptr,
                               .content_length = std::nullopt};
  if (!request.body.is_empty()) {
    outgoing.content_length = request.body.size();
    outgoing.body = std::move(request.body).into_source();
    attempt.body_started = true;
  }
  const http::ExchangeLimits limits{.read_timeout = attempt.read_timeout,
                                  .write_timeout = cfg.write_timeout,
                                  .deadline = attempt.deadline,
                                  .stream_request_body = in.version >= 20};
  std::shared_ptr<h2::ClientSession> s = std::move(*session);
  Result<http::Response> response =
      co_await s->exchange(std::move(outgoing), limits, context.interim);
  if (!response) {
    Error error = std::move(response).error();
    if (attempt.body_started) {
      error.retryable = false;  // the body went into the failed stream
    } else if (attempt.replayable) {
      error.retryable = true;
    }
    co_return Unexpected(std::move(error));
  }
  filter_response_fields(response->head.headers, 20);
  co_return response;
}

}  // namespace rws::proxy
