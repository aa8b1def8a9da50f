#include "proxy/multiplexed_request.hpp"

#include <rws/http/headers.hpp>

#include "http/syntax.hpp"
#include "proxy/forwarding.hpp"
#include "proxy/upstream_request.hpp"

namespace rws::proxy {
namespace {

bool dropped_for_multiplexed(std::string_view lower_name) {
  return lower_name == "host" || lower_name == "content-length" ||
         lower_name == "transfer-encoding" || lower_name == "connection" ||
         lower_name == "expect" || lower_name == "upgrade" || lower_name == "keep-alive" ||
         lower_name == "proxy-connection" || lower_name == "te";
}

}  // namespace

std::vector<std::pair<std::string_view, std::string_view>> multiplexed_fields_from_head(
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
    if (!dropped_for_multiplexed(name)) {
      fields.emplace_back(name,
                          std::string_view(head_text.data() + value_start, end - value_start));
    }
    pos = end;
  }
  if (te_trailers) fields.emplace_back("te", "trailers");
  return fields;
}

Result<void> prepare_multiplexed_request(MultiplexedRequest& out, const UpstreamGroup& group,
                                         const Backend& backend, const ProxyOptions& options,
                                         http::Request& request,
                                         const http::RequestContext& context,
                                         const MultiplexedAttempt& attempt) {
  const http::RequestHead& in = request.head;
  if (is_upgrade_request(in)) {
    return fail(Errc::kBadMessage, ErrorSide::kUpstream,
                "backend " + backend.url() +
                    (backend.http3() ? " speaks HTTP/3" : " speaks HTTP/2") +
                    ": protocol upgrades (WebSocket) need an http:// or ws:// backend");
  }
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
  append_upstream_request_head(out.head_text, in, upstream_head, forwarded_for);
  if (in.path == "*") {
    out.path = "*";
  } else {
    append_target(out.path, in.path, in.query, options.strip_path_prefix, options.add_path_prefix);
  }
  const bool te_trailers = http::list_contains(in.headers.get("te"), "trailers");
  out.fields = multiplexed_fields_from_head(out.head_text, te_trailers);
  out.outgoing = http::OutgoingRequest{.method = in.method,
                                       .scheme = backend.tls() ? "https" : "http",
                                       .authority = authority,
                                       .path = out.path,
                                       .fields = out.fields,
                                       .body = nullptr,
                                       .content_length = std::nullopt};
  out.limits = http::ExchangeLimits{.read_timeout = attempt.read_timeout,
                                    .write_timeout = group.config.write_timeout,
                                    .deadline = attempt.deadline,
                                    .stream_request_body = in.version >= 20};
  return {};
}

void hand_over_body(MultiplexedRequest& out, http::Request& request, MultiplexedAttempt& attempt) {
  if (request.body.is_empty()) return;
  out.outgoing.content_length = request.body.size();
  out.outgoing.body = std::move(request.body).into_source();
  attempt.body_started = true;
}

Result<http::Response> finish_multiplexed_exchange(Result<http::Response> response,
                                                   const MultiplexedAttempt& attempt) {
  if (!response) {
    Error error = std::move(response).error();
    if (attempt.body_started) {
      error.retryable = false;  // the body went into the failed stream
    } else if (attempt.replayable) {
      error.retryable = true;
    }
    return Unexpected(std::move(error));
  }
  filter_response_fields(response->head.headers, 20);
  return response;
}

}  // namespace rws::proxy
