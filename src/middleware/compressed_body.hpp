#pragma once
// A BodySource that compresses another as it is pulled.
//
// The original source is pulled in pieces of up to 64 KiB, each consumed by the encoder before
// the next is pulled; the encoder writes into one 64 KiB output buffer, handed out in pieces of
// at most the caller's max. Memory is the encoder's state plus those two buffers, whatever the
// body's length. With `flush_each_piece` every input piece is flushed through the encoder before
// the next one is pulled, so a slow stream (SSE, a long poll) is never held back; without it
// output leaves whenever the encoder emits it. Trailers of the original body follow the
// compressed data. Runs on the executor of the connection that owns it, like its source.
// A failing source or encoder fails this source with the same error.

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

#include <rws/http/body.hpp>

#include "middleware/encoder.hpp"

namespace rws::middleware {

class CompressedBody final : public http::BodySource {
 public:
  CompressedBody(std::unique_ptr<http::BodySource> source, std::unique_ptr<Encoder> encoder,
                 bool flush_each_piece);

  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override;

 private:
  enum class Phase : std::uint8_t { kPulling, kEncoding, kTrailers, kEnded };

  std::unique_ptr<http::BodySource> source_;
  std::unique_ptr<Encoder> encoder_;
  bool flush_each_piece_;
  Phase phase_ = Phase::kPulling;
  Encoder::Op op_ = Encoder::Op::kProcess;
  std::string_view input_;  // the unconsumed part of the source's last data frame
  http::Headers trailers_;
  bool has_trailers_ = false;
  std::string output_;
  std::size_t pending_begin_ = 0;  // output_[pending_begin_, pending_end_) is not handed out yet
  std::size_t pending_end_ = 0;
};

}  // namespace rws::middleware
