#include "ws/session.hpp"

#include <array>
#include <exception>
#include <stdexcept>
#include <utility>

#include <asio/buffer.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "http/drain_notice.hpp"
#include "ws/frame_writer.hpp"
#include "ws/utf8.hpp"

namespace rws::ws {

namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;

// Holds the write lock (a channel holding one token) until destroyed.
class LockGuard {
 public:
  explicit LockGuard(asio::experimental::channel<void(std::error_code, bool)>& lock)
      : lock_(lock) {}
  ~LockGuard() { lock_.try_send(std::error_code{}, true); }
  LockGuard(const LockGuard&) = delete;
  LockGuard& operator=(const LockGuard&) = delete;

 private:
  asio::experimental::channel<void(std::error_code, bool)>& lock_;
};

}  // namespace

Session::Session(http::UpgradedStream& stream, const asio::any_io_executor& executor,
                 const WebSocketOptions& options, std::string subprotocol, std::string extensions,
                 std::optional<DeflateParams> deflate, http::RequestHead request)
    : stream_(stream),
      options_(options),
      subprotocol_(std::move(subprotocol)),
      extensions_(std::move(extensions)),
      request_(std::move(request)),
      slot_(executor, 1),
      lock_(executor, 1),
      watchdog_timer_(executor),
      last_activity_(Clock::now()) {
  if (deflate) {
    deflater_ = std::make_unique<Deflater>(deflate->server_max_window_bits,
                                           deflate->server_no_context_takeover);
    inflater_ = std::make_unique<Inflater>(deflate->client_no_context_takeover);
  }
  lock_.try_send(std::error_code{}, true);  // the one token: unlocked
  drain_notice_ = dynamic_cast<http::DrainNotice*>(&stream_);
  if (drain_notice_) {
    drain_notice_->on_drain([this] {
      drain_requested_ = true;
      wake_watchdog();
    });
  }
}

Session::~Session() {
  if (drain_notice_) drain_notice_->on_drain({});
}

asio::awaitable<void> Session::run(const WebSocketHandler& handler) {
  using namespace asio::experimental::awaitable_operators;
  // The reader and the watchdog end together: whichever finishes first cancels the other.
  co_await (run_handler(handler) && (read_loop() || watchdog()));
}

asio::awaitable<void> Session::run_handler(const WebSocketHandler& handler) {
  bool threw = false;
  try {
    co_await handler(*this);
  } catch (const std::exception& e) {
    log::http().warn("websocket {}: handler threw: {}", request_.path, e.what());
    threw = true;
  } catch (...) {
    log::http().warn("websocket {}: handler threw a non-standard exception", request_.path);
    threw = true;
  }
  co_await send_close(threw ? close_code::kInternalError : close_code::kNormal, "");
}

asio::awaitable<void> Session::read_loop() {
  try {
    co_await read_frames();
  } catch (const std::exception&) {
    // Cancelled (the watchdog ended the connection); anything else ends it as well.
  }
  reader_done_ = true;
  if (!close_code_) close_code_ = close_code::kAbnormal;
  slot_.cancel();  // a waiting receive() returns nullopt
  wake_watchdog();
}

asio::awaitable<void> Session::read_frames() {
  ParserOptions parser_options;
  parser_options.role = Role::kServer;
  parser_options.allow_rsv1 = inflater_ != nullptr;
  parser_options.max_frame_size = options_.max_frame_size;
  parser_options.max_message_size = options_.max_message_size;
  FrameParser parser(parser_options);
  std::string buffer(kReadChunk, '\0');
  bool reading = true;
  while (reading) {
    asio::mutable_buffer into = asio::buffer(buffer);
    auto [ec, n] = co_await stream_.read_some(into);
    if (ec) break;  // closed, reset, cancelled or timed out
    last_activity_ = Clock::now();
    std::string_view input(buffer.data(), n);
    while (reading) {
      std::size_t consumed = 0;
      FrameParser::Status status = parser.parse(input, consumed);
      input.remove_prefix(consumed);
      if (status == FrameParser::Status::kIncomplete) break;
      if (status == FrameParser::Status::kError) {
        co_await send_close(parser.error().code, parser.error().reason);
        reading = false;
        break;
      }
      reading = co_await on_event(parser.event());
    }
  }
}

asio::awaitable<bool> Session::on_event(const Event& event) {
  switch (event.kind) {
    case Event::Kind::kPing: {
      if (close_sent_) co_return true;
      std::string payload(event.payload);
      co_return co_await write_frame(Opcode::kPong, payload);
    }
    case Event::Kind::kPong:
      co_return true;  // any received byte counts as a sign of life (last_activity_)
    case Event::Kind::kClose:
      if (!close_sent_) {
        close_code_ = event.close_code;
        // Echo the code (an empty close frame when the peer sent none, §5.5.1).
        co_await send_close(event.close_code == close_code::kNoStatus ? 0 : event.close_code, "");
      }
      co_return false;  // nothing may follow a close frame
    case Event::Kind::kText:
    case Event::Kind::kBinary:
      co_return co_await on_data(event);
  }
  co_return false;
}

