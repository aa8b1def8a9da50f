#include <brotli/decode.h>
#include <gtest/gtest.h>
#include <zlib.h>
#include <zstd.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/io_context.hpp>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/http/body.hpp>
#include <rws/middleware/compress.hpp>

#include "middleware/compressed_body.hpp"
#include "middleware/encoder.hpp"

namespace rws::middleware {
namespace {

// ----- decoders (the real libraries, streaming so partial output can be checked) ---------------

// Decodes one compressed stream fed in pieces; `feed` returns what the piece decodes to.
class Decoder {
 public:
  virtual ~Decoder() = default;
  virtual std::string feed(std::string_view in) = 0;
  virtual bool finished() const = 0;
};

class Gunzip final : public Decoder {
 public:
  Gunzip() { EXPECT_EQ(inflateInit2(&z_, 15 + 16), Z_OK); }
  ~Gunzip() override { inflateEnd(&z_); }
  std::string feed(std::string_view in) override {
    std::string out;
    z_.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
    z_.avail_in = static_cast<uInt>(in.size());
    char buf[4096];
    for (;;) {
      z_.next_out = reinterpret_cast<Bytef*>(buf);
      z_.avail_out = sizeof buf;
      int rc = inflate(&z_, Z_SYNC_FLUSH);
      out.append(buf, sizeof buf - z_.avail_out);
      if (rc == Z_STREAM_END) {
        end_ = true;
        EXPECT_EQ(z_.avail_in, 0u) << "bytes after the gzip stream";
        break;
      }
      if (rc == Z_BUF_ERROR || (z_.avail_in == 0 && z_.avail_out != 0)) break;
      if (rc != Z_OK) throw std::runtime_error("inflate failed");
    }
    return out;
  }
  bool finished() const override { return end_; }

 private:
  z_stream z_{};
  bool end_ = false;
};

class Unbrotli final : public Decoder {
 public:
  Unbrotli() : s_(BrotliDecoderCreateInstance(nullptr, nullptr, nullptr)) {}
  ~Unbrotli() override { BrotliDecoderDestroyInstance(s_); }
  std::string feed(std::string_view in) override {
    std::string out;
    std::size_t avail_in = in.size();
    const auto* next_in = reinterpret_cast<const uint8_t*>(in.data());
    for (;;) {
      uint8_t buf[4096];
      std::size_t avail_out = sizeof buf;
      uint8_t* next_out = buf;
      BrotliDecoderResult rc =
          BrotliDecoderDecompressStream(s_, &avail_in, &next_in, &avail_out, &next_out, nullptr);
      out.append(reinterpret_cast<char*>(buf), sizeof buf - avail_out);
      if (rc == BROTLI_DECODER_RESULT_ERROR) throw std::runtime_error("brotli decode failed");
      if (rc == BROTLI_DECODER_RESULT_SUCCESS) {
        EXPECT_EQ(avail_in, 0u) << "bytes after the brotli stream";
        end_ = true;
        break;
      }
      if (rc == BROTLI_DECODER_RESULT_NEEDS_MORE_INPUT) break;
    }
    return out;
  }
  bool finished() const override { return end_; }

 private:
  BrotliDecoderState* s_;
  bool end_ = false;
};

class Unzstd final : public Decoder {
 public:
  Unzstd() : d_(ZSTD_createDStream()) {}
  ~Unzstd() override { ZSTD_freeDStream(d_); }
  std::string feed(std::string_view in) override {
    std::string out;
    ZSTD_inBuffer input{in.data(), in.size(), 0};
    for (;;) {
      char buf[4096];
      ZSTD_outBuffer output{buf, sizeof buf, 0};
      std::size_t rc = ZSTD_decompressStream(d_, &output, &input);
      if (ZSTD_isError(rc)) throw std::runtime_error(ZSTD_getErrorName(rc));
      out.append(buf, output.pos);
      if (rc == 0) {
        end_ = true;
        EXPECT_EQ(input.pos, input.size) << "bytes after the zstd frame";
        break;
      }
      if (input.pos == input.size && output.pos < output.size) break;
    }
    return out;
  }
  bool finished() const override { return end_; }

