#include <exception>
#include <optional>
#include <variant>

#include <asio/experimental/as_tuple.hpp>
#include <asio/experimental/awaitable_operators.hpp>
#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/http/body.hpp>
#include <rws/middleware/limits.hpp>

namespace rws::middleware {
namespace {

// A request body of undeclared length that fails once it passes `limit` bytes.
class LimitedBody final : public http::BodySource {
 public:
  LimitedBody(std::unique_ptr<http::BodySource> source, std::uint64_t limit)
      : source_(std::move(source)), limit_(limit) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    Result<http::BodyFrame> frame = co_await source_->next(max_bytes);
    if (frame && frame->kind == http::BodyFrame::Kind::kData) {
      seen_ += frame->data.size();
      if (seen_ > limit_) {
        co_return fail(
            Errc::kTooLarge, ErrorSide::kDownstream,
            "request body larger than the route accepts (" + std::to_string(limit_) + " bytes)");
      }
    }
    co_return frame;
  }

 private:
  std::unique_ptr<http::BodySource> source_;
  std::uint64_t limit_;
  std::uint64_t seen_ = 0;
};

// The rest of the chain, with its failure as a value: the race below must end when the chain
// fails (an HttpError thrown by inner middleware), not wait for the timer.
struct ChainOutcome {
  std::optional<http::Response> response;
  std::exception_ptr error;
};

asio::awaitable<ChainOutcome> run_guarded(Next next, http::Request& request, Context& context) {
  ChainOutcome outcome;
  try {
    outcome.response.emplace(co_await next(request, context));
  } catch (...) {
    outcome.error = std::current_exception();
  }
  co_return outcome;
}

}  // namespace

Middleware timeout(std::chrono::milliseconds limit) {
  return [limit](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    using namespace asio::experimental::awaitable_operators;
    asio::steady_timer timer(co_await asio::this_coro::executor, limit);
    // The loser of the race is cancelled: an upstream exchange stops at its next wait.
    std::variant<ChainOutcome, std::tuple<std::error_code>> result =
        co_await (run_guarded(next, request, context) ||
                  timer.async_wait(asio::experimental::as_tuple(asio::use_awaitable)));
    if (result.index() == 0) {
      ChainOutcome& outcome = std::get<0>(result);
      if (outcome.error) std::rethrow_exception(outcome.error);
      co_return std::move(*outcome.response);
    }
    co_return http::Response::text(
        504, "Gateway Timeout: no response within " + std::to_string(limit.count()) + " ms\n");
  };
}

Middleware max_body_size(std::uint64_t limit) {
  return [limit](http::Request& request, Context& context,
                 Next next) -> asio::awaitable<http::Response> {
    if (!request.body.is_empty()) {
      if (std::optional<std::uint64_t> declared = request.body.size()) {
        if (*declared > limit) {
          co_return http::Response::text(413, "Content Too Large: the body of " +
                                                  std::to_string(*declared) +
                                                  " bytes is over this route's limit of " +
                                                  std::to_string(limit) + " bytes\n");
        }
      } else {
        request.body = http::Body::from_stream(
            std::make_unique<LimitedBody>(std::move(request.body).into_source(), limit));
      }
    }
    co_return co_await next(request, context);
  };
}

}  // namespace rws::middleware