asio::awaitable<bool> Session::on_data(const Event& event) {
  if (close_sent_) co_return true;  // closing: data is discarded until the peer's close frame
  WebSocketMessage message;
  message.type = event.kind == Event::Kind::kText ? WebSocketMessage::Type::kText
                                                  : WebSocketMessage::Type::kBinary;
  if (event.compressed) {
    if (std::optional<Error> error =
            inflater_->decompress(event.payload, options_.max_message_size, message.data)) {
      co_await send_close(error->code, error->reason);
      co_return false;
    }
    if (message.text() && !is_valid_utf8(message.data)) {
      co_await send_close(close_code::kInvalidPayload, "invalid UTF-8");
      co_return false;
    }
  } else {
    message.data.assign(event.payload);
  }
  reader_blocked_ = true;
  co_await slot_.async_send(std::error_code{}, std::move(message), kUseTuple);
  reader_blocked_ = false;
  last_activity_ = Clock::now();  // idle time counts from here: nothing was read meanwhile
  co_return true;                 // ec: close() emptied the slot; keep reading for the close
}

asio::awaitable<void> Session::watchdog() {
  for (;;) {
    if (reader_done_) co_return;
    if (drain_requested_ && !close_sent_) {
      co_await send_close(close_code::kGoingAway, "server shutting down");
      continue;
    }
    const Clock::time_point now = Clock::now();
    Clock::time_point wake = Clock::time_point::max();
    if (close_sent_) {
      if (now >= close_deadline_) co_return;  // the peer never answered: stop reading
      wake = close_deadline_;
    } else if (options_.ping_interval.count() > 0) {
      if (reader_blocked_) {
        // Not reading, so an answer could not be seen: no keep-alive meanwhile.
        ping_sent_at_.reset();
        wake = now + options_.ping_interval;
      } else if (ping_sent_at_ && last_activity_ <= *ping_sent_at_) {
        if (now >= *ping_sent_at_ + options_.pong_timeout) {
          log::http().info("websocket {}: no pong in time, dropping the connection", request_.path);
          co_return;  // close_code() 1006
        }
        wake = *ping_sent_at_ + options_.pong_timeout;
      } else if (now >= last_activity_ + options_.ping_interval) {
        ping_sent_at_ = now;
        if (!co_await write_frame(Opcode::kPing, "")) co_return;
        continue;
      } else {
        ping_sent_at_.reset();
        wake = last_activity_ + options_.ping_interval;
      }
    }
    watchdog_timer_.expires_at(wake);
    co_await watchdog_timer_.async_wait(kUseTuple);  // cancelled: something changed
  }
}

asio::awaitable<std::optional<WebSocketMessage>> Session::receive() {
  // A message that arrived before the closing handshake began is still handed out; nothing
  // is read into the slot after it (see on_data).
  if ((close_sent_ || reader_done_) && !slot_.ready()) co_return std::nullopt;
  auto [ec, message] = co_await slot_.async_receive(kUseTuple);
  if (ec) co_return std::nullopt;
  co_return std::move(message);
}

asio::awaitable<bool> Session::send_text(std::string_view text) {
  co_return co_await send_message(Opcode::kText, text);
}

asio::awaitable<bool> Session::send_binary(std::string_view data) {
  co_return co_await send_message(Opcode::kBinary, data);
}

asio::awaitable<bool> Session::send_message(Opcode opcode, std::string_view data) {
  if (opcode == Opcode::kText && !is_valid_utf8(data)) {
    throw std::invalid_argument("WebSocket text message is not valid UTF-8");
  }
  co_return co_await write_frame(opcode, data);
}

asio::awaitable<bool> Session::write_frame(Opcode opcode, std::string_view payload) {
  auto [lock_ec, token] = co_await lock_.async_receive(kUseTuple);
  if (lock_ec) co_return false;
  LockGuard guard(lock_);
  // Nothing may follow our close frame (§5.5.1), which may have left while this waited.
  if (reader_done_ || close_sent_) co_return false;
  if (deflater_ && !is_control(opcode)) {
    // Compressed under the lock: the compressor's context must follow the sending order.
    std::string compressed = deflater_->compress(payload);
    co_return co_await write_locked(opcode, compressed, true);
  }
  co_return co_await write_locked(opcode, payload, false);
}

asio::awaitable<bool> Session::write_locked(Opcode opcode, std::string_view payload, bool rsv1) {
  std::array<char, kMaxHeaderSize> header{};
  FrameHeader h;
  h.opcode = opcode;
  h.rsv1 = rsv1;
  h.length = payload.size();
  std::size_t header_length = write_header(h, header);
  std::array<asio::const_buffer, 2> buffers{asio::buffer(header.data(), header_length),
                                            asio::buffer(payload.data(), payload.size())};
  std::error_code ec = co_await stream_.write(buffers);
  co_return !ec;
}

asio::awaitable<void> Session::close(std::uint16_t code, std::string_view reason) {
  if (!is_sendable_close_code(code)) {
    throw std::invalid_argument("WebSocket close code " + std::to_string(code) + " cannot be sent");
  }
  co_await send_close(code, reason);
}

asio::awaitable<void> Session::send_close(std::uint16_t code, std::string_view reason) {
  if (close_sent_ || reader_done_) co_return;
  close_sent_ = true;
  if (!close_code_ && code != 0) close_code_ = code;
  close_deadline_ = Clock::now() + options_.close_timeout;
  slot_.cancel();  // releases a reader waiting for room: it now reads on, for the close frame
  wake_watchdog();
  std::string frame_bytes = code == 0 ? frame(Opcode::kClose, "") : close_frame(code, reason);
  auto [lock_ec, token] = co_await lock_.async_receive(kUseTuple);
  if (lock_ec) co_return;
  LockGuard guard(lock_);
  std::array<asio::const_buffer, 1> buffers{asio::buffer(frame_bytes)};
  co_await stream_.write(buffers);
}

std::optional<std::uint16_t> Session::close_code() const noexcept {
  return close_code_;
}

}  // namespace rws::ws
