// multiplexed_load: a closed-loop HTTP/2 or HTTP/3 load generator over TLS, for
// bench/h3_latency.py.
//
//   multiplexed_load h2|h3 HOST PORT PATH CA_FILE CONNECTIONS STREAMS SECONDS
//
// Opens CONNECTIONS connections to https://HOST:PORT (HTTP/2 with ALPN h2 over TCP, or HTTP/3
// over QUIC; the certificate verified against CA_FILE), and on each runs STREAMS workers that,
// for SECONDS, GET PATH, read the whole body, and start the next request (closed loop). Prints
// one JSON line: requests completed per second, p50/p99 latency in milliseconds, failures.
// The same client code (rws's h2:: and h3::ClientSession) for both protocols, so the two are
// compared with one client; one thread, Asio coroutines.

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/use_awaitable.hpp>

#include "h2/client_session.hpp"
#include "h3/client_session.hpp"
#include "http/outgoing_request.hpp"
#include "proxy/upstream_connection.hpp"

namespace {

using namespace rws;
using Clock = std::chrono::steady_clock;

struct Settings {
  bool http3 = false;
  std::string host;
  std::uint16_t port = 0;
  std::string path;
  std::string ca_file;
  int connections = 0;
  int streams = 0;
  std::chrono::seconds duration{0};
};

struct Totals {
  std::vector<double> latencies_ms;
  int failed = 0;
};

// One GET, the body read to its end; false on any failure or a non-2xx status.
template <class Session>
asio::awaitable<bool> fetch(Session& session, const Settings& s, const std::string& authority) {
  http::OutgoingRequest request{.method = "GET",
                                .scheme = "https",
                                .authority = authority,
                                .path = s.path,
                                .fields = {},
                                .body = nullptr,
                                .content_length = std::nullopt};
  const http::ExchangeLimits limits{.read_timeout = std::chrono::seconds(10),
                                    .write_timeout = std::chrono::seconds(10)};
  Result<http::Response> response = co_await session.exchange(std::move(request), limits, nullptr);
  if (!response || response->head.status / 100 != 2) co_return false;
  if (response->body.is_empty()) co_return true;
  std::unique_ptr<http::BodySource> body = std::move(response->body).into_source();
  for (;;) {
    Result<http::BodyFrame> frame = co_await body->next(256 * 1024);
    if (!frame) co_return false;
    if (frame->kind == http::BodyFrame::Kind::kEnd) co_return true;
  }
}

template <class Session>
asio::awaitable<void> worker(std::shared_ptr<Session> session, const Settings& s,
                             Clock::time_point end, Totals& totals) {
  const std::string authority = s.host + ":" + std::to_string(s.port);
  while (Clock::now() < end) {
    const Clock::time_point start = Clock::now();
    const bool ok = co_await fetch(*session, s, authority);
    if (!ok) {
      ++totals.failed;
      co_return;
    }
    totals.latencies_ms.push_back(
        std::chrono::duration<double, std::milli>(Clock::now() - start).count());
  }
}

// STREAMS workers on `session`; the session closes when the last one is done.
template <class Session>
asio::awaitable<void> run_streams(std::shared_ptr<Session> session, const Settings& s,
                                  Clock::time_point end, Totals& totals) {
  auto executor = co_await asio::this_coro::executor;
  auto remaining = std::make_shared<int>(s.streams);
  for (int i = 0; i < s.streams; ++i) {
    asio::co_spawn(executor, worker(session, s, end, totals),
                   [session, remaining](std::exception_ptr) {
                     if (--*remaining == 0) session->close();
                   });
  }
}

asio::awaitable<void> run_connection(const Settings& s, Clock::time_point end, Totals& totals) {
  auto executor = co_await asio::this_coro::executor;
  asio::ip::tcp::resolver resolver(executor);
  auto results =
      co_await resolver.async_resolve(s.host, std::to_string(s.port), asio::use_awaitable);
  std::vector<asio::ip::tcp::endpoint> endpoints;
  for (const auto& entry : results)
    endpoints.push_back(entry.endpoint());
  if (s.http3) {
    h3::ClientTlsSettings tls;
    tls.ca_file = s.ca_file;
    auto credentials = h3::ClientCredentials::load(tls);
    if (!credentials) throw std::runtime_error(credentials.error());
    const h3::ClientTarget target{
        .remote = asio::ip::udp::endpoint(endpoints.front().address(), endpoints.front().port()),
        .credentials = *credentials,
        .server_name = s.host,
        .handshake_timeout = std::chrono::seconds(5),
        .idle_timeout = std::chrono::seconds(60),
        .name = s.host};
    auto session = co_await h3::ClientSession::connect(target);
    if (!session) throw std::runtime_error(session.error().describe());
    co_await run_streams(*session, s, end, totals);
    co_return;
  }
  net::TlsClientSettings tls;
  tls.ca_file = s.ca_file;
  auto context = net::TlsClientContext::load(tls);
  if (!context) throw std::runtime_error(context.error());
  auto connected = co_await proxy::UpstreamConnection::connect(endpoints, std::chrono::seconds(5),
                                                               s.host, *context, s.host,
                                                               net::TlsClientContext::Alpn::kH2);
  if (!connected) throw std::runtime_error(connected.error().describe());
  std::shared_ptr<h2::ClientSession> session = co_await h2::ClientSession::start(
      (*connected)->release_transport(), std::chrono::seconds(60), s.host);
  co_await run_streams(session, s, end, totals);
}

double percentile(std::vector<double>& values, double p) {
  if (values.empty()) return 0;
  const std::size_t at = std::min(values.size() - 1, static_cast<std::size_t>(p * values.size()));
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(at), values.end());
  return values[at];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 9) {
    std::fprintf(stderr, "usage: %s h2|h3 HOST PORT PATH CA_FILE CONNECTIONS STREAMS SECONDS\n",
                 argv[0]);
    return 2;
  }
  Settings s;
  s.http3 = std::string(argv[1]) == "h3";
  s.host = argv[2];
  s.port = static_cast<std::uint16_t>(std::atoi(argv[3]));
  s.path = argv[4];
  s.ca_file = argv[5];
  s.connections = std::atoi(argv[6]);
  s.streams = std::atoi(argv[7]);
  s.duration = std::chrono::seconds(std::atoi(argv[8]));
  asio::io_context io;
  Totals totals;
  const Clock::time_point start = Clock::now();
  const Clock::time_point end = start + s.duration;
  for (int i = 0; i < s.connections; ++i) {
    asio::co_spawn(io, run_connection(s, end, totals), [](std::exception_ptr error) {
      if (error) std::rethrow_exception(error);
    });
  }
  io.run();
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const double rate = static_cast<double>(totals.latencies_ms.size()) / seconds;
  const double p50 = percentile(totals.latencies_ms, 0.50);
  const double p99 = percentile(totals.latencies_ms, 0.99);
  std::printf("{\"requests_per_s\": %.1f, \"p50_ms\": %.3f, \"p99_ms\": %.3f, \"failed\": %d}\n",
              rate, p50, p99, totals.failed);
  return totals.failed == 0 ? 0 : 1;
}
