#include "middleware/encoder.hpp"

#include <brotli/encode.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <string>

namespace rws::middleware {
namespace {

Unexpected<Error> encoder_failure(std::string what) {
  return fail(Errc::kInvalidArgument, ErrorSide::kInternal, "compression failed: " + what);
}

// zlib counts in uInt; larger spans are fed in pieces (the caller repeats the step).
uInt clamp_uint(std::size_t n) {
  return static_cast<uInt>(std::min<std::size_t>(n, UINT_MAX));
}

class GzipEncoder final : public Encoder {
 public:
  ~GzipEncoder() override { deflateEnd(&z_); }

  // deflateInit2 with windowBits 15 + 16: a gzip header and trailer around the deflate data.
  bool init(int level) {
    return deflateInit2(&z_, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) == Z_OK;
  }

  Result<Step> step(std::string_view in, Op op, std::span<char> out) override {
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = clamp_uint(in.size());
    z_.next_out = reinterpret_cast<Bytef*>(out.data());
    z_.avail_out = clamp_uint(out.size());
    const uInt in_before = z_.avail_in;
    const uInt out_before = z_.avail_out;
    const int flush = op == Op::kProcess ? Z_NO_FLUSH : op == Op::kFlush ? Z_SYNC_FLUSH : Z_FINISH;
    const int rc = deflate(&z_, flush);
    // Z_BUF_ERROR only says no progress was possible (nothing left to flush): not an error.
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
      return encoder_failure(std::string("zlib deflate: ") + (z_.msg ? z_.msg : "error"));
    }
    Step s;
    s.consumed = in_before - z_.avail_in;
    s.produced = out_before - z_.avail_out;
    const bool all_in = s.consumed == in.size();
    switch (op) {
      case Op::kProcess:
        s.done = all_in;
        break;
      case Op::kFlush:
        // Output space left over means deflate had nothing more to emit.
        s.done = all_in && (z_.avail_out > 0 || rc == Z_BUF_ERROR);
        break;
      case Op::kFinish:
        s.done = rc == Z_STREAM_END;
        break;
    }
    return s;
  }

 private:
  z_stream z_{};
};

class BrotliEncoder final : public Encoder {
 public:
  BrotliEncoder() : state_(BrotliEncoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~BrotliEncoder() override {
    if (state_ != nullptr) BrotliEncoderDestroyInstance(state_);
  }

  bool init(int quality, std::optional<std::uint64_t> size_hint) {
    if (state_ == nullptr) return false;
    // A 512 KiB window (like ngx_brotli's default) bounds the memory of each stream.
    bool ok =
        BrotliEncoderSetParameter(state_, BROTLI_PARAM_QUALITY, static_cast<uint32_t>(quality)) &&
        BrotliEncoderSetParameter(state_, BROTLI_PARAM_LGWIN, 19);
    if (ok && size_hint) {
      ok = BrotliEncoderSetParameter(
          state_, BROTLI_PARAM_SIZE_HINT,
          static_cast<uint32_t>(std::min<std::uint64_t>(*size_hint, 1u << 30)));
    }
    return ok;
  }

  Result<Step> step(std::string_view in, Op op, std::span<char> out) override {
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
    std::size_t avail_out = out.size();
    auto* next_out = reinterpret_cast<uint8_t*>(out.data());
    const BrotliEncoderOperation operation = op == Op::kProcess ? BROTLI_OPERATION_PROCESS
                                             : op == Op::kFlush ? BROTLI_OPERATION_FLUSH
                                                                : BROTLI_OPERATION_FINISH;
    if (!BrotliEncoderCompressStream(state_, operation, &avail_in, &next_in, &avail_out, &next_out,
                                     nullptr)) {
      return encoder_failure("brotli encoder error");
    }
    Step s;
    s.consumed = in.size() - avail_in;
    s.produced = out.size() - avail_out;
    if (op == Op::kFinish) {
      s.done = BrotliEncoderIsFinished(state_);
    } else {
      s.done = avail_in == 0 && !BrotliEncoderHasMoreOutput(state_);
    }
    return s;
  }

 private:
  BrotliEncoderState* state_;
};

class ZstdEncoder final : public Encoder {
 public:
  ZstdEncoder() : cctx_(ZSTD_createCCtx()) {}
  ~ZstdEncoder() override { ZSTD_freeCCtx(cctx_); }

  bool init(int level, std::optional<std::uint64_t> size_hint) {
    if (cctx_ == nullptr) return false;
    if (ZSTD_isError(ZSTD_CCtx_setParameter(cctx_, ZSTD_c_compressionLevel, level))) return false;
    // The exact size goes into the frame header and lets zstd shrink its window for small bodies;
    // a body that then differs in size fails instead of being framed wrongly.
    return !size_hint || !ZSTD_isError(ZSTD_CCtx_setPledgedSrcSize(cctx_, *size_hint));
  }

  Result<Step> step(std::string_view in, Op op, std::span<char> out) override {
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    ZSTD_outBuffer output{out.data(), out.size(), 0};
    const ZSTD_EndDirective directive = op == Op::kProcess ? ZSTD_e_continue
                                        : op == Op::kFlush ? ZSTD_e_flush
                                                           : ZSTD_e_end;
    const std::size_t left = ZSTD_compressStream2(cctx_, &output, &input, directive);
    if (ZSTD_isError(left)) return encoder_failure(std::string("zstd: ") + ZSTD_getErrorName(left));
    Step s;
    s.consumed = input.pos;
    s.produced = output.pos;
    // With e_flush and e_end, `left` is what the encoder still holds for the output.
    s.done = input.pos == input.size && (op == Op::kProcess || left == 0);
    return s;
  }

 private:
  ZSTD_CCtx* cctx_;
};

}  // namespace

Result<std::unique_ptr<Encoder>> make_encoder(Coding coding, const CompressLevels& levels,
                                              std::optional<std::uint64_t> size_hint) {
  switch (coding) {
    case Coding::kGzip: {
      auto e = std::make_unique<GzipEncoder>();
      if (!e->init(levels.gzip)) return encoder_failure("cannot set up the gzip encoder");
      return std::unique_ptr<Encoder>(std::move(e));
    }
    case Coding::kBrotli: {
      auto e = std::make_unique<BrotliEncoder>();
      if (!e->init(levels.brotli, size_hint))
        return encoder_failure("cannot set up the brotli encoder");
      return std::unique_ptr<Encoder>(std::move(e));
    }
    case Coding::kZstd: {
      auto e = std::make_unique<ZstdEncoder>();
      if (!e->init(levels.zstd, size_hint))
        return encoder_failure("cannot set up the zstd encoder");
      return std::unique_ptr<Encoder>(std::move(e));
    }
  }
  return encoder_failure("unknown coding");
}

}  // namespace rws::middleware
