#pragma once
// The steps between ngtcp2 (QUIC streams) and nghttp3 (HTTP/3 on them) that both ends of a
// connection take in their callbacks, with the callbacks' results: 0, or
// NGTCP2_ERR_CALLBACK_FAILURE / NGHTTP3_ERR_CALLBACK_FAILURE. `http` may be null before HTTP/3 is
// set up (then the step does nothing). Internal to rws_h3.

#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>

namespace rws::h3 {

// Stream bytes into nghttp3. The flow-control credit of what nghttp3 consumed itself (framing)
// goes back at once; body bytes' only as they are read. Returns what nghttp3 consumed, or its
// (negative) error.
nghttp3_ssize feed_stream_data(ngtcp2_conn* conn, nghttp3_conn* http, std::int64_t stream_id,
                               std::uint32_t flags, const std::uint8_t* data, std::size_t size);

// ngtcp2 → nghttp3: the peer acknowledged `size` bytes; the stream closed (`flags` says whether
// an application error code came); the peer reset or stopped the stream (our read side ends);
// the peer opened the stream's window.
int acked_stream_data(nghttp3_conn* http, std::int64_t stream_id, std::uint64_t size);
int close_stream(nghttp3_conn* http, std::uint32_t flags, std::int64_t stream_id,
                 std::uint64_t app_error_code);
int shutdown_stream_read(nghttp3_conn* http, std::int64_t stream_id);
int unblock_stream(nghttp3_conn* http, std::int64_t stream_id);

// nghttp3 → ngtcp2: send STOP_SENDING (our read side) or RESET_STREAM (our write side).
int stop_sending(ngtcp2_conn* conn, std::int64_t stream_id, std::uint64_t app_error_code);
int reset_stream(ngtcp2_conn* conn, std::int64_t stream_id, std::uint64_t app_error_code);

}  // namespace rws::h3
