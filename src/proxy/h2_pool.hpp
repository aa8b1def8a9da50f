#pragma once
// HTTP/2 sessions to h2://, h2s://, grpc:// and grpcs:// backends, pooled per worker thread
// (session_pool.hpp): a new TCP (+ TLS with ALPN "h2") connection only when every session to
// the backend is at its stream limit.

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <rws/core/error.hpp>

#include "h2/client_session.hpp"
#include "net/tls_client_context.hpp"

namespace rws::proxy {

struct H2Target {
  std::string key;  // pool key: the backend URL (and the TLS context, see UpstreamGroup)
  const std::vector<asio::ip::tcp::endpoint>* endpoints = nullptr;
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::seconds idle_timeout{60};
  std::shared_ptr<const net::TlsClientContext> tls;  // null: h2c by prior knowledge
  std::string_view server_name;                      // SNI and verified name, with tls
};

// A session that can take one more stream now. Connection errors are upstream-side and
// retryable.
asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> acquire_h2_session(
    const H2Target& target);

}  // namespace rws::proxy
