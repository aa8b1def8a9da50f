#pragma once

#include <asio/any_io_executor.hpp>
#include <asio/ip/tcp.hpp>

#include "net/transport.hpp"

namespace asio::detail {
class epoll_reactor;
}

namespace rws::net {

// The socket's remote address; an IPv4-mapped IPv6 address is given as IPv4.
PeerAddress remote_peer(const asio::ip::tcp::socket& socket);

// A plain TCP connection. The socket is put in non-blocking mode so that send_file can call the
// kernel directly.
class TcpTransport final : public Transport {
 public:
  // read_reply() and read_next() in a form that completes in the awaiting coroutine's own frame:
  // `co_await transport.read_reply_into(buffer, outcome)` suspends the coroutine once and
  // resumes it with `outcome` set, where `co_await transport.read_reply(buffer)` also creates,
  // runs and destroys the coroutine frame of Asio's operation — code that every request would
  // run twice (once per side). Only for coroutines of asio::awaitable<T, asio::any_io_executor>
  // (through Asio 1.22's hook for starting an operation after the coroutine suspended).
  class DirectRead {
   public:
    enum class Kind { kSome, kReply, kNext };
    DirectRead(TcpTransport& transport, Kind kind, asio::mutable_buffer buffer,
               ReadOutcome& outcome) noexcept
        : transport_(&transport), kind_(kind), buffer_(buffer), outcome_(&outcome) {}
    // Called by the awaiting coroutine's frame once it has suspended: starts the read, whose
    // completion takes the coroutine's thread of execution and resumes it.
    asio::detail::awaitable_thread<asio::any_io_executor>* operator()(
        asio::detail::awaitable_frame_base<asio::any_io_executor>* frame) const;

   private:
    TcpTransport* transport_;
    Kind kind_;
    asio::mutable_buffer buffer_;
    ReadOutcome* outcome_;
  };
  DirectRead read_reply_into(asio::mutable_buffer buffer, ReadOutcome& outcome) noexcept;
  DirectRead read_next_into(asio::mutable_buffer buffer, ReadOutcome& outcome) noexcept;

  explicit TcpTransport(asio::ip::tcp::socket socket);

  asio::awaitable<ReadOutcome> read_some(asio::mutable_buffer buffer) override;
  // One non-blocking recv() first, whatever read_next noted.
  asio::awaitable<ReadOutcome> read_now(asio::mutable_buffer buffer) override;
  // Skips the first recv() when the last write() completed at once (see net/edge_read.hpp).
  asio::awaitable<ReadOutcome> read_reply(asio::mutable_buffer buffer) override;
  // Skips the first recv() while the socket is drained (see net/edge_read.hpp).
  asio::awaitable<ReadOutcome> read_next(asio::mutable_buffer buffer) override;
  asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers) override;
  bool write_at_once(std::span<const asio::const_buffer> buffers,
                     std::error_code& ec) noexcept override;
  asio::awaitable<std::error_code> send_file(std::string_view prefix, int fd, std::uint64_t offset,
                                             std::uint64_t length) override;
  bool idle_and_open() noexcept override;
  // Waits until bytes are readable and copies up to `size` of them without consuming them;
  // 0 when the connection ended, failed or was cancelled.
  asio::awaitable<std::size_t> peek(char* data, std::size_t size);
  void shutdown_send() noexcept override;
  void cancel() noexcept override;
  void close() noexcept override;
  const PeerAddress& peer() const noexcept override { return peer_; }
  // The socket descriptor (-1 once closed), for non-blocking probes such as a MSG_PEEK.
  int native_handle() noexcept { return socket_.native_handle(); }

 private:
  // The epoll reactor serving the socket, looked up by the first edge read.
  asio::detail::epoll_reactor& reactor();

  asio::ip::tcp::socket socket_;
  PeerAddress peer_;
  asio::detail::epoll_reactor* reactor_ = nullptr;
  bool wrote_at_once_ = false;  // the last write finished without suspending
  // write_at_once() sent `resume_at_` bytes and left the rest to the write() that follows.
  bool write_started_ = false;
  std::size_t resume_at_ = 0;
};

}  // namespace rws::net
