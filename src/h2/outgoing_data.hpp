#pragma once
// Body bytes on their way into DATA frames, and nghttp2's data-provider step over them: shared
// by the server (response bodies, extended CONNECT tunnels) and the client (request bodies). A
// producer coroutine appends to `out` (pausing while too much waits) and sets `out_ended` (and
// `trailers_out`) at the end; nghttp2 takes the bytes as flow control allows.

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <rws/http/headers.hpp>

typedef struct nghttp2_session nghttp2_session;

namespace rws::h2 {

struct OutgoingData {
  std::string out;
  std::size_t out_offset = 0;
  bool out_ended = false;
  bool deferred = false;   // the provider said NGHTTP2_ERR_DEFERRED: resume_data when bytes come
  bool eof_taken = false;  // the end of the data (and its trailers) went to nghttp2
  http::Headers trailers_out;

  std::size_t pending_out() const { return out.size() - out_offset; }
};

// The data provider's answer for `data` of `stream_id`: up to `length` bytes copied to `buffer`;
// with the end of the data, EOF (and the trailers submitted, the stream then ending with them);
// NGHTTP2_ERR_DEFERRED (and `deferred` set) when nothing waits yet.
ssize_t provide_data(nghttp2_session* session, std::int32_t stream_id, OutgoingData& data,
                     std::uint8_t* buffer, std::size_t length, std::uint32_t* flags);

}  // namespace rws::h2
