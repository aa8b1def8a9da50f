#pragma once
// One request of rws-client over HTTP/1.1, HTTP/2 (cleartext by prior knowledge, or TLS with
// ALPN) or HTTP/3, the response body handed to a sink as it arrives.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/awaitable.hpp>

#include <rws/core/error.hpp>
#include <rws/http/headers.hpp>
#include <rws/http/message_head.hpp>

#include "target_url.hpp"

namespace rws::client {

enum class Protocol {
  kAuto,   // https: what ALPN settles on (h2 preferred); http: HTTP/1.1
  kHttp1,  // HTTP/1.1 only
  kHttp2,  // HTTP/2 only: prior knowledge on http://, ALPN "h2" on https://
  kHttp3,  // HTTP/3 over QUIC (https:// only)
};

struct FetchRequest {
  TargetUrl url;
  std::string method = "GET";
  std::vector<std::pair<std::string, std::string>> headers;
  std::optional<std::string> body;
  Protocol protocol = Protocol::kAuto;
  std::string ca_file;    // empty: the system's trust store
  bool insecure = false;  // accept any certificate
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
};

struct FetchResult {
  std::string protocol;  // "HTTP/1.1", "HTTP/2", "HTTP/3"
  http::ResponseHead head;
  http::Headers trailers;
};

// Sends the request and streams the response body into `sink`.
asio::awaitable<Result<FetchResult>> fetch(const FetchRequest& request,
                                           const std::function<void(std::string_view)>& sink);

}  // namespace rws::client
