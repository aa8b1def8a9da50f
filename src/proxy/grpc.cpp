#include "proxy/grpc.hpp"

#include <charconv>

namespace rws::proxy::grpc {

std::optional<std::chrono::nanoseconds> parse_timeout(std::string_view value) noexcept {
  if (value.size() < 2 || value.size() > 9) return std::nullopt;
  std::int64_t amount = 0;
  const char* digits_end = value.data() + value.size() - 1;
  auto [end, ec] = std::from_chars(value.data(), digits_end, amount);
  if (ec != std::errc() || end != digits_end || amount < 0) return std::nullopt;
  using namespace std::chrono;
  switch (value.back()) {
    case 'H':
      return duration_cast<nanoseconds>(hours(amount));
    case 'M':
      return duration_cast<nanoseconds>(minutes(amount));
    case 'S':
      return duration_cast<nanoseconds>(seconds(amount));
    case 'm':
      return duration_cast<nanoseconds>(milliseconds(amount));
    case 'u':
      return duration_cast<nanoseconds>(microseconds(amount));
    case 'n':
      return nanoseconds(amount);
    default:
      return std::nullopt;
  }
}

std::string percent_encode_message(std::string_view message) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(message.size());
  for (char ch : message) {
    const auto c = static_cast<unsigned char>(ch);
    if (c >= 0x20 && c <= 0x7e && c != '%') {
      out += ch;
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
  }
  return out;
}

http::Response error_response(Status status, std::string_view message) {
  http::Response response;
  response.head.status = 200;
  response.head.headers.add("Content-Type", "application/grpc");
  response.head.headers.add("grpc-status", std::to_string(static_cast<int>(status)));
  response.head.headers.add("grpc-message", percent_encode_message(message));
  return response;
}

namespace {

class GuardedBody final : public http::BodySource {
 public:
  GuardedBody(std::unique_ptr<http::BodySource> inner,
              std::chrono::steady_clock::time_point deadline)
      : inner_(std::move(inner)), deadline_(deadline) {}

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    if (failed_) co_return http::BodyFrame::end();
    Result<http::BodyFrame> frame = co_await inner_->next(max_bytes);
    if (frame) co_return frame;
    failed_ = true;
    const bool late = std::chrono::steady_clock::now() >= deadline_;
    http::BodyFrame trailers;
    trailers.kind = http::BodyFrame::Kind::kTrailers;
    trailers.trailers.add(
        "grpc-status",
        std::to_string(static_cast<int>(late ? Status::kDeadlineExceeded : Status::kUnavailable)));
    trailers.trailers.add(
        "grpc-message", percent_encode_message(late ? "deadline exceeded at the proxy"
                                                    : "upstream failed: " + frame.error().context));
    co_return trailers;
  }

 private:
  std::unique_ptr<http::BodySource> inner_;
  std::chrono::steady_clock::time_point deadline_;
  bool failed_ = false;
};

}  // namespace

std::unique_ptr<http::BodySource> guard_body(std::unique_ptr<http::BodySource> body,
                                             std::chrono::steady_clock::time_point deadline) {
  return std::make_unique<GuardedBody>(std::move(body), deadline);
}

}  // namespace rws::proxy::grpc
