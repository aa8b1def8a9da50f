#pragma once
// The HTTP/2 sessions of this worker thread, per backend (h2://, h2s://, grpc://, grpcs://).
//
// Many exchanges share one session; another is opened only when every session to the backend
// has as many streams as it may. Requests that find no usable session while one is being
// connected wait for that one instead of each opening their own, so a burst of requests to a
// cold backend opens one connection. Sessions leave the pool when they end (error, GOAWAY,
// idle timeout, drain).

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
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

class H2SessionPool {
 public:
  static H2SessionPool& local();

  // A session that can take one more stream now. Connection errors are upstream-side and
  // retryable.
  asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> acquire(const H2Target& target);

 private:
  struct Connecting;
  struct Entry {
    std::vector<std::shared_ptr<h2::ClientSession>> sessions;
    std::shared_ptr<Connecting> connecting;  // a connection being opened; null: none
  };
  asio::awaitable<Result<std::shared_ptr<h2::ClientSession>>> connect(const H2Target& target);

  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace rws::proxy
