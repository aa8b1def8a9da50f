#include "proxy/upstream_connection.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <tuple>

#include <asio/connect.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include "net/tls_transport.hpp"

namespace rws::proxy {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadBuffer = 32 * 1024;
// A response head may fill the buffer before it parses; beyond this, the parser's own limit
// has long refused it.
constexpr std::size_t kMaxReadBuffer = 1024 * 1024;
// How long a read for a reply waits before it reads normally (plus up to a sweep interval).
constexpr std::chrono::milliseconds kReplyRecheck{200};

}  // namespace

UpstreamConnection::UpstreamConnection(const asio::any_io_executor& executor, std::string pool_key)
    : executor_(executor),
      socket_(executor),
      pool_key_(std::move(pool_key)),
      registry_(net::ConnectionRegistry::current()) {
  if (registry_ != nullptr) registry_->add(*this);
}

UpstreamConnection::~UpstreamConnection() {
  if (registry_ != nullptr) registry_->remove(*this);
}

asio::awaitable<Result<std::unique_ptr<UpstreamConnection>>> UpstreamConnection::connect(
    const std::vector<asio::ip::tcp::endpoint>& endpoints, std::chrono::milliseconds timeout,
    std::string pool_key, std::shared_ptr<const net::TlsClientContext> tls,
    std::string_view server_name, net::TlsClientContext::Alpn alpn) {
  auto executor = co_await asio::this_coro::executor;
  std::unique_ptr<UpstreamConnection> c(new UpstreamConnection(executor, pool_key));
  c->timed_out_ = false;
  c->deadline = net::Clock::now() + timeout;
  auto [ec, endpoint] = co_await asio::async_connect(c->socket_, endpoints, kUseTuple);
  c->deadline = net::Clock::time_point::max();
  if (ec) {
    Error e{c->timed_out_ ? make_error_code(Errc::kTimeout) : ec, ErrorSide::kUpstream, true,
            "connecting to " + pool_key};
    co_return Unexpected(std::move(e));
  }
  std::error_code ignored;
  c->socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (!tls) {
    auto transport = std::make_unique<net::TcpTransport>(std::move(c->socket_));
    c->tcp_ = transport.get();
    c->transport_ = std::move(transport);
    co_return std::move(c);
  }
  SSL* ssl = tls->new_connection(server_name, alpn);
  if (ssl == nullptr) {
    co_return fail(std::make_error_code(std::errc::not_enough_memory), ErrorSide::kUpstream,
                   "cannot set up TLS toward " + c->pool_key_);
  }
  auto transport = std::make_unique<net::TlsTransport>(std::move(c->socket_), ssl, std::move(tls),
                                                       net::TlsTransport::Role::kClient);
  net::TlsTransport& handshaking = *transport;
  c->transport_ = std::move(transport);
  c->deadline = net::Clock::now() + timeout;
  std::error_code handshake = co_await handshaking.handshake();
  c->deadline = net::Clock::time_point::max();
  if (handshake) {
    std::string context = "TLS handshake with " + c->pool_key_;
    if (!handshaking.failure().empty()) context += ": " + handshaking.failure();
    Error e{c->timed_out_ ? make_error_code(Errc::kTimeout) : handshake, ErrorSide::kUpstream, true,
            std::move(context)};
    co_return Unexpected(std::move(e));
  }
  if (alpn == net::TlsClientContext::Alpn::kH2) {
    const http::TlsInfo* info = handshaking.tls_info();
    if (info == nullptr || info->alpn != "h2") {
      co_return fail(make_error_code(Errc::kBadMessage), ErrorSide::kUpstream,
                     c->pool_key_ + " did not agree to HTTP/2 (ALPN h2) in the TLS handshake");
    }
  }
  co_return std::move(c);
}

asio::awaitable<std::error_code> UpstreamConnection::write(
    std::span<const asio::const_buffer> buffers, std::chrono::milliseconds timeout) {
  timed_out_ = false;
  deadline = net::Clock::now() + timeout;
  std::error_code ec = co_await transport_->write(buffers);
  deadline = net::Clock::time_point::max();
  if (ec && timed_out_) ec = make_error_code(Errc::kTimeout);
  co_return ec;
}

std::error_code UpstreamConnection::make_room() {
  if (!input_.allocated()) {
    input_.grow(kReadBuffer);
  } else if (input_.writable() == 0) {
    if (input_.capacity() >= kMaxReadBuffer) return make_error_code(Errc::kTooLarge);
    input_.grow(input_.capacity() * 2);
  }
  return {};
}

