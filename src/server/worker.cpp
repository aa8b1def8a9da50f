#include "server/worker.hpp"

#include <cerrno>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "h2/server_session.hpp"
#include "net/tcp_transport.hpp"
#include "server/handshake_guard.hpp"
#include "server/listener.hpp"

namespace rws::server {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kSweepInterval{100};
// Pause after accept() fails for lack of descriptors or memory, instead of spinning.
constexpr std::chrono::milliseconds kAcceptBackoff{100};
constexpr std::size_t kPooledBuffers = 256;

// Holds one slot of the server-wide connection count for as long as a session lives.
class ConnectionSlot {
 public:
  explicit ConnectionSlot(std::atomic<std::size_t>& count) : count_(&count) {}
  ConnectionSlot(ConnectionSlot&& other) noexcept : count_(std::exchange(other.count_, nullptr)) {}
  ConnectionSlot& operator=(ConnectionSlot&&) = delete;
  ~ConnectionSlot() {
    if (count_) count_->fetch_sub(1, std::memory_order_relaxed);
  }

 private:
  std::atomic<std::size_t>* count_;
};

}  // namespace

Worker::Worker(WorkerShared& shared, std::size_t read_buffer_size)
    : shared_(shared), buffers_(read_buffer_size, kPooledBuffers) {
  if (shared_.access_log) {
    access_log_ = std::make_unique<AccessLog>(shared_.access_log, shared_.log_format);
  }
  http::ExchangeLog* log = access_log_.get();
  if (shared_.metrics && access_log_) {
    both_logs_ = std::make_unique<ExchangeFanOut>(*access_log_, *shared_.metrics);
    log = both_logs_.get();
  } else if (shared_.metrics) {
    log = shared_.metrics.get();
  }
  env_ = std::make_unique<h1::SessionEnv>(h1::SessionEnv{
      shared_.settings, *shared_.service, buffers_, registry_, log, shared_.draining});
  if (shared_.redirect_service) {
    redirect_env_ = std::make_unique<h1::SessionEnv>(h1::SessionEnv{
        shared_.settings, *shared_.redirect_service, buffers_, registry_, log, shared_.draining});
  }
  for (const auto& service : shared_.extra_services) {
    extra_envs_.push_back(std::make_unique<h1::SessionEnv>(
        h1::SessionEnv{shared_.settings, *service, buffers_, registry_, log, shared_.draining}));
  }
}

Worker::~Worker() {
  stop();
  join();
}

std::uint16_t Worker::listen(const asio::ip::tcp::endpoint& endpoint, Listener kind,
                             std::size_t extra) {
  acceptors_.push_back(Acceptor{
      std::make_unique<asio::ip::tcp::acceptor>(make_listener(io_, endpoint)), kind, extra});
  return acceptors_.back().socket->local_endpoint().port();
}

std::uint16_t Worker::listen_h3(const asio::ip::udp::endpoint& endpoint, std::size_t index) {
  h3::Endpoint::Counters counters{shared_.next_connection_id, shared_.connections,
                                  shared_.max_connections};
  h3::Endpoint::Options options{index, &shared_.h3_endpoints, shared_.h3_retry};
  h3_ = std::make_unique<h3::Endpoint>(io_, *env_, shared_.h3_tls, counters, endpoint, options);
  shared_.h3_endpoints.at(index) = h3_.get();
  return h3_->port();
}

void Worker::start(std::function<void()> on_exit) {
  for (const Acceptor& acceptor : acceptors_) {
    asio::co_spawn(io_, accept_loop(acceptor), asio::detached);
  }
  if (h3_) h3_->start();
  asio::co_spawn(io_, sweep_loop(), asio::detached);
  thread_ = std::thread([this, on_exit = std::move(on_exit)] {
    net::ConnectionRegistry::set_current(&registry_);
    try {
      io_.run();
    } catch (const std::exception& e) {
      log::server().critical("worker stopped by an exception: {}", e.what());
    }
    if (access_log_) access_log_->flush();
    on_exit();
  });
}

void Worker::join() {
  if (thread_.joinable()) thread_.join();
}

void Worker::drain() {
  asio::post(io_, [this] {
    draining_ = true;
    for (auto& acceptor : acceptors_) {
      std::error_code ec;
      acceptor.socket->close(ec);
    }
    registry_.drain_all();
  });
}

void Worker::abort() {
  asio::post(io_, [this] { registry_.abort_all(); });
}

void Worker::stop() {
  io_.stop();
}

asio::awaitable<void> Worker::accept_loop(const Acceptor& acceptor) {
  asio::steady_timer backoff(io_);
  for (;;) {
    auto [ec, socket] = co_await acceptor.socket->async_accept(kUseTuple);
    if (ec) {
      if (ec == asio::error::operation_aborted || !acceptor.socket->is_open()) co_return;
      if (ec.value() == EMFILE || ec.value() == ENFILE || ec.value() == ENOBUFS ||
          ec.value() == ENOMEM) {
        log::server().warn("accept failed: {}; pausing", ec.message());
        backoff.expires_after(kAcceptBackoff);
        co_await backoff.async_wait(kUseTuple);
      }
      continue;
    }
    spawn_session(std::move(socket), acceptor);
  }
}