 private:
  ZSTD_DStream* d_;
  bool end_ = false;
};

std::unique_ptr<Decoder> decoder_for(std::string_view coding) {
  if (coding == "gzip") return std::make_unique<Gunzip>();
  if (coding == "br") return std::make_unique<Unbrotli>();
  if (coding == "zstd") return std::make_unique<Unzstd>();
  throw std::invalid_argument("no decoder for '" + std::string(coding) + "'");
}

// The whole stream decoded; fails the test when it does not end properly.
std::string decode(std::string_view coding, std::string_view compressed) {
  std::unique_ptr<Decoder> d = decoder_for(coding);
  std::string out = d->feed(compressed);
  EXPECT_TRUE(d->finished()) << coding << " stream is not complete";
  return out;
}

// JSON-ish text that compresses like an API response would.
std::string sample(std::size_t size) {
  std::string out = "[";
  for (int i = 0; out.size() < size; ++i) {
    out += R"({"id":)" + std::to_string(i * 7919 % 100003) + R"(,"name":"user )" +
           std::to_string(i) + R"(","active":)" + (i % 3 ? "true" : "false") +
           R"(,"tags":["a","b)" + std::to_string(i % 17) + "\"]},";
  }
  out.resize(size);
  return out;
}

const Coding kAll[] = {Coding::kBrotli, Coding::kZstd, Coding::kGzip};

// ----- negotiation -------------------------------------------------------------------------------

std::string chosen(std::string_view accept, std::vector<Coding> algorithms = {
                                                Coding::kBrotli, Coding::kZstd, Coding::kGzip}) {
  std::optional<Coding> c = negotiate_coding(accept, algorithms);
  return c ? std::string(coding_name(*c)) : "identity";
}

TEST(CompressNegotiation, PicksTheHighestQvalue) {
  EXPECT_EQ(chosen("gzip"), "gzip");
  EXPECT_EQ(chosen("zstd"), "zstd");
  EXPECT_EQ(chosen("gzip;q=1, br;q=0.5"), "gzip");
  EXPECT_EQ(chosen("zstd;q=0.9, br;q=0.8, gzip;q=0.85"), "zstd");
  EXPECT_EQ(chosen("GZIP"), "gzip");
  EXPECT_EQ(chosen("gzip ; q=0.3 , deflate"), "gzip");
}

TEST(CompressNegotiation, TiesGoToTheConfiguredOrder) {
  EXPECT_EQ(chosen("gzip, deflate, br, zstd"), "br");
  EXPECT_EQ(chosen("gzip, zstd"), "zstd");
  EXPECT_EQ(chosen("br;q=0.5, gzip;q=0.5"), "br");
  EXPECT_EQ(chosen("br, gzip", {Coding::kGzip, Coding::kBrotli}), "gzip");
  EXPECT_EQ(chosen("*", {Coding::kZstd, Coding::kGzip}), "zstd");
}

TEST(CompressNegotiation, QZeroExcludes) {
  EXPECT_EQ(chosen("br;q=0, gzip"), "gzip");
  EXPECT_EQ(chosen("br;q=0, *"), "zstd");
  EXPECT_EQ(chosen("*;q=0"), "identity");
  EXPECT_EQ(chosen("gzip;q=0"), "identity");
  EXPECT_EQ(chosen("gzip;q=0.000"), "identity");
}

TEST(CompressNegotiation, StarCoversUnnamedCodings) {
  EXPECT_EQ(chosen("*"), "br");
  EXPECT_EQ(chosen("gzip;q=0.5, *;q=0.8"), "br");
  EXPECT_EQ(chosen("br;q=0.1, *;q=0.2"), "zstd");
}

TEST(CompressNegotiation, IdentityWinsOnlyWhenPreferredOutright) {
  EXPECT_EQ(chosen(""), "identity");  // no Accept-Encoding: uncompressed
  EXPECT_EQ(chosen("identity"), "identity");
  EXPECT_EQ(chosen("gzip;q=0.5, identity"), "identity");
  EXPECT_EQ(chosen("gzip;q=0.5"), "gzip");  // unlisted identity is least preferred
  EXPECT_EQ(chosen("gzip, identity"), "gzip");
  EXPECT_EQ(chosen("identity;q=0, gzip"), "gzip");
}

TEST(CompressNegotiation, UnsupportedAndMalformedElementsAreIgnored) {
  EXPECT_EQ(chosen("deflate, compress"), "identity");
  EXPECT_EQ(chosen("br;q=2, gzip"), "gzip");
  EXPECT_EQ(chosen("br;q=x, gzip;q=0.1"), "gzip");
  EXPECT_EQ(chosen("gzip", {Coding::kBrotli}), "identity");
}

