#pragma once
// Sends a run of QUIC datagrams with as few system calls as the kernel allows: one sendmsg with
// UDP generic segmentation offload (UDP_SEGMENT, Linux 4.18+) for the whole run, else (a kernel
// or device that refuses it) one sendmmsg. Both ends of HTTP/3 use it. Internal to rws_h3.

#include <sys/socket.h>

#include <cstddef>
#include <cstdint>
#include <system_error>

namespace rws::h3 {

// At most this many datagrams, and this many bytes, in one run (the kernel's UDP_MAX_SEGMENTS,
// and a total below the 65 507-byte limit of one IPv4 UDP send).
inline constexpr std::size_t kMaxRunDatagrams = 64;
inline constexpr std::size_t kMaxRunBytes = 63 * 1024;

struct SendResult {
  std::size_t sent = 0;   // bytes the kernel took: whole datagrams, from the start of the run
  std::error_code error;  // why fewer than all were taken (would_block: the buffer is full)
};

class DatagramSender {
 public:
  // Sends `size` bytes at `data` as consecutive datagrams of `segment` bytes (the last may be
  // shorter; size <= kMaxRunBytes, size / segment <= kMaxRunDatagrams) on the non-blocking UDP
  // socket `fd`, to `to` (null for a connected socket).
  SendResult send(int fd, const sockaddr* to, socklen_t to_size, const std::uint8_t* data,
                  std::size_t size, std::size_t segment);

 private:
  SendResult send_each(int fd, const sockaddr* to, socklen_t to_size, const std::uint8_t* data,
                       std::size_t size, std::size_t segment);

  bool gso_ = true;  // cleared the first time the kernel refuses UDP_SEGMENT
};

}  // namespace rws::h3
