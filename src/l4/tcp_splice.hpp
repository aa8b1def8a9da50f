#pragma once
// Splicing two TCP connections: bytes are copied both ways until both directions have ended.
//
// Contract: each direction reads into its own 64 KiB buffer and does not read again until the
// previous chunk is fully written (backpressure: a slow reader stalls its writer, memory stays
// bounded at 128 KiB per spliced pair). EOF from one side is passed on as shutdown(SHUT_WR) to
// the other while the opposite direction keeps going. A read or write error on either side closes
// both. When nothing moved in either direction for `idle_timeout`, both are closed. `on_finish`
// runs once, when the pair is done (both sockets closed).

#include <chrono>
#include <functional>

#include <asio/ip/tcp.hpp>

namespace rws::l4 {

constexpr std::size_t kSpliceBuffer = 64 * 1024;

// Starts the splice on the sockets' executor and returns at once; the sockets (which must share
// one single-threaded executor) are owned by the splice from here on.
void splice(asio::ip::tcp::socket a, asio::ip::tcp::socket b, std::chrono::seconds idle_timeout,
            std::function<void()> on_finish);

}  // namespace rws::l4
