#pragma once
// permessage-deflate (RFC 7692): accepting a client's extension offer, and compressing and
// decompressing whole messages. Messages are raw DEFLATE ended by a sync flush whose
// 00 00 ff ff tail is removed before sending and added back before inflating (§7.2.1, §7.2.2).
// zlib; no Asio.
//
// Window sizes: zlib cannot compress raw DEFLATE with an 8-bit window (it would silently use
// 9, which a peer honouring its own limit of 8 may reject), so an offer that requires
// server_max_window_bits=8 is declined. Any client window is accepted: we inflate with a
// 15-bit window, which reads every smaller one, so client_max_window_bits is never limited.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "ws/frame.hpp"

using z_stream = struct z_stream_s;

namespace rws::ws {

struct DeflateParams {
  bool server_no_context_takeover = false;  // we reset our compressor after each message
  bool client_no_context_takeover = false;  // the client resets its compressor after each message
  int server_max_window_bits = 15;          // the window our compressor uses (9–15)
};

struct DeflateAgreement {
  DeflateParams params;
  std::string response;  // the Sec-WebSocket-Extensions value to answer with
};

// The first permessage-deflate offer in `offers` (the Sec-WebSocket-Extensions field values,
// comma-joined) whose parameters are all known, well-formed, not repeated and acceptable.
// nullopt when there is none: the connection then runs without compression.
std::optional<DeflateAgreement> negotiate_deflate(std::string_view offers);

// Compresses messages for one connection. Not copyable (owns a zlib stream).
class Deflater {
 public:
  Deflater(int window_bits, bool no_context_takeover);
  ~Deflater();
  Deflater(const Deflater&) = delete;
  Deflater& operator=(const Deflater&) = delete;

  // The payload of a compressed message (sent with RSV1 on its first frame).
  std::string compress(std::string_view message);

 private:
  z_stream* z_;
  bool no_context_takeover_;
};

// Decompresses the messages of one connection. Not copyable (owns a zlib stream).
class Inflater {
 public:
  explicit Inflater(bool no_context_takeover);
  ~Inflater();
  Inflater(const Inflater&) = delete;
  Inflater& operator=(const Inflater&) = delete;

  // Inflates one message's payload into `out` (replacing its contents). Stops as soon as the
  // output would exceed `max_size` (a decompression bomb): Error 1009. Corrupt data: Error 1007.
  // After an error the Inflater must not be used again.
  std::optional<Error> decompress(std::string_view payload, std::size_t max_size, std::string& out);

 private:
  z_stream* z_;
  bool no_context_takeover_;
};

}  // namespace rws::ws
