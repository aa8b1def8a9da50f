#pragma once
// A streaming compressor for one response body (sans-I/O, no Asio): br (libbrotlienc), zstd
// (libzstd) or gzip (zlib). The caller owns the output buffer, so memory stays bounded by the
// encoder's own state plus that buffer, whatever the body's size.
//
// Lifecycle: make_encoder, then step() with kProcess or kFlush for each piece of input, each
// repeated with the unconsumed rest and the same op until it reports `done`; then step() with
// kFinish (and no input) until `done`. After kFinish is done, or after an error, the encoder
// must not be used again.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include <rws/core/error.hpp>
#include <rws/middleware/compress.hpp>

namespace rws::middleware {

class Encoder {
 public:
  enum class Op : std::uint8_t {
    kProcess,  // compress; output may stay buffered inside the encoder
    kFlush,    // compress and emit everything so far, decodable by the client
    kFinish,   // end the compressed stream
  };
  struct Step {
    std::size_t consumed = 0;  // bytes taken from `in`
    std::size_t produced = 0;  // bytes written to `out`
    bool done = false;         // the op is complete: all input taken (and flushed/finished)
  };

  // zlib repeats its flush marker when a flush meets less than 7 bytes of output space.
  static constexpr std::size_t kMinOutput = 16;

  virtual ~Encoder() = default;
  // Compresses from `in` into `out` (at least kMinOutput bytes). Fails when the library reports
  // an error.
  virtual Result<Step> step(std::string_view in, Op op, std::span<char> out) = 0;
};

// `size_hint`, when known, is the exact input size (lets the encoders size their windows).
// Fails when the library cannot set up its state (out of memory, invalid level).
Result<std::unique_ptr<Encoder>> make_encoder(Coding coding, const CompressLevels& levels,
                                              std::optional<std::uint64_t> size_hint);

}  // namespace rws::middleware
