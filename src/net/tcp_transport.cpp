#include "net/tcp_transport.hpp"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <cerrno>
#include <vector>

#include <asio/detail/bind_handler.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

#include "net/edge_read.hpp"

namespace rws::net {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

using Executor = asio::any_io_executor;

// The completion handler of a DirectRead: it owns the awaiting coroutine's thread of execution
// while the read is pending (as Asio's own use_awaitable handler does), and on completion stores
// the outcome in the coroutine's frame and resumes it. Being an awaitable_thread, it carries the
// coroutine's executor and cancellation slot to the operation.
class ResumeAwaiting final : public asio::detail::awaitable_thread<Executor> {
 public:
  ResumeAwaiting(asio::detail::awaitable_frame_base<Executor>* frame, ReadOutcome* outcome)
      : asio::detail::awaitable_thread<Executor>(std::move(*frame->detach_thread())),
        frame_(frame),
        outcome_(outcome) {}
  ResumeAwaiting(ResumeAwaiting&&) noexcept = default;

  void operator()(std::error_code ec, std::size_t n) {
    frame_->attach_thread(this);
    *outcome_ = ReadOutcome{ec, n};
    frame_->clear_cancellation_slot();
    this->pump();
  }

 private:
  asio::detail::awaitable_frame_base<Executor>* frame_;
  ReadOutcome* outcome_;
};

}  // namespace

asio::detail::awaitable_thread<Executor>* TcpTransport::DirectRead::operator()(
    asio::detail::awaitable_frame_base<Executor>* frame) const {
  ResumeAwaiting handler(frame, outcome_);
  if (handler.get_cancellation_state().cancelled() != asio::cancellation_type::none) {
    // Cancelled already, as co_await would have found before starting an operation: the read
    // completes as aborted without starting (after the coroutine's suspension, through the
    // executor).
    const Executor executor = handler.get_executor();  // before the handler moves
    asio::post(executor, asio::detail::bind_handler(
                             std::move(handler), asio::error::operation_aborted, std::size_t{0}));
    return nullptr;
  }
  asio::ip::tcp::socket& socket = transport_->socket_;
  switch (kind_) {
    case Kind::kSome:
      socket.async_read_some(buffer_, std::move(handler));
      break;
    case Kind::kReply:
      edge_read::async_read_reply(socket, transport_->reactor(), buffer_, std::move(handler));
      break;
    case Kind::kNext:
      edge_read::async_read_next(socket, transport_->reactor(), buffer_, std::move(handler));
      break;
  }
  return nullptr;  // the coroutine stays suspended: the handler resumes it
}

TcpTransport::DirectRead TcpTransport::read_reply_into(asio::mutable_buffer buffer,
                                                       ReadOutcome& outcome) noexcept {
  // As read_reply().
  if (!wrote_at_once_) return DirectRead(*this, DirectRead::Kind::kSome, buffer, outcome);
  wrote_at_once_ = false;
  return DirectRead(*this, DirectRead::Kind::kReply, buffer, outcome);
}

TcpTransport::DirectRead TcpTransport::read_next_into(asio::mutable_buffer buffer,
                                                      ReadOutcome& outcome) noexcept {
  return DirectRead(*this, DirectRead::Kind::kNext, buffer, outcome);
}

PeerAddress remote_peer(const asio::ip::tcp::socket& socket) {
  PeerAddress peer;
  std::error_code ec;
  auto endpoint = socket.remote_endpoint(ec);
  if (!ec) {
    asio::ip::address address = endpoint.address();
    if (address.is_v6() && address.to_v6().is_v4_mapped()) {
      address = asio::ip::make_address_v4(asio::ip::v4_mapped, address.to_v6());
    }
    peer.address = address.to_string();
    peer.port = endpoint.port();
  }
  return peer;
}

TcpTransport::TcpTransport(asio::ip::tcp::socket socket)
    : socket_(std::move(socket)), peer_(remote_peer(socket_)) {
  std::error_code ec;
  socket_.non_blocking(true, ec);
}

asio::awaitable<ReadOutcome> TcpTransport::read_some(asio::mutable_buffer buffer) {
  return socket_.async_read_some(buffer, kUseTuple);  // Asio's operation: no frame of our own
}

asio::awaitable<ReadOutcome> TcpTransport::read_now(asio::mutable_buffer buffer) {
  std::error_code ec;
  const std::size_t n = socket_.read_some(buffer, ec);  // non-blocking: would_block when empty
  if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ReadOutcome{ec, n};
  co_return co_await read_some(buffer);
}

