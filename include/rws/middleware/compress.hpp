#pragma once
// Response compression (br, zstd, gzip), negotiated by Accept-Encoding.
//
// The coding is chosen per request from the configured algorithms by the client's qvalues
// (RFC 9110 §12.5.3): q=0 excludes a coding, "*" covers the codings not named, and a tie goes to
// the earlier configured algorithm; identity wins only when the client weights it strictly
// higher. A request without Accept-Encoding is answered uncompressed.
//
// A response is compressible when its status is 2xx other than 204 and 206, it has no
// Content-Encoding, no `Cache-Control: no-transform`, no upgrade, its media type is in `types`
// and its body size, when known, is at least `min_size` (a stream of unknown length counts as
// large). A compressible response always gets `Vary: Accept-Encoding` (merged into an existing
// Vary), whatever coding is chosen. When a coding is chosen the body is compressed as it is
// sent: Content-Encoding is set, the length becomes unknown, a strong ETag is weakened
// (`"x"` → `W/"x"`: the bytes differ from the identity representation's) and Accept-Ranges is
// removed. Trailers of the original body are passed on. HEAD responses get the same fields a
// GET would (decided on the size the HEAD response declares), without a body.
//
// A 304 carries the Vary and ETag the 200 would have: when its Content-Type (if any) is in
// `types`, Vary is added, and the ETag is weakened when a coding was negotiated.
//
// The compressed body is pulled through the original one, one input piece at a time, with
// bounded buffers. Bodies that come from a stream (a proxied response, an App stream or SSE) are
// flushed after every piece, so each piece reaches the client as soon as it was produced;
// in-memory and file bodies are compressed without intermediate flushes. An encoder failure
// fails the body, which cuts the connection: the client never sees silently truncated data.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rws/app/handler.hpp>

namespace rws::middleware {

enum class Coding : std::uint8_t { kBrotli, kZstd, kGzip };

// "br", "zstd", "gzip".
std::string_view coding_name(Coding coding) noexcept;
// The coding called `name` (case-insensitive), if supported.
std::optional<Coding> parse_coding(std::string_view name) noexcept;

// Levels accepted: br 0–11, zstd 1–19, gzip 1–9.
struct CompressLevels {
  int brotli = 4;  // streaming-friendly: close to gzip 6's ratio at several times its speed
  int zstd = 3;
  int gzip = 6;
};

// The media types compressed when none are configured: text formats, JSON/XML/JavaScript,
// SVG, WebAssembly and uncompressed fonts.
const std::vector<std::string>& default_compress_types();

// Whether `pattern` is a valid entry of CompressOptions::types: "type/subtype", "type/*" or
// "*/*" (tokens, no parameters).
bool valid_media_range(std::string_view pattern) noexcept;

struct CompressOptions {
  std::vector<Coding> algorithms = {Coding::kBrotli, Coding::kZstd, Coding::kGzip};  // preference
  std::uint64_t min_size = 1024;
  std::vector<std::string> types = default_compress_types();  // see valid_media_range
  CompressLevels levels;
};

// Throws std::invalid_argument for an empty algorithm list, an invalid type or a level out of
// range.
Middleware compress(CompressOptions options = {});

// The coding to use for a request whose Accept-Encoding field values are `accept_encoding`
// (joined), choosing among `algorithms` in preference order; nullopt for identity.
std::optional<Coding> negotiate_coding(std::string_view accept_encoding,
                                       const std::vector<Coding>& algorithms);

}  // namespace rws::middleware
