#include "h3/packet_writer.hpp"

#include <array>

namespace rws::h3 {
namespace {
constexpr std::size_t kMaxVecs = 16;
}  // namespace

NextPacket write_next_packet(ngtcp2_conn* conn, nghttp3_conn* http, ngtcp2_path* path,
                             ngtcp2_pkt_info* info, std::uint8_t* buffer, std::size_t size,
                             ngtcp2_tstamp now) {
  NextPacket result;
  for (;;) {
    std::int64_t stream_id = -1;
    int fin = 0;
    std::array<nghttp3_vec, kMaxVecs> vec;
    nghttp3_ssize count = 0;
    if (http != nullptr && ngtcp2_conn_get_max_data_left(conn) > 0) {
      count = nghttp3_conn_writev_stream(http, &stream_id, &fin, vec.data(), vec.size());
      if (count < 0) {
        result.failed = true;
        result.http_error = static_cast<int>(count);
        return result;
      }
    }
    ngtcp2_ssize written = -1;
    std::uint32_t flags = NGTCP2_WRITE_STREAM_FLAG_MORE;
    if (fin != 0) flags |= NGTCP2_WRITE_STREAM_FLAG_FIN;
    const ngtcp2_ssize n = ngtcp2_conn_writev_stream(
        conn, path, info, buffer, size, &written, flags, stream_id,
        reinterpret_cast<const ngtcp2_vec*>(vec.data()), static_cast<std::size_t>(count), now);
    if (n == NGTCP2_ERR_STREAM_DATA_BLOCKED) {
      nghttp3_conn_block_stream(http, stream_id);
      continue;
    }
    if (n == NGTCP2_ERR_STREAM_SHUT_WR) {
      nghttp3_conn_shutdown_stream_write(http, stream_id);
      continue;
    }
    if (written >= 0) {
      const int rv =
          nghttp3_conn_add_write_offset(http, stream_id, static_cast<std::size_t>(written));
      if (rv != 0) {
        result.failed = true;
        result.http_error = rv;
        return result;
      }
    }
    if (n == NGTCP2_ERR_WRITE_MORE) continue;  // the packet has room for more stream data
    if (n < 0) {
      result.failed = true;
      result.quic_error = static_cast<int>(n);
      return result;
    }
    result.size = static_cast<std::size_t>(n);
    return result;
  }
}

}  // namespace rws::h3