TEST(CompressOptionsTest, NamesAndMediaRanges) {
  EXPECT_EQ(parse_coding("BR"), Coding::kBrotli);
  EXPECT_EQ(parse_coding("zstd"), Coding::kZstd);
  EXPECT_EQ(parse_coding("gzip"), Coding::kGzip);
  EXPECT_EQ(parse_coding("deflate"), std::nullopt);
  EXPECT_EQ(parse_coding("x-gzip"), std::nullopt);
  EXPECT_TRUE(valid_media_range("text/*"));
  EXPECT_TRUE(valid_media_range("application/ld+json"));
  EXPECT_TRUE(valid_media_range("*/*"));
  EXPECT_FALSE(valid_media_range("*/json"));
  EXPECT_FALSE(valid_media_range("text"));
  EXPECT_FALSE(valid_media_range("text/html; charset=utf-8"));
  EXPECT_FALSE(valid_media_range("text/"));
  for (const std::string& t : default_compress_types())
    EXPECT_TRUE(valid_media_range(t)) << t;
}

TEST(CompressOptionsTest, InvalidOptionsThrow) {
  CompressOptions none;
  none.algorithms.clear();
  EXPECT_THROW(compress(none), std::invalid_argument);
  CompressOptions bad_type;
  bad_type.types = {"text"};
  EXPECT_THROW(compress(bad_type), std::invalid_argument);
  CompressOptions bad_level;
  bad_level.levels.gzip = 10;
  EXPECT_THROW(compress(bad_level), std::invalid_argument);
  bad_level.levels.gzip = 6;
  bad_level.levels.zstd = 20;
  EXPECT_THROW(compress(bad_level), std::invalid_argument);
  bad_level.levels.zstd = 3;
  bad_level.levels.brotli = 12;
  EXPECT_THROW(compress(bad_level), std::invalid_argument);
  EXPECT_NO_THROW(compress());
}

// ----- the encoders ------------------------------------------------------------------------------

// Runs `pieces` through a fresh encoder with output spans of `out_size` bytes; each piece with
// `op` (kProcess or kFlush), then kFinish. Returns the concatenated output.
std::string encode(Coding coding, const std::vector<std::string>& pieces, Encoder::Op op,
                   std::size_t out_size, std::optional<std::uint64_t> hint = std::nullopt) {
  Result<std::unique_ptr<Encoder>> e = make_encoder(coding, CompressLevels{}, hint);
  EXPECT_TRUE(e.has_value());
  std::string out;
  std::string buf(out_size, '\0');
  auto run = [&](std::string_view in, Encoder::Op o) {
    for (int guard = 0; guard < 1000000; ++guard) {
      Result<Encoder::Step> s = (*e)->step(in, o, std::span<char>(buf.data(), buf.size()));
      EXPECT_TRUE(s.has_value());
      if (!s) return;
      out.append(buf.data(), s->produced);
      in.remove_prefix(s->consumed);
      if (s->done) return;
    }
    ADD_FAILURE() << "encoder made no progress";
  };
  for (const std::string& p : pieces)
    run(p, op);
  run({}, Encoder::Op::kFinish);
  return out;
}

TEST(CompressEncoder, RoundTripsWithEveryCodingAndOutputSize) {
  const std::string data = sample(300 * 1024);
  for (Coding c : kAll) {
    for (std::size_t out_size : {Encoder::kMinOutput, std::size_t(100), std::size_t(64 * 1024)}) {
      for (Encoder::Op op : {Encoder::Op::kProcess, Encoder::Op::kFlush}) {
        std::vector<std::string> pieces;
        for (std::size_t i = 0; i < data.size(); i += 50000)
          pieces.push_back(data.substr(i, 50000));
        std::string z = encode(c, pieces, op, out_size);
        EXPECT_EQ(decode(coding_name(c), z), data) << coding_name(c) << " out " << out_size;
        EXPECT_LT(z.size(), data.size() / 4) << coding_name(c);
      }
    }
  }
}

TEST(CompressEncoder, EmptyInputIsAValidEmptyStream) {
  for (Coding c : kAll) {
    std::string z = encode(c, {}, Encoder::Op::kProcess, 64, 0);
    EXPECT_FALSE(z.empty());
    EXPECT_EQ(decode(coding_name(c), z), "");
  }
}

