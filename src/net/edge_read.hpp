#pragma once
// Socket reads that skip Asio's first recv() when it could only fail.
//
// Asio begins every socket read with a recv() and waits for epoll only when that finds nothing
// (EAGAIN): one wasted system call whenever the bytes are not there yet — the reply to a request
// just written, the next request on a keep-alive connection. The two reads here hand the read
// to the reactor so that it waits for the socket's next readiness edge instead. The socket's
// registration is edge-triggered and stays armed, so waiting costs no epoll_ctl either.
//
// - async_read_reply: for the reply to a write made just before, with no suspension in between
//   (TcpTransport::read_reply checks the write part): it never tries before an edge.
// - async_read_next: the first read may try (as Asio decides); a read that returns fewer bytes
//   than asked for tells the reactor the socket is drained, so the next read of the descriptor —
//   of any kind — waits for an edge unless one has arrived since (Asio's per-descriptor
//   "try speculative" flag, which every edge sets again). This is what nginx does with its
//   `ready` flag.
//
// Contract (the caller's): bytes, an end of stream or an error that were pending before the
// read and whose readiness the event loop consumed earlier do not wake it — only new arrivals
// do. For async_read_reply that is input from before the write; for async_read_next an end of
// stream or reset that came together with the bytes of the last short read. Callers bound the
// wait and then read normally (UpstreamConnection::read_more, ServerSession::wait_for_request).
// Both complete like async_read_some: at least one byte, or an error (asio::error::eof at end of
// stream), and support per-operation cancellation.
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
              "net/edge_read.hpp uses Asio 1.22's reactor internals: check it against this "
              "Asio version");

namespace rws::net::edge_read {

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

// The operation whose start the reactor is performing now: a reply read declines that attempt.
inline thread_local const asio::detail::reactor_op* starting_op = nullptr;

enum class Kind { kReply, kNext };

template <typename Handler, typename IoExecutor>
class EdgeReadOp : public asio::detail::reactor_op {
 public:
  ASIO_DEFINE_HANDLER_PTR(EdgeReadOp);

  EdgeReadOp(Kind kind, int descriptor, asio::mutable_buffer buffer, Handler& handler,
             const IoExecutor& io_ex)
      : reactor_op(asio::error_code(), &EdgeReadOp::do_perform, &EdgeReadOp::do_complete),
        kind_(kind),
        descriptor_(descriptor),
        buffer_(buffer),
        handler_(std::move(handler)),
        work_(handler_, io_ex) {}

  static status do_perform(reactor_op* base) {
    auto* o = static_cast<EdgeReadOp*>(base);
    // A reply read's speculative attempt: nothing can be there yet.
    if (o->kind_ == Kind::kReply && base == starting_op) return not_done;
    if (!asio::detail::socket_ops::non_blocking_recv1(o->descriptor_, o->buffer_.data(),
                                                      o->buffer_.size(), 0, true, o->ec_,
                                                      o->bytes_transferred_)) {
      return not_done;
    }
    // Fewer bytes than there was room for: the socket is drained until its next edge.
    const bool drained = o->kind_ == Kind::kNext && !o->ec_ && o->bytes_transferred_ > 0 &&
                         o->bytes_transferred_ < o->buffer_.size();
    return drained ? done_and_exhausted : done;
  }

  // As Asio's own receive operation completes: the handler leaves the operation's memory before
  // the upcall; without an owner (shutdown) there is no upcall.
  static void do_complete(void* owner, asio::detail::operation* base, const asio::error_code&,
                          std::size_t) {
    auto* o = static_cast<EdgeReadOp*>(base);
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
  Kind kind_;
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
  Kind kind;

  template <typename Handler>
  void operator()(Handler&& handler, asio::mutable_buffer buffer) const {
    using Op = EdgeReadOp<std::decay_t<Handler>, asio::ip::tcp::socket::executor_type>;
    auto& impl = SocketAccess::implementation(*socket);
    auto slot = asio::get_associated_cancellation_slot(handler);
    typename Op::ptr p = {asio::detail::addressof(handler), Op::ptr::allocate(handler), nullptr};
    p.p = new (p.v) Op(kind, impl.socket_, buffer, handler, socket->get_executor());
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

// Reads the reply to what was just written into `buffer` (see above). The socket must be in
// non-blocking mode (else operation_not_supported).
template <typename CompletionToken>
auto async_read_reply(asio::ip::tcp::socket& socket, Reactor& reactor, asio::mutable_buffer buffer,
                      CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, std::size_t)>(
      Initiation{&socket, &reactor, Kind::kReply}, token, buffer);
}

// Reads the next message's first bytes into `buffer`, keeping track of a drained socket (see
// above). The socket must be in non-blocking mode (else operation_not_supported).
template <typename CompletionToken>
auto async_read_next(asio::ip::tcp::socket& socket, Reactor& reactor, asio::mutable_buffer buffer,
                     CompletionToken&& token) {
  return asio::async_initiate<CompletionToken, void(std::error_code, std::size_t)>(
      Initiation{&socket, &reactor, Kind::kNext}, token, buffer);
}

}  // namespace rws::net::edge_read