void Worker::spawn_session(asio::ip::tcp::socket socket, const Acceptor& acceptor) {
  std::size_t open = shared_.connections.fetch_add(1, std::memory_order_relaxed);
  ConnectionSlot slot(shared_.connections);
  if (shared_.max_connections > 0 && open >= shared_.max_connections) {
    log::server().debug("connection refused: {} connections open (max_connections)", open);
    return;  // the socket closes as it goes out of scope
  }
  std::error_code ec;
  socket.set_option(asio::ip::tcp::no_delay(true), ec);
  std::uint64_t id = shared_.next_connection_id.fetch_add(1, std::memory_order_relaxed);
  auto on_end = [slot = std::move(slot)](const std::exception_ptr&) {};
  if (acceptor.kind != Listener::kMain) {
    h1::SessionEnv& env = acceptor.kind == Listener::kHttpsRedirect
                              ? *redirect_env_
                              : *extra_envs_.at(acceptor.extra);
    auto session = std::make_unique<h1::ServerSession>(
        std::make_unique<net::TcpTransport>(std::move(socket)), env, id);
    asio::co_spawn(io_, h1::ServerSession::run(std::move(session)), std::move(on_end));
    return;
  }
  if (std::shared_ptr<const net::TlsContext> tls = shared_.tls.load()) {
    SSL* ssl = tls->new_connection();
    if (ssl == nullptr) {
      log::server().warn("connection refused: cannot allocate a TLS session");
      return;
    }
    auto transport = std::make_unique<net::TlsTransport>(std::move(socket), ssl, std::move(tls));
    asio::co_spawn(io_, serve_tls(std::move(transport), id), std::move(on_end));
    return;
  }
  asio::co_spawn(io_, serve_plain(std::move(socket), id), std::move(on_end));
}

asio::awaitable<void> Worker::serve_plain(asio::ip::tcp::socket socket, std::uint64_t id) {
  // Cleartext HTTP/2 ("prior knowledge", RFC 9113 §3.3) starts with the client preface, whose
  // method PRI no HTTP/1.1 request uses; anything else is HTTP/1.1. The first bytes are peeked,
  // not consumed, within header_timeout.
  auto transport = std::make_unique<net::TcpTransport>(std::move(socket));
  bool h2 = false;
  {
    HandshakeGuard guard(registry_, *transport,
                         net::Clock::now() + shared_.settings.header_timeout);
    constexpr std::string_view kMethod = "PRI ";
    asio::steady_timer pause(io_);
    for (;;) {
      char first[4];
      const std::size_t n = co_await transport->peek(first, sizeof first);
      if (n == 0) co_return;  // closed, failed or timed out before a byte
      const std::string_view seen(first, n);
      if (seen != kMethod.substr(0, n)) break;
      if (n == kMethod.size()) {
        h2 = true;
        break;
      }
      // A first packet of 1-3 bytes that could still be "PRI ": wait briefly for the rest (the
      // socket stays readable, so readiness alone would spin).
      pause.expires_after(std::chrono::milliseconds(5));
      co_await pause.async_wait(kUseTuple);
    }
  }
  if (h2) {
    co_await serve_h2(std::move(transport), id);
    co_return;
  }
  auto session = std::make_unique<h1::ServerSession>(std::move(transport), *env_, id);
  co_await h1::ServerSession::run(std::move(session));
}

asio::awaitable<void> Worker::serve_h2(std::unique_ptr<net::Transport> transport,
                                       std::uint64_t id) {
  shared_.h2_connections.fetch_add(1, std::memory_order_relaxed);
  struct Count {
    std::atomic<std::size_t>& n;
    ~Count() { n.fetch_sub(1, std::memory_order_relaxed); }
  } count{shared_.h2_connections};
  auto session = std::make_unique<h2::ServerSession>(std::move(transport), *env_, id);
  co_await h2::ServerSession::run(std::move(session));
}

asio::awaitable<void> Worker::serve_tls(std::unique_ptr<net::TlsTransport> transport,
                                        std::uint64_t id) {
  {
    HandshakeGuard guard(registry_, *transport,
                         net::Clock::now() + shared_.settings.header_timeout);
    std::error_code ec = co_await transport->handshake();
    if (ec) {
      log::server().debug("conn {}: TLS handshake with {} failed: {}{}{}", id,
                          transport->peer().address, guard.timed_out() ? "timeout" : ec.message(),
                          transport->failure().empty() ? "" : ": ", transport->failure());
      co_return;
    }
  }
  if (transport->tls_info()->alpn == "h2") {
    co_await serve_h2(std::move(transport), id);
    co_return;
  }
  auto session = std::make_unique<h1::ServerSession>(std::move(transport), *env_, id);
  co_await h1::ServerSession::run(std::move(session));
}

asio::awaitable<void> Worker::sweep_loop() {
  asio::steady_timer timer(io_);
  for (;;) {
    timer.expires_after(kSweepInterval);
    co_await timer.async_wait(kUseTuple);
    if (access_log_) access_log_->flush();
    if (draining_ && registry_.size() == 0) co_return;
    registry_.sweep(net::Clock::now());
  }
}

}  // namespace rws::server