TEST(CompressEncoder, SizeHintMatchingTheInputRoundTrips) {
  const std::string data = sample(5000);
  for (Coding c : kAll) {
    EXPECT_EQ(decode(coding_name(c), encode(c, {data}, Encoder::Op::kProcess, 256, data.size())),
              data);
  }
}

TEST(CompressEncoder, FlushMakesEachPieceDecodableAtOnce) {
  for (Coding c : kAll) {
    Result<std::unique_ptr<Encoder>> e = make_encoder(c, CompressLevels{}, std::nullopt);
    ASSERT_TRUE(e.has_value());
    std::unique_ptr<Decoder> d = decoder_for(coding_name(c));
    std::string buf(16, '\0');
    for (int i = 0; i < 20; ++i) {
      const std::string piece = "data: event " + std::to_string(i) + "\n\n";
      std::string_view in = piece;
      std::string produced;
      for (;;) {
        Result<Encoder::Step> s = (*e)->step(in, Encoder::Op::kFlush, {buf.data(), buf.size()});
        ASSERT_TRUE(s.has_value());
        produced.append(buf.data(), s->produced);
        in.remove_prefix(s->consumed);
        if (s->done) break;
      }
      EXPECT_EQ(d->feed(produced), piece) << coding_name(c) << " piece " << i;
    }
  }
}

// ----- CompressedBody ----------------------------------------------------------------------------

// A stream of the given pieces, then optional trailers, then the end (or a failure instead of
// the end). Counts the calls made to it.
class PieceSource final : public http::BodySource {
 public:
  explicit PieceSource(std::vector<std::string> pieces, http::Headers trailers = {},
                       bool fail_at_end = false)
      : pieces_(std::move(pieces)), trailers_(std::move(trailers)), fail_(fail_at_end) {}
  asio::awaitable<Result<http::BodyFrame>> next(std::size_t max_bytes) override {
    ++calls;
    if (next_ < pieces_.size()) {
      std::string_view p = std::string_view(pieces_[next_]).substr(offset_, max_bytes);
      offset_ += p.size();
      if (offset_ == pieces_[next_].size()) {
        ++next_;
        offset_ = 0;
      }
      co_return http::BodyFrame::bytes(p);
    }
    if (fail_) co_return fail(Errc::kClosed, ErrorSide::kUpstream, "upstream went away");
    if (!trailers_.empty()) {
      http::BodyFrame f;
      f.kind = http::BodyFrame::Kind::kTrailers;
      f.trailers = std::exchange(trailers_, {});
      co_return f;
    }
    co_return http::BodyFrame::end();
  }
  int calls = 0;

 private:
  std::vector<std::string> pieces_;
  http::Headers trailers_;
  bool fail_;
  std::size_t next_ = 0;
  std::size_t offset_ = 0;
};

