#pragma once
// Transport: the byte stream a session owns (plain TCP, TLS).
//
// Contract: one coroutine owns the transport and runs all of its operations on the
// connection's executor, at most one read and one write outstanding at a time. cancel() makes
// pending operations complete with asio::error::operation_aborted; the transport stays usable.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <tuple>
#include <utility>

#include <asio/awaitable.hpp>
#include <asio/buffer.hpp>

#include <rws/http/tls_info.hpp>

namespace rws::net {

// What a read gives: an error, or how many bytes arrived (the type Asio's
// as_tuple(use_awaitable) completes with, so that a transport can hand back an Asio operation
// without a coroutine frame of its own).
using ReadOutcome = std::tuple<std::error_code, std::size_t>;

struct PeerAddress {
  std::string address;  // textual IP, without brackets
  std::uint16_t port = 0;
};

class Transport {
 public:
  virtual ~Transport() = default;

  // Reads at least one byte (n > 0), or fails; end of stream is asio::error::eof.
  virtual asio::awaitable<ReadOutcome> read_some(asio::mutable_buffer buffer) = 0;
  // Reads like read_some, but asks the socket at once even where read_next or read_reply would
  // wait for readiness: the fallback after their bounded wait.
  virtual asio::awaitable<ReadOutcome> read_now(asio::mutable_buffer buffer) {
    return read_some(buffer);
  }
  // Reads the first bytes of the peer's reply to what write() just sent, with no suspension
  // between that write and this call. Like read_some, except that a transport may skip an
  // attempt that can only find nothing yet and wait for readiness instead; input that was
  // already pending before the write may then go unnoticed until something new arrives, so
  // callers bound the wait and fall back to read_now (see UpstreamConnection::read_more).
  virtual asio::awaitable<ReadOutcome> read_reply(asio::mutable_buffer buffer) {
    return read_some(buffer);
  }
  // Reads the first bytes of the next message on a connection that waits for one (a keep-alive
  // connection between requests). Like read_some, except that a transport may note when a read
  // drained the socket and then wait for readiness instead of trying first; an end of stream
  // or reset that arrived together with the last bytes read may then go unnoticed until
  // something new arrives, so callers bound the wait and fall back to read_now (see
  // h1::ServerSession::wait_for_request). Until new input arrives, the transport's other reads
  // may wait for readiness the same way.
  virtual asio::awaitable<ReadOutcome> read_next(asio::mutable_buffer buffer) {
    return read_some(buffer);
  }
  // Writes every byte of `buffers` or fails.
  virtual asio::awaitable<std::error_code> write(std::span<const asio::const_buffer> buffers) = 0;
  // Writes all of `buffers` if the transport takes them without waiting: true when that
  // settled the write (done, or failed: `ec`); false when some bytes have to wait, and then the
  // next call must be write() with the same `buffers`, which sends what is left. Plain TCP
  // usually takes a write whole, so trying this first keeps a coroutine off the common path.
  // The default writes nothing.
  virtual bool write_at_once(std::span<const asio::const_buffer> /*buffers*/,
                             std::error_code& ec) noexcept {
    ec.clear();
    return false;
  }
  // Writes `prefix` (e.g. a response head), then `length` bytes of the file `fd` from `offset`,
  // with sendfile where the transport allows, in as few packets as it can. Callers send large
  // files in pieces, so that deadlines measure progress.
  virtual asio::awaitable<std::error_code> send_file(std::string_view prefix, int fd,
                                                     std::uint64_t offset,
                                                     std::uint64_t length) = 0;

  // For an idle connection (no exchange in progress): whether it can still carry a request —
  // no end of stream, reset or stray data has arrived. Never blocks.
  virtual bool idle_and_open() noexcept = 0;

  // Half-close: no more writes; the peer sees end of stream.
  virtual void shutdown_send() noexcept = 0;
  virtual void cancel() noexcept = 0;
  virtual void close() noexcept = 0;

  virtual const PeerAddress& peer() const noexcept = 0;
  // What TLS negotiated; null: not TLS.
  virtual const http::TlsInfo* tls_info() const noexcept { return nullptr; }
  bool secure() const noexcept { return tls_info() != nullptr; }
};

}  // namespace rws::net
