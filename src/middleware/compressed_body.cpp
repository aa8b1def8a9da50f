#include "middleware/compressed_body.hpp"

#include <algorithm>
#include <span>

namespace rws::middleware {
namespace {

constexpr std::size_t kInputPiece = 64 * 1024;
constexpr std::size_t kOutputPiece = 64 * 1024;

}  // namespace

CompressedBody::CompressedBody(std::unique_ptr<http::BodySource> source,
                               std::unique_ptr<Encoder> encoder, bool flush_each_piece)
    : source_(std::move(source)),
      encoder_(std::move(encoder)),
      flush_each_piece_(flush_each_piece) {}

asio::awaitable<Result<http::BodyFrame>> CompressedBody::next(std::size_t max_bytes) {
  for (;;) {
    if (pending_begin_ < pending_end_) {
      const std::size_t n = std::min(max_bytes, pending_end_ - pending_begin_);
      pending_begin_ += n;
      co_return http::BodyFrame::bytes({output_.data() + pending_begin_ - n, n});
    }
    switch (phase_) {
      case Phase::kEnded:
        co_return http::BodyFrame::end();
      case Phase::kTrailers: {
        phase_ = Phase::kEnded;
        http::BodyFrame frame;
        frame.kind = http::BodyFrame::Kind::kTrailers;
        frame.trailers = std::move(trailers_);
        co_return frame;
      }
      case Phase::kPulling: {
        Result<http::BodyFrame> frame = co_await source_->next(kInputPiece);
        if (!frame) {
          phase_ = Phase::kEnded;
          co_return Unexpected(std::move(frame).error());
        }
        switch (frame->kind) {
          case http::BodyFrame::Kind::kData:
            if (frame->data.empty()) continue;
            input_ = frame->data;  // valid until the next call on source_
            op_ = flush_each_piece_ ? Encoder::Op::kFlush : Encoder::Op::kProcess;
            break;
          case http::BodyFrame::Kind::kTrailers:
            // Sent after the compressed data; the source's kEnd follows.
            trailers_ = std::move(frame->trailers);
            has_trailers_ = true;
            continue;
          case http::BodyFrame::Kind::kEnd:
            input_ = {};
            op_ = Encoder::Op::kFinish;
            break;
        }
        phase_ = Phase::kEncoding;
        continue;
      }
      case Phase::kEncoding: {
        if (output_.empty()) output_.resize(kOutputPiece);
        Result<Encoder::Step> step =
            encoder_->step(input_, op_, std::span<char>(output_.data(), output_.size()));
        if (!step) {
          phase_ = Phase::kEnded;
          co_return Unexpected(std::move(step).error());
        }
        input_.remove_prefix(step->consumed);
        if (step->done) {
          if (op_ != Encoder::Op::kFinish) {
            phase_ = Phase::kPulling;
          } else {
            phase_ = has_trailers_ ? Phase::kTrailers : Phase::kEnded;
          }
        }
        pending_begin_ = 0;
        pending_end_ = step->produced;
        continue;
      }
    }
  }
}

}  // namespace rws::middleware