template <class F>
void run_coroutine(F f) {
  asio::io_context io;
  std::exception_ptr failure;
  asio::co_spawn(io, f, [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
}

TEST(CompressedBodyTest, EachStreamedPieceLeavesBeforeTheNextIsPulled) {
  for (Coding c : kAll) {
    std::vector<std::string> pieces;
    for (int i = 0; i < 5; ++i)
      pieces.push_back("id: " + std::to_string(i) + "\ndata: tick\n\n");
    auto owned = std::make_unique<PieceSource>(pieces);
    PieceSource* source = owned.get();
    Result<std::unique_ptr<Encoder>> e = make_encoder(c, CompressLevels{}, std::nullopt);
    ASSERT_TRUE(e.has_value());
    CompressedBody body(std::move(owned), std::move(*e), true);
    std::unique_ptr<Decoder> d = decoder_for(coding_name(c));
    run_coroutine([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 5; ++i) {
        // Everything pulled so far decodes to exactly the pieces pulled so far.
        std::string decoded;
        while (decoded.size() < pieces[i].size()) {
          Result<http::BodyFrame> f = co_await body.next(64 * 1024);
          EXPECT_TRUE(f.has_value());
          if (!f || f->kind != http::BodyFrame::Kind::kData) co_return;
          decoded += d->feed(f->data);
        }
        EXPECT_EQ(decoded, pieces[i]) << coding_name(c);
        EXPECT_EQ(source->calls, i + 1) << coding_name(c) << ": waited for more input";
      }
      std::string rest;
      for (;;) {
        Result<http::BodyFrame> f = co_await body.next(64 * 1024);
        EXPECT_TRUE(f.has_value());
        if (!f || f->kind == http::BodyFrame::Kind::kEnd) break;
        rest += d->feed(f->data);
      }
      EXPECT_EQ(rest, "");
      EXPECT_TRUE(d->finished());
    });
  }
}

TEST(CompressedBodyTest, OutputPiecesRespectTheCallersMaximum) {
  const std::string data = sample(200 * 1024);
  Result<std::unique_ptr<Encoder>> e = make_encoder(Coding::kGzip, CompressLevels{1, 1, 1}, {});
  ASSERT_TRUE(e.has_value());
  CompressedBody body(http::Body::from_string(data).into_source(), std::move(*e), false);
  std::string z;
  run_coroutine([&]() -> asio::awaitable<void> {
    for (;;) {
      Result<http::BodyFrame> f = co_await body.next(100);
      EXPECT_TRUE(f.has_value());
      if (!f || f->kind == http::BodyFrame::Kind::kEnd) break;
      EXPECT_LE(f->data.size(), 100u);
      EXPECT_FALSE(f->data.empty());
      z += f->data;
    }
  });
  EXPECT_EQ(decode("gzip", z), data);
}

TEST(CompressedBodyTest, ASourceFailureFailsTheBody) {
  Result<std::unique_ptr<Encoder>> e = make_encoder(Coding::kBrotli, CompressLevels{}, {});
  ASSERT_TRUE(e.has_value());
  CompressedBody body(
      std::make_unique<PieceSource>(std::vector<std::string>{sample(5000)}, http::Headers{}, true),
      std::move(*e), true);
  std::optional<Error> error;
  run_coroutine([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 100; ++i) {
      Result<http::BodyFrame> f = co_await body.next(64 * 1024);
      if (!f) {
        error = f.error();
        co_return;
      }
      EXPECT_NE(f->kind, http::BodyFrame::Kind::kEnd) << "the failure must not end the body";
      if (f->kind == http::BodyFrame::Kind::kEnd) co_return;
    }
  });
  ASSERT_TRUE(error.has_value());
  EXPECT_EQ(error->context, "upstream went away");
}

// ----- the middleware ----------------------------------------------------------------------------

struct Outcome {
  int status = 0;
  http::Headers headers;
  bool streamed = false;
  std::optional<std::uint64_t> size;
  Result<std::string> body = std::string();
  http::Headers trailers;
};

// Runs one request through `app` and reads the response body as the session would.
Outcome run(App& app, std::string method, std::string path, std::string accept_encoding,
            http::Headers extra = {}) {
  http::Request request;
  request.head.method = std::move(method);
  request.head.target = path;
  request.head.path = std::move(path);
  request.head.authority = "test";
  request.head.scheme = "http";
  if (!accept_encoding.empty()) request.head.headers.add("Accept-Encoding", accept_encoding);
  for (const http::Field& f : extra)
    request.head.headers.add(f.name, f.value);
  Outcome out;
  run_coroutine([&]() -> asio::awaitable<void> {
    http::RequestContext connection{"127.0.0.1", 40000, false, 1, 1, nullptr, nullptr, {}};
    http::Response response = co_await app.handle(std::move(request), connection);
    out.status = response.head.status;
    out.headers = response.head.headers;
    out.streamed = response.body.is_stream();
    out.size = response.body.size();
    std::unique_ptr<http::BodySource> source = std::move(response.body).into_source();
    std::string body;
    for (;;) {
      Result<http::BodyFrame> f = co_await source->next(16 * 1024);
      if (!f) {
        out.body = Unexpected(f.error());
        co_return;
      }
      if (f->kind == http::BodyFrame::Kind::kEnd) break;
      if (f->kind == http::BodyFrame::Kind::kTrailers) out.trailers = f->trailers;
      body += f->data;
    }
    out.body = std::move(body);
  });
  return out;
}

// A stream body of `pieces` (unknown length unless `size` is given).
http::Body stream_of(std::vector<std::string> pieces, http::Headers trailers = {},
                     std::optional<std::uint64_t> size = std::nullopt) {
  return http::Body::from_stream(
      std::make_unique<PieceSource>(std::move(pieces), std::move(trailers)), size);
}

class CompressApp : public ::testing::Test {
 protected:
  void SetUp() override { make({}); }

