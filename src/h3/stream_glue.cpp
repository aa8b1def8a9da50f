#include "h3/stream_glue.hpp"

namespace rws::h3 {

nghttp3_ssize feed_stream_data(ngtcp2_conn* conn, nghttp3_conn* http, std::int64_t stream_id,
                               std::uint32_t flags, const std::uint8_t* data, std::size_t size) {
  if (http == nullptr) return 0;
  const nghttp3_ssize consumed = nghttp3_conn_read_stream(
      http, stream_id, data, size, (flags & NGTCP2_STREAM_DATA_FLAG_FIN) != 0);
  if (consumed < 0) return consumed;
  ngtcp2_conn_extend_max_stream_offset(conn, stream_id, static_cast<std::uint64_t>(consumed));
  ngtcp2_conn_extend_max_offset(conn, static_cast<std::uint64_t>(consumed));
  return consumed;
}

int acked_stream_data(nghttp3_conn* http, std::int64_t stream_id, std::uint64_t size) {
  if (http == nullptr) return 0;
  return nghttp3_conn_add_ack_offset(http, stream_id, size) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int close_stream(nghttp3_conn* http, std::uint32_t flags, std::int64_t stream_id,
                 std::uint64_t app_error_code) {
  if (http == nullptr) return 0;
  if ((flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) == 0) {
    app_error_code = NGHTTP3_H3_NO_ERROR;
  }
  const int rv = nghttp3_conn_close_stream(http, stream_id, app_error_code);
  return rv == 0 || rv == NGHTTP3_ERR_STREAM_NOT_FOUND ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int shutdown_stream_read(nghttp3_conn* http, std::int64_t stream_id) {
  if (http == nullptr) return 0;
  const int rv = nghttp3_conn_shutdown_stream_read(http, stream_id);
  return rv == 0 || rv == NGHTTP3_ERR_STREAM_NOT_FOUND ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int unblock_stream(nghttp3_conn* http, std::int64_t stream_id) {
  if (http == nullptr) return 0;
  return nghttp3_conn_unblock_stream(http, stream_id) == 0 ? 0 : NGTCP2_ERR_CALLBACK_FAILURE;
}

int stop_sending(ngtcp2_conn* conn, std::int64_t stream_id, std::uint64_t app_error_code) {
  const int rv = ngtcp2_conn_shutdown_stream_read(conn, stream_id, app_error_code);
  return rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

int reset_stream(ngtcp2_conn* conn, std::int64_t stream_id, std::uint64_t app_error_code) {
  const int rv = ngtcp2_conn_shutdown_stream_write(conn, stream_id, app_error_code);
  return rv == 0 || rv == NGTCP2_ERR_STREAM_NOT_FOUND ? 0 : NGHTTP3_ERR_CALLBACK_FAILURE;
}

}  // namespace rws::h3
