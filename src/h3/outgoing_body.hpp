#pragma once
// The sending side of one HTTP/3 stream's body, the same for a server's response and a client's
// request: chunks pulled from a BodySource wait here until nghttp3 takes them (read_data), and
// stay until the peer acknowledges them, because nghttp3 sends from them without copying.
// Internal to rws_h3.

#include <nghttp3/nghttp3.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>

#include <rws/http/body.hpp>
#include <rws/http/headers.hpp>

namespace rws::h3 {

struct OutgoingBody {
  // Chunks not yet acknowledged; the first `out_taken` were handed to nghttp3.
  std::deque<std::string> out;
  std::size_t out_taken = 0;
  std::size_t out_front_acked = 0;
  std::size_t out_bytes = 0;  // buffered and not yet acknowledged
  bool out_ended = false;     // the source said end: EOF once the chunks are taken
  bool deferred = false;      // provide() said WOULDBLOCK: resume_stream once data arrives
  http::Headers trailers_out;

  // Keeps one frame of the source; true when it was the end.
  bool keep(http::BodyFrame& frame);

  // The peer acknowledged `n` more body bytes: they are dropped.
  void release(std::uint64_t n);

  // nghttp3's read_data step for this stream: the chunks not yet taken, EOF (with trailers
  // submitted) after the last, or NGHTTP3_ERR_WOULDBLOCK (and `deferred`) while none are ready.
  nghttp3_ssize provide(nghttp3_conn* http, std::int64_t stream_id, nghttp3_vec* vec,
                        std::size_t veccnt, std::uint32_t* flags);
};

}  // namespace rws::h3
