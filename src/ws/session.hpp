#pragma once
// One WebSocket connection over an upgraded HTTP stream: the rws::WebSocket a handler gets.
//
// Three tasks share the connection, all on its executor: the handler; a reader that parses
// frames, answers pings and close frames itself and passes data messages through a one-message
// slot (a full slot stops it reading: backpressure); and a watchdog that sends keep-alive pings
// and ends the connection when a pong or the peer's close frame does not come in time. Frames
// leave through a write lock (one writer at a time, each waiting for the transport), so
// nothing queues beyond the frames being written. run() returns when the handler has returned
// and the reader has stopped.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <asio/any_io_executor.hpp>
#include <asio/awaitable.hpp>
#include <asio/experimental/channel.hpp>
#include <asio/steady_timer.hpp>

#include <rws/app/websocket.hpp>
#include <rws/http/upgrade.hpp>

#include "ws/deflate.hpp"
#include "ws/frame.hpp"
#include "ws/frame_parser.hpp"

namespace rws::http {
class DrainNotice;
}

namespace rws::ws {

class Session final : public WebSocket {
 public:
  // `deflate`: the agreed permessage-deflate parameters, or nullopt for none.
  Session(http::UpgradedStream& stream, const asio::any_io_executor& executor,
          const WebSocketOptions& options, std::string subprotocol, std::string extensions,
          std::optional<DeflateParams> deflate, http::RequestHead request);
  ~Session() override;

  asio::awaitable<void> run(const WebSocketHandler& handler);

  asio::awaitable<std::optional<WebSocketMessage>> receive() override;
  asio::awaitable<bool> send_text(std::string_view text) override;
  asio::awaitable<bool> send_binary(std::string_view data) override;
  asio::awaitable<void> close(std::uint16_t code, std::string_view reason) override;
  std::optional<std::uint16_t> close_code() const noexcept override;
  const std::string& subprotocol() const noexcept override { return subprotocol_; }
  const std::string& extensions() const noexcept override { return extensions_; }
  const http::RequestHead& request() const noexcept override { return request_; }

 private:
  using Clock = std::chrono::steady_clock;
  using Slot = asio::experimental::channel<void(std::error_code, WebSocketMessage)>;
  // Holds one token while unlocked (void(error_code) alone trips an Asio 1.22 bug).
  using Lock = asio::experimental::channel<void(std::error_code, bool)>;

  asio::awaitable<void> run_handler(const WebSocketHandler& handler);
  // Reads until the closing handshake, a failure or cancellation; then wakes everyone waiting.
  asio::awaitable<void> read_loop();
  asio::awaitable<void> read_frames();
  // Handles one parsed event; false when reading must stop.
  asio::awaitable<bool> on_event(const Event& event);
  asio::awaitable<bool> on_data(const Event& event);
  asio::awaitable<void> watchdog();
  asio::awaitable<bool> send_message(Opcode opcode, std::string_view data);
  // Writes one frame (a data frame compressed when permessage-deflate was agreed) under the
  // write lock; false once our close frame has left or the connection is gone.
  asio::awaitable<bool> write_frame(Opcode opcode, std::string_view payload);
  // Writes one frame; the caller holds the write lock.
  asio::awaitable<bool> write_locked(Opcode opcode, std::string_view payload, bool rsv1);
  // Sends a close frame (`code` 0: an empty one) unless one was sent; starts the close timer.
  asio::awaitable<void> send_close(std::uint16_t code, std::string_view reason);
  void wake_watchdog() noexcept { watchdog_timer_.cancel(); }

  http::UpgradedStream& stream_;
  WebSocketOptions options_;
  std::string subprotocol_;
  std::string extensions_;
  http::RequestHead request_;
  std::unique_ptr<Deflater> deflater_;
  std::unique_ptr<Inflater> inflater_;

  Slot slot_;
  Lock lock_;
  asio::steady_timer watchdog_timer_;

  http::DrainNotice* drain_notice_ = nullptr;  // the stream's, when it has one
  bool drain_requested_ = false;               // the server is shutting down: close with 1001
  bool close_sent_ = false;
  bool reader_done_ = false;
  bool reader_blocked_ = false;  // waiting for room in the slot
  std::optional<std::uint16_t> close_code_;
  Clock::time_point last_activity_;                // bytes received, or the reader resumed
  std::optional<Clock::time_point> ping_sent_at_;  // awaiting an answer since
  Clock::time_point close_deadline_;
};

}  // namespace rws::ws