  void make(CompressOptions options) {
    app = std::make_unique<App>();
    app->use(compress(std::move(options)));
    app->get("/json", [](Context&) {
      http::Response r = bytes(sample(4000), "application/json");
      r.head.headers.add("ETag", "\"v1\"");
      r.head.headers.add("Accept-Ranges", "bytes");
      return r;
    });
    app->get("/html", [](Context&) { return html(sample(3000)); });
    app->get("/small", [](Context&) { return bytes(sample(1023), "application/json"); });
    app->get("/exact", [](Context&) { return bytes(sample(1024), "application/json"); });
    app->get("/png", [](Context&) { return bytes(sample(4000), "image/png"); });
    app->get("/untyped", [](Context&) {
      http::Response r;
      r.body = http::Body::from_string(sample(4000));
      return r;
    });
    app->get("/status/:code", [](Context& c) {
      http::Response r = bytes(sample(4000), "text/plain");
      r.head.status = c.param<int>("code");
      r.head.headers.add("ETag", "\"v1\"");
      if (r.head.status == 206) r.head.headers.add("Content-Range", "bytes 0-3999/8000");
      if (r.head.status == 204 || r.head.status == 304) r.body = {};
      return r;
    });
    app->get("/not-modified-untyped", [](Context&) {
      http::Response r = status(304);
      r.head.headers.add("ETag", "\"v1\"");
      return r;
    });
    app->get("/encoded", [](Context&) {
      http::Response r = bytes(sample(4000), "text/plain");
      r.head.headers.add("Content-Encoding", "identity");
      return r;
    });
    app->get("/no-transform", [](Context&) {
      http::Response r = bytes(sample(4000), "text/plain");
      r.head.headers.add("Cache-Control", "public, no-transform");
      return r;
    });
    app->get("/vary/:kind", [](Context& c) {
      http::Response r = bytes(sample(4000), "text/plain");
      std::string kind(c.param("kind"));
      if (kind == "origin") r.head.headers.add("Vary", "Origin");
      if (kind == "two") {
        r.head.headers.add("Vary", "Origin");
        r.head.headers.add("Vary", "Cookie");
      }
      if (kind == "already") r.head.headers.add("Vary", "origin, accept-encoding");
      if (kind == "star") r.head.headers.add("Vary", "*");
      if (kind == "weak") r.head.headers.add("ETag", "W/\"w\"");
      return r;
    });
    app->get("/stream", [](Context&) {
      std::vector<std::string> pieces;
      for (int i = 0; i < 3000; ++i)
        pieces.push_back(sample(1 + (i * 37) % 120));
      http::Headers trailers;
      trailers.add("X-Checksum", "abc");
      http::Response r;
      r.head.headers.add("Content-Type", "text/event-stream");
      r.body = stream_of(std::move(pieces), std::move(trailers));
      return r;
    });
    app->get("/stream-small-declared", [](Context&) {
      http::Response r;
      r.head.headers.add("Content-Type", "application/json");
      r.body = stream_of({"{}"}, {}, 2);
      return r;
    });
    app->get("/lying-length", [](Context&) {
      // Declares more than it sends: the zstd encoder (told the size) must fail, not truncate.
      http::Response r;
      r.head.headers.add("Content-Type", "application/json");
      r.body = stream_of({sample(3000)}, {}, 5000);
      return r;
    });
  }

  std::unique_ptr<App> app;
};

TEST_F(CompressApp, CompressesWithTheNegotiatedCoding) {
  for (Coding c : kAll) {
    const std::string name(coding_name(c));
    Outcome r = run(*app, "GET", "/json", name);
    ASSERT_EQ(r.status, 200);
    EXPECT_EQ(r.headers.get("content-encoding"), name);
    EXPECT_EQ(r.headers.get("vary"), "Accept-Encoding");
    EXPECT_EQ(r.headers.get("etag"), "W/\"v1\"");
    EXPECT_FALSE(r.headers.contains("accept-ranges"));
    EXPECT_FALSE(r.headers.contains("content-length"));
    EXPECT_TRUE(r.streamed);
    EXPECT_EQ(r.size, std::nullopt);
    ASSERT_TRUE(r.body.has_value());
    EXPECT_LT(r.body->size(), 2000u);
    EXPECT_EQ(decode(name, *r.body), sample(4000)) << name;
  }
  Outcome r = run(*app, "GET", "/json", "gzip;q=0.5, br;q=0.9, zstd;q=0.7");
  EXPECT_EQ(r.headers.get("content-encoding"), "br");
  EXPECT_EQ(decode("br", *r.body), sample(4000));
}

