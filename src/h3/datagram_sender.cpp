#include "h3/datagram_sender.hpp"

#include <netinet/in.h>
#include <netinet/udp.h>
#include <sys/uio.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

namespace rws::h3 {
namespace {

std::error_code last_error() {
  return std::error_code(errno, std::system_category());
}

// The errors of a kernel, or an outgoing device, without UDP segmentation offload.
bool gso_refused(int error) {
  return error == EIO || error == EINVAL || error == ENOPROTOOPT || error == EOPNOTSUPP;
}

}  // namespace

SendResult DatagramSender::send(int fd, const sockaddr* to, socklen_t to_size,
                                const std::uint8_t* data, std::size_t size, std::size_t segment) {
  if (!gso_ || size <= segment) return send_each(fd, to, to_size, data, size, segment);
  iovec iov{const_cast<std::uint8_t*>(data), size};
  msghdr msg{};
  msg.msg_name = const_cast<sockaddr*>(to);
  msg.msg_namelen = to != nullptr ? to_size : 0;
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) std::array<char, CMSG_SPACE(sizeof(std::uint16_t))> control{};
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* cmsg = CMSG_FIRSTHDR(&msg);
  cmsg->cmsg_level = SOL_UDP;
  cmsg->cmsg_type = UDP_SEGMENT;
  cmsg->cmsg_len = CMSG_LEN(sizeof(std::uint16_t));
  const auto segment_size = static_cast<std::uint16_t>(segment);
  std::memcpy(CMSG_DATA(cmsg), &segment_size, sizeof segment_size);
  for (;;) {
    if (::sendmsg(fd, &msg, 0) >= 0) return SendResult{size, {}};
    if (errno == EINTR) continue;
    if (!gso_refused(errno)) return SendResult{0, last_error()};
    gso_ = false;  // and never asked again: one datagram per message from now on
    return send_each(fd, to, to_size, data, size, segment);
  }
}

SendResult DatagramSender::send_each(int fd, const sockaddr* to, socklen_t to_size,
                                     const std::uint8_t* data, std::size_t size,
                                     std::size_t segment) {
  std::array<iovec, kMaxRunDatagrams> iovs;
  std::array<mmsghdr, kMaxRunDatagrams> messages;
  SendResult result;
  while (result.sent < size) {
    unsigned int count = 0;
    for (std::size_t offset = result.sent; offset < size && count < kMaxRunDatagrams;
         offset += segment, ++count) {
      iovs[count] =
          iovec{const_cast<std::uint8_t*>(data + offset), std::min(segment, size - offset)};
      messages[count] = mmsghdr{};
      messages[count].msg_hdr.msg_name = const_cast<sockaddr*>(to);
      messages[count].msg_hdr.msg_namelen = to != nullptr ? to_size : 0;
      messages[count].msg_hdr.msg_iov = &iovs[count];
      messages[count].msg_hdr.msg_iovlen = 1;
    }
    const int n = ::sendmmsg(fd, messages.data(), count, 0);
    if (n < 0) {
      if (errno == EINTR) continue;
      result.error = last_error();
      return result;
    }
    for (int i = 0; i < n; ++i)
      result.sent += iovs[static_cast<std::size_t>(i)].iov_len;
  }
  return result;
}

}  // namespace rws::h3