asio::awaitable<std::error_code> UpstreamConnection::read_more(std::chrono::milliseconds timeout,
                                                               ReadFor purpose) {
  if (std::error_code ec = make_room()) co_return ec;
  const net::Clock::time_point start = net::Clock::now();
  // The recheck needs the deadline sweep: without a registry, read normally.
  const bool reply = purpose == ReadFor::kReply && registry_ != nullptr && timeout > kReplyRecheck;
  timed_out_ = false;
  awaiting_recheck_ = reply;
  recheck_due_ = false;
  deadline = start + (reply ? kReplyRecheck : timeout);
  const asio::mutable_buffer room(input_.write_pointer(), input_.writable());
  net::ReadOutcome got;
  if (reply && tcp_ != nullptr) {
    co_await tcp_->read_reply_into(room, got);
  } else if (reply) {
    got = co_await transport_->read_reply(room);
  } else {
    got = co_await transport_->read_some(room);
  }
  awaiting_recheck_ = false;
  if (recheck_due_ && std::get<0>(got) == asio::error::operation_aborted) {
    // No answer yet: ask the socket, then read normally for the rest of the timeout.
    deadline = start + timeout;
    got = co_await transport_->read_now(room);
  }
  deadline = net::Clock::time_point::max();
  auto [ec, n] = got;
  if (!ec) input_.commit(n);
  if (ec && timed_out_) ec = make_error_code(Errc::kTimeout);
  co_return ec;
}

bool UpstreamConnection::still_open() noexcept {
  return transport_->idle_and_open();
}

void UpstreamConnection::cancel_io() noexcept {
  if (transport_) {
    transport_->cancel();
  } else {
    std::error_code ec;
    socket_.cancel(ec);
  }
}

void UpstreamConnection::on_deadline() noexcept {
  if (awaiting_recheck_) {
    awaiting_recheck_ = false;
    recheck_due_ = true;
    cancel_io();
    return;
  }
  timed_out_ = true;
  if (in_pool) {
    dead = true;  // idle too long: close it and drop it from the pool after the sweep
    transport_->close();
    asio::post(executor_, [] { ConnectionPool::local().purge(); });
    return;
  }
  cancel_io();
}

void UpstreamConnection::on_drain() noexcept {
  if (!in_pool) return;
  dead = true;
  transport_->close();
  // Drop it from the pool once the registry walk is over.
  asio::post(executor_, [] { ConnectionPool::local().purge(); });
}

void UpstreamConnection::on_abort() noexcept {
  cancel_io();
}

void ConnectionPool::left_pool(UpstreamConnection& c) noexcept {
  if (c.idle_gauge) c.idle_gauge->local().fetch_sub(1, std::memory_order_relaxed);
}

void ConnectionPool::clear() {
  for (auto& [key, list] : idle_) {
    for (auto& c : list)
      left_pool(*c);
  }
  idle_.clear();
}

ConnectionPool& ConnectionPool::local() {
  thread_local ConnectionPool pool;
  return pool;
}

std::unique_ptr<UpstreamConnection> ConnectionPool::take(const std::string& key,
                                                         std::chrono::seconds idle_timeout,
                                                         bool verify_open) {
  auto it = idle_.find(key);
  if (it == idle_.end()) return nullptr;
  auto& list = it->second;
  const net::Clock::time_point now = net::Clock::now();
  while (!list.empty()) {
    std::unique_ptr<UpstreamConnection> c = std::move(list.back());
    list.pop_back();
    left_pool(*c);
    if (c->dead || now - c->idle_since >= idle_timeout) continue;
    if (verify_open && !c->still_open()) continue;
    c->in_pool = false;
    c->deadline = net::Clock::time_point::max();
    c->reused = true;
    return c;
  }
  return nullptr;
}

void ConnectionPool::give(std::unique_ptr<UpstreamConnection> connection, unsigned max_idle,
                          std::chrono::seconds idle_timeout) {
  net::ConnectionRegistry* registry = net::ConnectionRegistry::current();
  if (max_idle == 0 || connection->dead || (registry != nullptr && registry->draining())) return;
  auto& list = idle_[connection->pool_key()];
  if (list.size() >= max_idle) {
    left_pool(*list.front());
    list.erase(list.begin());
  }
  if (connection->idle_gauge) {
    connection->idle_gauge->local().fetch_add(1, std::memory_order_relaxed);
  }
  connection->in_pool = true;
  connection->idle_since = net::Clock::now();
  connection->deadline = connection->idle_since + idle_timeout;  // closed when it expires
  list.push_back(std::move(connection));
}

void ConnectionPool::purge() {
  for (auto& [key, list] : idle_) {
    auto dead = std::remove_if(list.begin(), list.end(), [](const auto& c) { return c->dead; });
    for (auto it = dead; it != list.end(); ++it)
      left_pool(**it);
    list.erase(dead, list.end());
  }
}

std::size_t ConnectionPool::idle_count() const {
  std::size_t n = 0;
  for (const auto& [key, list] : idle_)
    n += list.size();
  return n;
}

}  // namespace rws::proxy