TEST_F(CompressApp, IdentityAnswerStillVariesButKeepsItsValidators) {
  for (std::string accept : {"", "identity", "deflate", "gzip;q=0"}) {
    Outcome r = run(*app, "GET", "/json", accept);
    EXPECT_FALSE(r.headers.contains("content-encoding")) << accept;
    EXPECT_EQ(r.headers.get("vary"), "Accept-Encoding") << accept;
    EXPECT_EQ(r.headers.get("etag"), "\"v1\"") << accept;
    EXPECT_EQ(r.headers.get("accept-ranges"), "bytes") << accept;
    EXPECT_EQ(r.size, std::optional<std::uint64_t>(4000));
    EXPECT_EQ(*r.body, sample(4000));
  }
}

TEST_F(CompressApp, MediaTypesAreMatchedWithoutParametersAndWithWildcards) {
  Outcome r = run(*app, "GET", "/html", "gzip");  // text/html; charset=utf-8 via text/*
  EXPECT_EQ(r.headers.get("content-encoding"), "gzip");
  EXPECT_EQ(decode("gzip", *r.body), sample(3000));

  for (std::string path : {"/png", "/untyped"}) {
    r = run(*app, "GET", path, "gzip");
    EXPECT_FALSE(r.headers.contains("content-encoding")) << path;
    EXPECT_FALSE(r.headers.contains("vary")) << path;
    EXPECT_EQ(*r.body, sample(4000)) << path;
  }

  CompressOptions only_png;
  only_png.types = {"image/png"};
  make(only_png);
  EXPECT_EQ(run(*app, "GET", "/png", "gzip").headers.get("content-encoding"), "gzip");
  EXPECT_FALSE(run(*app, "GET", "/html", "gzip").headers.contains("content-encoding"));
}

TEST_F(CompressApp, BodiesBelowMinSizeAreLeftAlone) {
  Outcome r = run(*app, "GET", "/small", "gzip");
  EXPECT_FALSE(r.headers.contains("content-encoding"));
  EXPECT_FALSE(r.headers.contains("vary"));  // no client would get it compressed
  EXPECT_EQ(*r.body, sample(1023));
  EXPECT_EQ(run(*app, "GET", "/exact", "gzip").headers.get("content-encoding"), "gzip");
  // A stream's declared size counts too.
  EXPECT_FALSE(
      run(*app, "GET", "/stream-small-declared", "gzip").headers.contains("content-encoding"));

  CompressOptions tiny;
  tiny.min_size = 0;
  make(tiny);
  r = run(*app, "GET", "/small", "zstd");
  EXPECT_EQ(r.headers.get("content-encoding"), "zstd");
  EXPECT_EQ(decode("zstd", *r.body), sample(1023));
}

TEST_F(CompressApp, StatusesThatAreNotCompressed) {
  for (int code : {204, 206, 304, 404, 500, 301}) {
    Outcome r = run(*app, "GET", "/status/" + std::to_string(code), "gzip");
    EXPECT_EQ(r.status, code);
    EXPECT_FALSE(r.headers.contains("content-encoding")) << code;
    if (code != 304) {
      EXPECT_FALSE(r.headers.contains("vary")) << code;
      EXPECT_EQ(r.headers.get("etag"), "\"v1\"") << code;
    }
  }
  Outcome created = run(*app, "GET", "/status/201", "gzip");
  EXPECT_EQ(created.headers.get("content-encoding"), "gzip");
  EXPECT_EQ(decode("gzip", *created.body), sample(4000));
}

TEST_F(CompressApp, NotModifiedCarriesTheFieldsTheFullResponseWould) {
  // Typed 304 (text/plain is compressible): Vary, and the weak ETag of the compressed 200.
  Outcome r = run(*app, "GET", "/status/304", "br");
  EXPECT_EQ(r.headers.get("vary"), "Accept-Encoding");
  EXPECT_EQ(r.headers.get("etag"), "W/\"v1\"");
  EXPECT_FALSE(r.headers.contains("content-encoding"));
  // Without a coding the ETag stays strong.
  r = run(*app, "GET", "/status/304", "");
  EXPECT_EQ(r.headers.get("vary"), "Accept-Encoding");
  EXPECT_EQ(r.headers.get("etag"), "\"v1\"");
  // Without Content-Type (like the static file server's 304s) the same.
  r = run(*app, "GET", "/not-modified-untyped", "gzip");
  EXPECT_EQ(r.headers.get("vary"), "Accept-Encoding");
  EXPECT_EQ(r.headers.get("etag"), "W/\"v1\"");
}

