#pragma once
// A socket read that waits for readiness before its first recv().
//
// Asio begins every socket read with a recv() and waits for epoll only when that finds nothing.
// Right after a request has been written, its reply cannot be there yet, so that first recv()
// fails with EAGAIN: one wasted system call per proxied request. async_read_reply() hands the
// read to the reactor without that attempt; the recv() runs when epoll reports the socket
// readable. The socket's registration is edge-triggered and stays armed, so waiting costs no
// epoll_ctl either.
//
// Contract (the caller's): bytes, an end of stream or an error that were already pending before
// the call, and whose readiness the event loop consumed earlier, do not wake this read — only new
// arrivals do. So it is for the reply to a write made just before, with no suspension in between
// (TcpTransport::read_reply checks the write part), and the caller bounds the wait and then
// reads normally (UpstreamConnection::read_reply). Completes like async_read_some: at least one
// byte, or an error (asio::error::eof at end of stream). Supports per-operation cancellation.
//
// This drives Asio 1.22's epoll reactor through its internal interface (asio::detail), the one
// Asio's own socket operations use; the build stops on another Asio version.

#include <cstddef>
#include <new>
#include <system_error>
#include <type_traits>
#include <utility>

#include <asio/associated_cancellation_slot.hpp>
#include <asio/async_result.hpp>
#include <asio/buffer.hpp>
#include <asio/detail/bind_handler.hpp>
#include <asio/detail/fenced_block.hpp>
#include <asio/detail/handler_alloc_helpers.hpp>
#include <asio/detail/handler_work.hpp>
#include <asio/detail/memory.hpp>
#include <asio/detail/reactor.hpp>
#include <asio/detail/reactor_op.hpp>
#include <asio/detail/socket_ops.hpp>
#include <asio/ip/tcp.hpp>
#include <asio/version.hpp>

static_assert(ASIO_VERSION / 100 == 1022,
              "net/reply_read.hpp uses Asio 1.22's reactor internals: check it against this "
              "Asio version");

namespace rws::net::reply_read {

using Reactor = asio::detail::reactor;

// The reactor serving `socket`'s execution context.
inline Reactor& reactor_of(asio::ip::tcp::socket& socket) {
  return asio::use_service<Reactor>(asio::query(socket.get_executor(), asio::execution::context));
}

// The socket's descriptor, mode bits and reactor registration (protected in Asio's socket).
struct SocketAccess : asio::ip::tcp::socket {
  static auto& implementation(asio::ip::tcp::socket& socket) {
    return (socket.*(&SocketAccess::impl_)).get_implementation();
  }
};

// The operation whose start the reactor is performing now: its perform step declines once.
inline thread_local const asio::detail::reactor_op* starting_op = nullptr;

template <typename Handler, typename IoExecutor>
class ReplyReadOp : public asio::detail::reactor_op {
 public:
  ASIO_DEFINE_HANDLER_PTR(ReplyReadOp);

  ReplyReadOp(int descriptor, asio::mutable_buffer buffer, Handler& handler,
              const IoExecutor& io_ex)
      : reactor_op(asio::error_code(), &ReplyReadOp::do_perform, &ReplyReadOp::do_complete),
        descriptor_(descriptor),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  static status do_perform(reactor_op* base) {
    if (base == starting_op) return not_done;  // the speculative attempt: nothing can be there
    auto* o = static_cast<ReplyReadOp*>(base);
    return asio::detail::socket_ops::non_blocking_recv1(o->descriptor_, o->buffer_.data(),
                                                        o->buffer_.size(), 0, true, o->ec_,
                                                        o->bytes_transferred_)
               ? done
               : not_done;
  }

  // As Asio's own receive operation completes: the handler leaves the operation's memory before
  // the upcall; without an owner (shutdown) there is no upcall.
  static void do_complete(void* owner, asio::detail::operation* base, const asio::error_code&,
                          std::size_t) {
    auto* o = static_cast<ReplyReadOp*>(base);
    ptr p = {asio::detail::addressof(o->handler_), o, o};
    asio::detail::handler_work<Handler, IoExecutor> work(std::move(o->work_));
    asio::detail::binder2<Handler, asio::error_code, std::size_t> bound(o->handler_, o->ec_,
                                                                        o->bytes_transferred_);
    p.h = asio::detail::addressof(bound.handler_);
    p.reset();
    if (owner != nullptr) {
      asio::detail::fenced_block fence(asio::detail::fenced_block::half);
      work.complete(bound, bound.handler_);
    }
  }

 private:
  int descriptor_;
  asio::mutable_buffer buffer_;
  Handler handler_;
  asio::detail::handler_work<Handler, IoExecutor> work_;
};

// Cancels the read when the handler's cancellation slot is signalled.
class ReadCancellation {
 public:
  ReadCancellation(Reactor* reactor, Reactor::per_descriptor_data* data, int descriptor)
      : reactor_(reactor), data_(data), descriptor_(descriptor) {}
  void operator()(asio::cancellation_type_t type) {
    if (!!(type & (asio::cancellation_type::terminal | asio::cancellation_type::partial |
                   asio::cancellation_type::total))) {
      reactor_->cancel_ops_by_key(descriptor_, *data_, Reactor::read_op, this);
    }
  }

 private:
  Reactor* reactor_;
  Reactor::per_descriptor_data* data_;
  int descriptor_;
};

struct Initiation {
  asio::ip::tcp::socket* socket;
  Reactor* reactor;

  template <typename Handler>
  void operator()(Handler&& handler, asio::mutable_buffer buffer) const {
    using Op = ReplyReadOp<std::decay_t<Handler>, asio::ip::tcp::socket::executor_type>;
    auto& impl = SocketAccess::implementation(*socket);
    auto slot = asio::get_associated_cancellation_slot(handler);
    typename Op::ptr p = {asio::detail::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(impl.socket_, buffer, handler, socket->get_executor());
    if (slot.is_connected()) {
      p.p->cancellation_key_ =
          &slot.template emplace<ReadCancellation>(reactor, &impl.reactor_data_, impl.socket_);
    }
    if ((impl.state_ & asio::detail::socket_ops::non_blocking) == 0) {
      // Not in non-blocking mode: the recv() in the perform step could block the thread.
      p.p->ec_ = asio::error::operation_not_supported;
      reactor->post_immediate_completion(p.p, false);
    } else {
      starting_op = p.p;
      reactor->start_op(Reactor::read_op, impl.socket_, impl.reactor_data_, p.p, false, true);
      starting_op = nullptr;
    }
    p.v = p.p = nullptr;
  }
};

// Reads into `buffer` once the socket turns readable (see the contract above). The socket must
// be in non-blocking mode (else operation_not_supported).
template <typename CompletionToken>
auto async_read_reply(asio::ip::tcp::socket& socket, Reactor& reactor, asio::mutable_buffer buffer,
                      CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, std::size_t)>(
      Initiation{&socket, &reactor}, token, buffer);
}

}  // namespace rws::net::reply_read
