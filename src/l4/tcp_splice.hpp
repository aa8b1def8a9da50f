#pragma once
// Splicing two TCP connections: bytes are copied both ways until both directions have ended.
//
// Contract: each direction reads into its own 64 KiB buffer and does not read again until the
// previous chunk is fully written (backpressure: a slow reader stalls its writer, memory stays
// bounded at 128 KiB per spliced pair). EOF from one side is passed on as shutdown(SHUT_WR) to
// the other while the opposite direction keeps going. A read or write error on either side closes
// both. When nothing moved in either direction for `idle_timeout`, both are closed. `on_finish`
// runs once, when the pair is done (both sockets closed). Bytes written are added to `counters`
// as they go (`a_to_b`: read from a, written to b).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>

#include <asio/ip/tcp.hpp>

namespace rws::l4 {

constexpr std::size_t kSpliceBuffer = 64 * 1024;

struct SpliceCounters {
  std::atomic<std::uint64_t> a_to_b{0};
  std::atomic<std::uint64_t> b_to_a{0};
};

// Closes both sockets of a splice at once (its on_finish follows once the copies unwind); does
// nothing once the splice is over. Call it on the sockets' executor.
using CloseSplice = std::function<void()>;

// Starts the splice on the sockets' executor and returns at once; the sockets (which must share
// one single-threaded executor) are owned by the splice from here on.
CloseSplice splice(asio::ip::tcp::socket a, asio::ip::tcp::socket b,
                   std::chrono::seconds idle_timeout, std::shared_ptr<SpliceCounters> counters,
                   std::function<void()> on_finish);

}  // namespace rws::l4
