// Per-response compression cost of the compress middleware's encoders: a fresh encoder per
// iteration (as each response gets one), a JSON-like body in 64 KiB pieces (how CompressedBody
// feeds it), then the end of the stream. Reports input MB/s and the compression ratio.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DRWS_BUILD_BENCH=ON
//   cmake --build build/bench --target compress_bench && build/bench/bench/compress_bench

#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>

#include <rws/middleware/compress.hpp>

#include "middleware/encoder.hpp"

namespace {

using rws::middleware::Coding;
using rws::middleware::CompressLevels;
using rws::middleware::Encoder;

// A JSON array of records like an API list response.
std::string json_like(std::size_t size) {
  std::string out = "[";
  for (int i = 0; out.size() < size; ++i) {
    out += R"({"id":)" + std::to_string(i * 7919 % 100003) + R"(,"name":"user )" +
           std::to_string(i) + R"(","email":"user)" + std::to_string(i) +
           R"(@example.com","active":)" + (i % 3 ? "true" : "false") + R"(,"score":)" +
           std::to_string((i * 31) % 1000) + "},";
  }
  out.resize(size);
  return out;
}

// Compresses `body` with a new encoder; returns the compressed size.
std::size_t compress_once(Coding coding, const std::string& body, bool flush_each_piece) {
  auto encoder = rws::middleware::make_encoder(coding, CompressLevels{}, body.size());
  if (!encoder) throw std::runtime_error(encoder.error().describe());
  std::string out(64 * 1024, '\0');
  std::size_t produced = 0;
  auto run = [&](std::string_view in, Encoder::Op op) {
    for (;;) {
      auto step = (*encoder)->step(in, op, std::span<char>(out.data(), out.size()));
      if (!step) throw std::runtime_error(step.error().describe());
      produced += step->produced;
      in.remove_prefix(step->consumed);
      if (step->done) return;
    }
  };
  const Encoder::Op op = flush_each_piece ? Encoder::Op::kFlush : Encoder::Op::kProcess;
  for (std::size_t i = 0; i < body.size(); i += 64 * 1024) {
    run(std::string_view(body).substr(i, 64 * 1024), op);
  }
  run({}, Encoder::Op::kFinish);
  return produced;
}

void run_bench(benchmark::State& state, Coding coding, bool flush) {
  const std::string body = json_like(static_cast<std::size_t>(state.range(0)));
  std::size_t compressed = 0;
  for (auto _ : state) {
    compressed = compress_once(coding, body, flush);
    benchmark::DoNotOptimize(compressed);
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                          static_cast<int64_t>(body.size()));
  state.counters["ratio"] = static_cast<double>(body.size()) / static_cast<double>(compressed);
}

void BM_Brotli(benchmark::State& state) {
  run_bench(state, Coding::kBrotli, false);
}
void BM_Zstd(benchmark::State& state) {
  run_bench(state, Coding::kZstd, false);
}
void BM_Gzip(benchmark::State& state) {
  run_bench(state, Coding::kGzip, false);
}
// A streamed body: flushed after every 64 KiB piece.
void BM_BrotliFlushed(benchmark::State& state) {
  run_bench(state, Coding::kBrotli, true);
}
void BM_ZstdFlushed(benchmark::State& state) {
  run_bench(state, Coding::kZstd, true);
}
void BM_GzipFlushed(benchmark::State& state) {
  run_bench(state, Coding::kGzip, true);
}

BENCHMARK(BM_Brotli)->Arg(16 * 1024)->Arg(1 << 20);
BENCHMARK(BM_Zstd)->Arg(16 * 1024)->Arg(1 << 20);
BENCHMARK(BM_Gzip)->Arg(16 * 1024)->Arg(1 << 20);
BENCHMARK(BM_BrotliFlushed)->Arg(1 << 20);
BENCHMARK(BM_ZstdFlushed)->Arg(1 << 20);
BENCHMARK(BM_GzipFlushed)->Arg(1 << 20);

}  // namespace

BENCHMARK_MAIN();