TEST_F(CompressApp, ExistingEncodingAndNoTransformAreRespected) {
  Outcome r = run(*app, "GET", "/encoded", "gzip");
  EXPECT_EQ(r.headers.get("content-encoding"), "identity");
  EXPECT_FALSE(r.headers.contains("vary"));
  EXPECT_EQ(*r.body, sample(4000));
  r = run(*app, "GET", "/no-transform", "gzip");
  EXPECT_FALSE(r.headers.contains("content-encoding"));
  EXPECT_FALSE(r.headers.contains("vary"));
  EXPECT_EQ(*r.body, sample(4000));
}

TEST_F(CompressApp, VaryIsMergedNeverDuplicated) {
  auto vary_of = [&](std::string kind) {
    Outcome r = run(*app, "GET", "/vary/" + kind, "gzip");
    EXPECT_EQ(r.headers.get("content-encoding"), "gzip") << kind;
    EXPECT_EQ(r.headers.count("vary"), 1u) << kind;
    return std::string(r.headers.get("vary"));
  };
  EXPECT_EQ(vary_of("none"), "Accept-Encoding");
  EXPECT_EQ(vary_of("origin"), "Origin, Accept-Encoding");
  EXPECT_EQ(vary_of("two"), "Origin, Cookie, Accept-Encoding");
  EXPECT_EQ(vary_of("already"), "origin, accept-encoding");
  EXPECT_EQ(vary_of("star"), "*");
}

TEST_F(CompressApp, WeakETagsStayAsTheyAre) {
  Outcome r = run(*app, "GET", "/vary/weak", "gzip");
  EXPECT_EQ(r.headers.get("etag"), "W/\"w\"");
  EXPECT_EQ(r.headers.count("etag"), 1u);
}

TEST_F(CompressApp, HeadGetsTheFieldsOfGetWithoutABody) {
  Outcome get = run(*app, "GET", "/json", "zstd");
  Outcome head = run(*app, "HEAD", "/json", "zstd");
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.headers.get("content-encoding"), "zstd");
  EXPECT_EQ(head.headers.get("vary"), get.headers.get("vary"));
  EXPECT_EQ(head.headers.get("etag"), get.headers.get("etag"));
  EXPECT_FALSE(head.headers.contains("accept-ranges"));
  EXPECT_EQ(head.size, std::nullopt);  // no Content-Length, like the GET
  EXPECT_EQ(*head.body, "");
  // Under min_size: as the GET, uncompressed.
  EXPECT_FALSE(run(*app, "HEAD", "/small", "zstd").headers.contains("content-encoding"));
}

TEST_F(CompressApp, ManySmallStreamedPiecesRoundTripWithTrailers) {
  std::string expected;
  for (int i = 0; i < 3000; ++i)
    expected += sample(1 + (i * 37) % 120);
  for (Coding c : kAll) {
    const std::string name(coding_name(c));
    Outcome r = run(*app, "GET", "/stream", name);
    EXPECT_EQ(r.headers.get("content-encoding"), name);
    ASSERT_TRUE(r.body.has_value()) << r.body.error().describe();
    EXPECT_EQ(decode(name, *r.body), expected) << name;
    EXPECT_EQ(r.trailers.get("x-checksum"), "abc") << name;
  }
}

TEST_F(CompressApp, AnEncoderFailureFailsTheBodyInsteadOfTruncatingIt) {
  Outcome r = run(*app, "GET", "/lying-length", "zstd");
  EXPECT_EQ(r.headers.get("content-encoding"), "zstd");
  ASSERT_FALSE(r.body.has_value());
  EXPECT_NE(r.body.error().context.find("compression failed"), std::string::npos)
      << r.body.error().describe();
}

TEST_F(CompressApp, WorksThroughTestClient) {
  TestClient client(*app);
  TestResponse r = client.get("/json").header("Accept-Encoding", "gzip, br").send();
  EXPECT_EQ(r.header("content-encoding"), "br");
  EXPECT_EQ(decode("br", r.body), sample(4000));
}

}  // namespace
}  // namespace rws::middleware
