// The pipe behind rws::stream(): a producer coroutine writes chunks, the session pulls them.
// Both run on the connection's executor (one thread), so the state needs no locks; each side
// waits on a timer that the other side cancels to wake it.

#include <deque>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/app/response.hpp>

#include "core/log.hpp"

namespace rws {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);

struct PipeState {
  explicit PipeState(std::size_t limit) : high_water(limit) {}

  std::size_t high_water;
  std::deque<std::string> chunks;
  std::size_t buffered = 0;
  bool producer_done = false;
  bool consumer_gone = false;
  bool failed = false;
  std::optional<asio::steady_timer> data_ready;   // the consumer waits on it
  std::optional<asio::steady_timer> space_ready;  // the producer waits on it

  static void wake(std::optional<asio::steady_timer>& timer) {
    if (timer) timer->cancel();
  }
  static asio::awaitable<void> sleep(std::optional<asio::steady_timer>& timer) {
    timer->expires_at(asio::steady_timer::time_point::max());
    co_await timer->async_wait(kUseTuple);
  }
  void push(std::string_view data) {
    chunks.emplace_back(data);
    buffered += data.size();
    wake(data_ready);
  }
};

class PipeWriter final : public StreamWriter {
 public:
  explicit PipeWriter(std::shared_ptr<PipeState> state) : state_(std::move(state)) {}

  asio::awaitable<bool> write(std::string_view data) override {
    if (state_->consumer_gone) co_return false;
    if (!data.empty()) state_->push(data);
    while (state_->buffered >= state_->high_water && !state_->consumer_gone) {
      co_await PipeState::sleep(state_->space_ready);
    }
    co_return !state_->consumer_gone;
  }

  bool offer(std::string_view data) override {
    if (state_->consumer_gone || state_->buffered >= state_->high_water) return false;
    state_->push(data);
    return true;
  }

  bool closed() const noexcept override { return state_->consumer_gone; }

 private:
  std::shared_ptr<PipeState> state_;
};

asio::awaitable<void> run_producer(std::shared_ptr<PipeState> state, StreamProducer producer) {
  PipeWriter writer(state);
  try {
    co_await producer(writer);
  } catch (const std::exception& e) {
    log::http().error("response stream producer failed: {}", e.what());
    state->failed = true;
  }
  state->producer_done = true;
  PipeState::wake(state->data_ready);
}

class PipeSource final : public http::BodySource {
 public:
  PipeSource(StreamProducer producer, std::size_t high_water)
      : state_(std::make_shared<PipeState>(high_water)), producer_(std::move(producer)) {}

  ~PipeSource() override {
    state_->consumer_gone = true;
    PipeState::wake(state_->space_ready);
  }

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    PipeState& s = *state_;
    if (producer_) {
      // Start producing only now that the response is being sent (never for HEAD).
      auto executor = co_await asio::this_coro::executor;
      s.data_ready.emplace(executor);
      s.space_ready.emplace(executor);
      asio::co_spawn(executor, run_producer(state_, std::move(producer_)), asio::detached);
      producer_ = nullptr;
    }
    while (s.chunks.empty() && !s.producer_done)
      co_await PipeState::sleep(s.data_ready);
    if (!s.chunks.empty()) {
      std::string& front = s.chunks.front();
      if (front.size() <= max_bytes) {
        current_ = std::move(front);
        s.chunks.pop_front();
      } else {
        current_.assign(front, 0, max_bytes);
        front.erase(0, max_bytes);
      }
      s.buffered -= current_.size();
      PipeState::wake(s.space_ready);
      co_return http::BodyFrame::bytes(current_);
    }
    if (s.failed) co_return fail(Errc::kClosed, ErrorSide::kInternal, "stream producer failed");
    co_return http::BodyFrame::end();
  }

 private:
  std::shared_ptr<PipeState> state_;
  StreamProducer producer_;
  std::string current_;
};

}  // namespace

http::Body stream_body(StreamProducer producer, std::size_t high_water,
                       std::optional<std::uint64_t> length) {
  return http::Body::from_stream(std::make_unique<PipeSource>(std::move(producer), high_water),
                                 length);
}

}  // namespace rws