asio::awaitable<ReadOutcome> TcpTransport::read_reply(asio::mutable_buffer buffer) {
  if (!wrote_at_once_) return read_some(buffer);
  wrote_at_once_ = false;
  // The event loop has not run since the request went out: no readiness for its reply can
  // have been consumed, so the read can wait for the next one without trying first.
  return edge_read::async_read_reply(socket_, reactor(), buffer, kUseTuple);
}

asio::awaitable<ReadOutcome> TcpTransport::read_next(asio::mutable_buffer buffer) {
  return edge_read::async_read_next(socket_, reactor(), buffer, kUseTuple);
}

edge_read::Reactor& TcpTransport::reactor() {
  if (reactor_ == nullptr) reactor_ = &edge_read::reactor_of(socket_);
  return *reactor_;
}

bool TcpTransport::write_at_once(std::span<const asio::const_buffer> buffers,
                                 std::error_code& ec) noexcept {
  // One non-blocking attempt: most writes fit in the socket's send buffer and complete here,
  // without suspending a coroutine or a round trip through the event loop.
  if (write_started_) return false;  // tried already: write() sends the rest
  wrote_at_once_ = false;
  const std::size_t sent = socket_.write_some(buffers, ec);
  if (ec == asio::error::would_block || ec == asio::error::try_again) {
    ec.clear();
  } else if (ec) {
    return true;
  }
  if (sent == asio::buffer_size(buffers)) {
    wrote_at_once_ = true;
    return true;
  }
  write_started_ = true;
  resume_at_ = sent;
  return false;
}

asio::awaitable<std::error_code> TcpTransport::write(std::span<const asio::const_buffer> buffers) {
  std::error_code ec;
  if (write_at_once(buffers, ec)) co_return ec;  // or a write_at_once() before left the rest
  write_started_ = false;
  // The rest waits for the socket to drain.
  std::size_t sent = resume_at_;
  std::vector<asio::const_buffer> rest;
  for (const asio::const_buffer& b : buffers) {
    if (sent >= b.size()) {
      sent -= b.size();
      continue;
    }
    rest.push_back(b + sent);
    sent = 0;
  }
  auto [error, n] = co_await asio::async_write(socket_, rest, kUseTuple);
  co_return error;
}

asio::awaitable<std::error_code> TcpTransport::send_file(std::string_view prefix, int fd,
                                                         std::uint64_t offset,
                                                         std::uint64_t length) {
  wrote_at_once_ = false;
  const int sock = socket_.native_handle();
  // MSG_MORE holds the prefix back until the file data joins it (like TCP_CORK, per call).
  const int flags = MSG_NOSIGNAL | (length > 0 ? MSG_MORE : 0);
  auto file_offset = static_cast<off_t>(offset);
  while (!prefix.empty() || length > 0) {
    ssize_t sent;
    if (!prefix.empty()) {
      sent = ::send(sock, prefix.data(), prefix.size(), flags);
      if (sent > 0) prefix.remove_prefix(static_cast<std::size_t>(sent));
    } else {
      sent = ::sendfile(sock, fd, &file_offset, static_cast<std::size_t>(length));
      if (sent > 0) length -= static_cast<std::uint64_t>(sent);
      if (sent == 0) co_return std::make_error_code(std::errc::io_error);  // the file shrank
    }
    if (sent > 0) continue;
    if (errno == EINTR) continue;
    if (errno != EAGAIN) co_return std::error_code(errno, std::system_category());
    auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, kUseTuple);
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}

bool TcpTransport::idle_and_open() noexcept {
  // Nothing may be readable on an idle connection: a FIN (0), a reset (error) or stray bytes all
  // mean it cannot carry another exchange.
  char byte;
  const ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

asio::awaitable<std::size_t> TcpTransport::peek(char* data, std::size_t size) {
  for (;;) {
    auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, kUseTuple);
    if (ec) co_return 0;
    const ssize_t n = ::recv(socket_.native_handle(), data, size, MSG_PEEK | MSG_DONTWAIT);
    if (n >= 0) co_return static_cast<std::size_t>(n);
    // Readiness can be reported before the bytes are there (or be stale): wait again.
    if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) co_return 0;
  }
}

void TcpTransport::shutdown_send() noexcept {
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

void TcpTransport::cancel() noexcept {
  std::error_code ec;
  socket_.cancel(ec);
}

void TcpTransport::close() noexcept {
  std::error_code ec;
  socket_.close(ec);
}

}  // namespace rws::net
