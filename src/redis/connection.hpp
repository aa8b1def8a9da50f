#pragma once
// Connection: one pipelined RESP2 connection to a Redis server, per thread and io_context.
//
// Lifecycle: `local(url, executor)` returns this thread's connection to `url` on the executor's
// io_context, creating it on first use. It connects on the first call, and again on the first
// call after a failure. The connection is owned by its running coroutines (the reader keeps a
// ready connection alive) and by the calls in progress; the thread's table holds it weakly, so a
// failed, idle connection goes away, and so does everything of a destroyed io_context.
//
// Calls are pipelined: each appends its command to the output and waits for its reply; replies
// are matched to calls in order. After connecting, AUTH (when the URL has a password) and SELECT
// (when db is not 0) go first; an error reply to either fails the connection.
//
// Any failure — connect, I/O, a malformed reply, a call without an answer within its timeout —
// closes the connection and fails every call waiting on it. Nothing is retried here.
//
// In a worker, the connection registers with the worker's ConnectionRegistry: a drain closes it
// once no call is waiting (the worker's event loop then runs out of work and the worker can
// stop), and the end of the drain period closes it at once.
//
// Thread: one connection is only used on its io_context's single thread (a worker's).

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include <rws/core/error.hpp>
#include <rws/redis/url.hpp>

#include "net/connection_registry.hpp"
#include "redis/resp.hpp"

namespace rws::redis {

class Connection final : public net::TrackedConnection,
                         public std::enable_shared_from_this<Connection> {
 public:
  static std::shared_ptr<Connection> local(const RedisUrl& url,
                                           const asio::any_io_executor& executor);

  Connection(RedisUrl url, asio::any_io_executor executor);
  ~Connection() override;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  // Sends `command` (one RESP array, as append_command writes it) and returns its reply. A Redis
  // error reply is a Reply of type kError; an Error means there was no reply (unreachable,
  // refused handshake, connection lost, malformed reply, or nothing within `timeout`).
  asio::awaitable<Result<Reply>> call(std::string command, std::chrono::milliseconds timeout);

  void on_deadline() noexcept override {}  // calls keep their own deadlines
  void on_drain() noexcept override;
  void on_abort() noexcept override;

 private:
  struct Waiter;
  struct Entry {
    std::shared_ptr<Waiter> waiter;  // null: a handshake command
    const char* what = "";           // handshake: its name, for the error
  };
  enum class State { kIdle, kConnecting, kReady };

  asio::awaitable<void> connect(std::shared_ptr<Connection> self, std::uint64_t generation);
  asio::awaitable<void> write_loop(std::shared_ptr<Connection> self, std::uint64_t generation);
  asio::awaitable<void> read_loop(std::shared_ptr<Connection> self, std::uint64_t generation);
  void start_writer();
  // Handles the replies at the front of input_; false when one failed the connection.
  bool dispatch_replies();
  // Closes the connection and fails the waiting calls with `error`; the generation moves on, so
  // coroutines of the closed connection stop when they resume.
  void fail(const Error& error);
  Error error(std::error_code code, std::string context) const;

  RedisUrl url_;
  asio::any_io_executor executor_;
  asio::ip::tcp::socket socket_;
  net::ConnectionRegistry* registry_;            // null outside workers
  asio::ip::tcp::socket* connecting_ = nullptr;  // the socket a connect is in progress on
  State state_ = State::kIdle;
  std::uint64_t generation_ = 0;
  bool writing_ = false;
  std::string output_;         // commands not yet handed to the socket
  std::deque<Entry> pending_;  // commands sent or queued, in order, awaiting replies
  std::string input_;          // received bytes not yet parsed into replies
};

}  // namespace rws::redis
