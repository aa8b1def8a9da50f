#pragma once
// HTTP/1.1 server session: one per accepted connection, one coroutine owning the transport.
//
// Lifecycle: run() loops wait-for-request → read head → call the Service → write response,
// until the peer closes, a timeout or error ends the connection, or the server drains. Requests
// are handled one at a time in arrival order; responses to pipelined requests are collected and
// leave in one write. Between requests the session returns its read buffer to the worker's pool.
// Everything runs on the worker's thread; the session registers with the worker's
// ConnectionRegistry for deadlines and drain.

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <asio/awaitable.hpp>

#include <rws/http/cidr.hpp>
#include <rws/http/service.hpp>

#include "h1/body_decoder.hpp"
#include "h1/request_parser.hpp"
#include "http/exchange_log.hpp"
#include "net/buffer.hpp"
#include "net/connection_registry.hpp"
#include "net/transport.hpp"

namespace rws::net {
class TcpTransport;
}

namespace rws::h1 {

struct SessionSettings {
  ParserLimits parser;
  ChunkedLimits chunked;
  std::uint64_t max_body_size = 0;                   // 0: unlimited → 413 beyond it
  std::chrono::milliseconds header_timeout{10'000};  // first byte → end of head
  std::chrono::milliseconds idle_timeout{60'000};    // keep-alive wait for the next request
  std::chrono::milliseconds body_timeout{60'000};    // between two reads of the request body
  std::chrono::milliseconds write_timeout{60'000};   // for each piece of the response to leave
  std::chrono::milliseconds linger_timeout{2'000};   // reading leftovers before closing
  std::string server_name = "rws";                   // Server field; empty: none
  std::string hsts;     // Strict-Transport-Security on TLS responses without one; empty: none
  std::string alt_svc;  // Alt-Svc on TLS responses without one (HTTP/3 offer); empty: none
  std::vector<http::Cidr> trusted_proxies;  // see http/client_address.hpp
};

struct ExchangeMeta;

// What a session borrows from its worker; everything outlives the session.
struct SessionEnv {
  const SessionSettings& settings;
  http::Service& service;
  net::BufferPool& buffers;
  net::ConnectionRegistry& registry;
  http::ExchangeLog* log;  // may be null
  const std::atomic<bool>& draining;
};

class ServerSession final : public net::TrackedConnection, private http::InterimSender {
 public:
  ServerSession(std::unique_ptr<net::Transport> transport, SessionEnv env, std::uint64_t id);
  ~ServerSession() override;
  ServerSession(const ServerSession&) = delete;
  ServerSession& operator=(const ServerSession&) = delete;

  // Serves the connection until it ends; owns the session for that time.
  static asio::awaitable<void> run(std::unique_ptr<ServerSession> self);

  void on_deadline() noexcept override;
  void on_drain() noexcept override;
  void on_abort() noexcept override;

 private:
  class RequestBody;
  class Tunnel;
  struct BodyLink;
  enum class Phase : std::uint8_t { kIdle, kHead, kHandler, kBody, kWrite, kLinger };
  enum class ReadResult : std::uint8_t { kOk, kEof, kTimeout, kAborted, kError };

  // Request body state for the exchange in progress (plain values: resetting it is cheap; the
  // decoder is kept apart, in body_decoder_).
  struct BodyState {
    bool active = false;            // the request has a body
    bool continue_pending = false;  // "100 Continue" owed on the first read
    bool finished = false;          // end delivered to the reader
    bool trailers_delivered = false;
    std::uint64_t received = 0;
    int error_status = 0;  // 400/408/413 when reading failed
    std::string_view error_reason;
  };

  asio::awaitable<void> serve();
  asio::awaitable<bool> wait_for_request();
  // Starts a request: notes when it began and parses the head from what has arrived. True when
  // the head is complete; false when read_head() must read the rest (or answer an error).
  bool begin_head();
  asio::awaitable<bool> read_head();
  asio::awaitable<bool> exchange();
  // Moves the parsed request out of the parser and calls the service with it. Not a coroutine:
  // the request lives in the handler's frame only, which keeps exchange()'s frame under the
  // 1020 bytes Asio's per-thread cache recycles (bigger frames cost a malloc and free each).
  asio::awaitable<http::Response> start_handler(const MessageInfo& info,
                                                http::RequestContext& context);
  asio::awaitable<ReadResult> read_more(Phase phase, net::Clock::time_point deadline);
  asio::awaitable<Result<http::BodyFrame>> read_body(std::size_t max_bytes);
  Unexpected<Error> body_failure(int status, std::string_view reason, Errc code);
  asio::awaitable<bool> drain_body();

  // Serializes the response after any pending output. May clear keep_alive (a body without a
  // length on HTTP/1.0); returns false when the connection failed or the body could not be
  // sent whole. Its two steps follow.
  asio::awaitable<bool> send_response(http::Response& response, const ExchangeMeta& meta,
                                      bool& keep_alive, std::uint64_t& body_bytes);
  // What stage_response placed in the output buffer: the whole response; only the head (the
  // body is for send_body); or nothing usable (a file that could not be read: the connection
  // cannot complete the message).
  enum class Staged { kWhole, kHeadOnly, kFailed };
  // Appends the head (keep_alive as send_response), and the body when it is empty or small
  // enough to go along: bytes up to kInlineBodyLimit, a file up to kInlineFileLimit. Sets
  // `chunked` (the body goes in chunks) and, for an inline body, `body_bytes`.
  Staged stage_response(http::Response& response, const ExchangeMeta& meta, bool& keep_alive,
                        std::uint64_t& body_bytes, bool& chunked);
  // Sends a body stage_response left, after the output buffer's head; counts `body_bytes`.
  asio::awaitable<bool> send_body(http::Body& body, bool chunked, std::uint64_t& body_bytes);
  bool read_file_inline(const http::FileRegion& region);
  asio::awaitable<bool> send_stream(http::BodySource& source, bool chunked,
                                    std::optional<std::uint64_t> size, std::uint64_t& body_bytes);
  asio::awaitable<bool> send_file(const http::FileRegion& region);
  // Writes `buffers` if the transport takes them at once: true when that settled it (`ok`:
  // written), false when write() must follow with the same buffers (it sends the rest).
  bool write_at_once(std::span<const asio::const_buffer> buffers, bool& ok) noexcept;
  // Writes `buffers` under the write deadline (after write_at_once(), what it left).
  asio::awaitable<bool> write(std::span<const asio::const_buffer> buffers);
  // Sends the output buffer if the transport takes it at once (or it is empty): true when that
  // settled it (`ok`: sent), false when flush() must follow.
  bool flush_at_once(bool& ok) noexcept;
  // Sends the output buffer, waiting as needed.
  asio::awaitable<bool> flush();
  // Answers with an error and closes the connection (the framing of what follows is unknown).
  asio::awaitable<void> reject(int status, std::string_view reason,
                               const ExchangeMeta* meta = nullptr);
  asio::awaitable<void> linger_and_close();

  void log_exchange(const ExchangeMeta* meta, int status, std::uint64_t body_bytes);
  asio::awaitable<bool> send_interim(const http::ResponseHead& head) override;
  asio::awaitable<void> switch_protocols(http::Response& response, const ExchangeMeta& meta);
  bool interim_allowed_ = false;  // HTTP/1.1 client, response not started

  std::unique_ptr<net::Transport> transport_;
  net::TcpTransport* tcp_;  // transport_ when it is plain TCP (for its direct reads), else null
  SessionEnv env_;
  std::uint64_t id_;
  std::uint64_t requests_ = 0;
  http::ExchangeNotes notes_;  // the current exchange's; cleared when it is logged
  std::shared_ptr<BodyLink> link_;

  net::Buffer buffer_;  // pooled; held only while a request is being read or answered
  // Where the wait for the next request reads to: most request heads (curl, wrk, API clients)
  // fit; a longer one continues in the pooled buffer.
  std::array<char, 512> idle_buffer_;
  RequestParser parser_;
  BodyState body_;
  // The request body's decoder: replaced for each request that has a body, read only while
  // body_.active (so a request without one leaves it as it was, at no cost).
  BodyDecoder body_decoder_;
  std::string out_;  // serialized output not yet written

  Phase phase_ = Phase::kIdle;
  bool timed_out_ = false;
  bool aborted_ = false;
  bool awaiting_recheck_ = false;  // the deadline of the idle wait is its recheck, see there
  bool recheck_due_ = false;       // it passed: the wait was cancelled to read anew
  // Set while an upgraded protocol wants to hear of draining (Tunnel, http::DrainNotice).
  std::function<void()> drain_callback_;
  net::Clock::time_point started_steady_;
  std::chrono::system_clock::time_point started_wall_;
  std::string client_address_;  // of the current exchange, behind trusted proxies; empty: the peer
};

}  // namespace rws::h1
