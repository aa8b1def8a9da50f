#include <algorithm>
#include <optional>
#include <stdexcept>
#include <vector>

#include <rws/middleware/rewrite.hpp>

namespace rws::middleware {
namespace {

// Replaces `from` by `to` in a pulled stream.
//
// State between pieces: `held_` bytes that may start an occurrence. They are always the first
// `held_` bytes of `from` (the longest tail of what was read that is a proper prefix of
// `from`), so only their count is kept. Each piece is scanned once together with them;
// everything before the new tail is emitted with the occurrences replaced.
class ReplacingBody final : public http::BodySource {
 public:
  ReplacingBody(std::unique_ptr<http::BodySource> source, std::string from, std::string to)
      : source_(std::move(source)), from_(std::move(from)), to_(std::move(to)) {
    // KMP failure function: fail_[i] = length of the longest proper prefix of from_[0..i] that
    // is also its suffix.
    fail_.assign(from_.size(), 0);
    for (std::size_t i = 1, k = 0; i < from_.size(); ++i) {
      while (k > 0 && from_[i] != from_[k])
        k = fail_[k - 1];
      if (from_[i] == from_[k]) ++k;
      fail_[i] = k;
    }
  }

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    for (;;) {
      if (out_pos_ < out_.size()) {
        const std::size_t n = std::min(max_bytes, out_.size() - out_pos_);
        std::string_view piece = std::string_view(out_).substr(out_pos_, n);
        out_pos_ += n;
        co_return http::BodyFrame::bytes(piece);
      }
      if (after_flush_) {
        http::BodyFrame frame = std::move(*after_flush_);
        after_flush_.reset();
        co_return frame;
      }
      Result<http::BodyFrame> frame = co_await source_->next(max_bytes);
      if (!frame) co_return frame;
      if (frame->kind == http::BodyFrame::Kind::kData) {
        feed(frame->data);
        continue;
      }
      if (held_ == 0) co_return frame;
      // The end (or the trailers): what was held back is plain data after all.
      out_.assign(from_, 0, held_);
      out_pos_ = 0;
      held_ = 0;
      after_flush_ = std::move(*frame);
    }
  }

 private:
  void feed(std::string_view data) {
    work_.assign(from_, 0, held_);
    work_.append(data);
    const std::string_view w = work_;
    out_.clear();
    out_pos_ = 0;
    std::size_t pos = 0;
    for (std::size_t hit = w.find(from_); hit != std::string_view::npos; hit = w.find(from_, pos)) {
      out_.append(w.substr(pos, hit - pos));
      out_.append(to_);
      pos = hit + from_.size();
    }
    const std::string_view tail = w.substr(pos);
    held_ = prefix_at_end(tail);
    out_.append(tail.substr(0, tail.size() - held_));
  }

  // The length of the longest suffix of `tail` that is a proper prefix of `from_` (`tail`
  // holds no whole occurrence).
  std::size_t prefix_at_end(std::string_view tail) const {
    const std::size_t window = std::min(tail.size(), from_.size() - 1);
    std::size_t q = 0;
    for (char c : tail.substr(tail.size() - window)) {
      while (q > 0 && c != from_[q])
        q = fail_[q - 1];
      if (c == from_[q]) ++q;
    }
    return q;
  }

  std::unique_ptr<http::BodySource> source_;
  const std::string from_;
  const std::string to_;
  std::vector<std::size_t> fail_;
  std::size_t held_ = 0;
  std::string work_;  // held bytes + the piece being scanned
  std::string out_;   // replaced bytes not yet returned; `out_pos_` is the next one
  std::size_t out_pos_ = 0;
  std::optional<http::BodyFrame> after_flush_;  // the frame to return once `out_` is drained
};

}  // namespace

std::unique_ptr<http::BodySource> replace_in_body(std::unique_ptr<http::BodySource> source,
                                                  std::string from, std::string to) {
  if (from.empty()) throw std::invalid_argument("replace_in_body: 'from' must not be empty");
  return std::make_unique<ReplacingBody>(std::move(source), std::move(from), std::move(to));
}

}  // namespace rws::middleware
