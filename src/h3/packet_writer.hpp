#pragma once
// The step both ends of an HTTP/3 connection repeat to send: the next QUIC datagram, filled with
// the stream data nghttp3 has ready (or only with what ngtcp2 itself has to say: ACKs,
// handshake, flow control). Internal to rws_h3.

#include <nghttp3/nghttp3.h>
#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>

namespace rws::h3 {

struct NextPacket {
  // Bytes of the datagram written to the buffer; 0: nothing to send now.
  std::size_t size = 0;
  // When the step failed: set, with the ngtcp2 (quic_error) or nghttp3 (http_error) error code.
  bool failed = false;
  int quic_error = 0;
  int http_error = 0;
};

// Writes the next datagram into `buffer` (`http` may be null before HTTP/3 is set up). Streams
// the peer's flow control blocks, and streams whose sending side is shut, are dealt with here.
NextPacket write_next_packet(ngtcp2_conn* conn, nghttp3_conn* http, ngtcp2_path* path,
                             ngtcp2_pkt_info* info, std::uint8_t* buffer, std::size_t size,
                             ngtcp2_tstamp now);

}  // namespace rws::h3
