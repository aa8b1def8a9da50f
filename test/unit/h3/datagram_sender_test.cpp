#include "h3/datagram_sender.hpp"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdint>
#include <numeric>
#include <vector>

namespace rws::h3 {
namespace {

// Two UDP sockets on 127.0.0.1: a non-blocking sender and a receiver.
struct Pair {
  int sender = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  int receiver = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
  sockaddr_in to{};

  Pair() {
    to.sin_family = AF_INET;
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(receiver, reinterpret_cast<sockaddr*>(&to), sizeof to), 0);
    socklen_t size = sizeof to;
    EXPECT_EQ(::getsockname(receiver, reinterpret_cast<sockaddr*>(&to), &size), 0);
  }
  ~Pair() {
    ::close(sender);
    ::close(receiver);
  }

  // The datagrams queued at the receiver, each as it arrived.
  std::vector<std::vector<std::uint8_t>> received() const {
    std::vector<std::vector<std::uint8_t>> all;
    for (;;) {
      std::vector<std::uint8_t> d(65536);
      const ssize_t n = ::recv(receiver, d.data(), d.size(), 0);
      if (n < 0) break;
      d.resize(static_cast<std::size_t>(n));
      all.push_back(std::move(d));
    }
    return all;
  }
};

std::vector<std::uint8_t> bytes(std::size_t n) {
  std::vector<std::uint8_t> v(n);
  std::iota(v.begin(), v.end(), std::uint8_t{0});
  return v;
}

// The datagrams a run of `size` bytes should arrive as.
std::vector<std::vector<std::uint8_t>> split(const std::vector<std::uint8_t>& run,
                                             std::size_t segment) {
  std::vector<std::vector<std::uint8_t>> parts;
  for (std::size_t at = 0; at < run.size(); at += segment) {
    parts.emplace_back(
        run.begin() + static_cast<std::ptrdiff_t>(at),
        run.begin() + static_cast<std::ptrdiff_t>(std::min(at + segment, run.size())));
  }
  return parts;
}

TEST(DatagramSender, ARunArrivesAsSeparateDatagramsWithAShorterLast) {
  Pair p;
  DatagramSender sender;
  const std::vector<std::uint8_t> run = bytes(3 * 1200 + 500);
  const SendResult r = sender.send(p.sender, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to,
                                   run.data(), run.size(), 1200);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.sent, run.size());
  EXPECT_EQ(p.received(), split(run, 1200));
}

TEST(DatagramSender, TheLargestRunFitsInOneSend) {
  Pair p;
  int buffer = 1 << 20;
  ::setsockopt(p.receiver, SOL_SOCKET, SO_RCVBUF, &buffer, sizeof buffer);
  DatagramSender sender;
  const std::size_t segment = kMaxRunBytes / 44;
  const std::vector<std::uint8_t> run = bytes(44 * segment);
  const SendResult r = sender.send(p.sender, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to,
                                   run.data(), run.size(), segment);
  EXPECT_FALSE(r.error);
  EXPECT_EQ(r.sent, run.size());
  EXPECT_EQ(p.received(), split(run, segment));
}

TEST(DatagramSender, OneDatagramAndAConnectedSocket) {
  Pair p;
  ASSERT_EQ(::connect(p.sender, reinterpret_cast<const sockaddr*>(&p.to), sizeof p.to), 0);
  DatagramSender sender;
  const std::vector<std::uint8_t> one = bytes(700);
  EXPECT_EQ(sender.send(p.sender, nullptr, 0, one.data(), one.size(), one.size()).sent, one.size());
  const std::vector<std::uint8_t> run = bytes(2 * 300);
  EXPECT_EQ(sender.send(p.sender, nullptr, 0, run.data(), run.size(), 300).sent, run.size());
  std::vector<std::vector<std::uint8_t>> expected{one};
  for (auto& d : split(run, 300))
    expected.push_back(d);
  EXPECT_EQ(p.received(), expected);
}

}  // namespace
}  // namespace rws::h3
