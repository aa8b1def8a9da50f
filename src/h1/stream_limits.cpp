#include "h1/stream_limits.hpp"

#include <string>

#include <rws/core/error.hpp>

namespace rws::h1 {
namespace {

constexpr char kBodyTooLarge[] = "request body larger than the server accepts";

class LimitedBody final : public http::BodySource {
 public:
  LimitedBody(std::unique_ptr<http::BodySource> inner, std::uint64_t max, bool* exceeded)
      : inner_(std::move(inner)), max_(max), exceeded_(exceeded) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    Result<http::BodyFrame> frame = co_await inner_->next(max_bytes);
    if (frame && frame->kind == http::BodyFrame::Kind::kData) {
      received_ += frame->data.size();
      if (received_ > max_) {
        *exceeded_ = true;
        co_return fail(Errc::kTooLarge, ErrorSide::kDownstream, kBodyTooLarge);
      }
    }
    co_return frame;
  }

 private:
  std::unique_ptr<http::BodySource> inner_;
  std::uint64_t max_;
  bool* exceeded_;
  std::uint64_t received_ = 0;
};

}  // namespace

std::optional<http::Response> refuse_over_limits(const http::RequestHead& head,
                                                 std::optional<std::uint64_t> declared_length,
                                                 bool head_too_large,
                                                 const SessionSettings& settings) {
  if (head_too_large) return http::Response::text(431, "Request Header Fields Too Large\n");
  const std::size_t request_line = head.method.size() + head.target.size() + 10;
  if (request_line > settings.parser.max_request_line) {
    return http::Response::text(414, "URI Too Long: request line too long\n");
  }
  if (settings.max_body_size > 0 && declared_length.value_or(0) > settings.max_body_size) {
    return body_too_large_response();
  }
  return std::nullopt;
}

std::unique_ptr<http::BodySource> limit_request_body(std::unique_ptr<http::BodySource> body,
                                                     std::uint64_t max, bool* exceeded) {
  if (max == 0) return body;
  return std::make_unique<LimitedBody>(std::move(body), max, exceeded);
}

http::Response body_too_large_response() {
  return http::Response::text(413, "Content Too Large: " + std::string(kBodyTooLarge) + "\n");
}

}  // namespace rws::h1
