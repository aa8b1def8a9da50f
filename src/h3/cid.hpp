#pragma once
// Connection IDs that name the worker owning the connection. Every worker of a server has its
// own UDP socket on the shared port (SO_REUSEPORT), and the kernel picks the socket by hashing
// the client's address: a client that migrates (RFC 9000 §9) can land on another worker. So
// every connection ID the server issues starts with the owning worker's index (2 bytes, big
// endian; the other kCidLength - 2 bytes are random), and a worker that receives a packet for
// a connection ID naming another worker hands the datagram over (endpoint.cpp).
//
// The index is in the clear: an on-path observer can tell which worker a connection lives on
// (a few bits, the same for all of its IDs), not which connection it is.

#include <ngtcp2/ngtcp2.h>

#include <cstddef>
#include <cstdint>
#include <optional>

namespace rws::h3 {

// Length of the connection IDs this server issues; short-header packets are routed by it.
inline constexpr std::size_t kCidLength = 16;
// Worker indexes that fit in a connection ID.
inline constexpr std::size_t kMaxCidOwners = 1 << 16;

// Fills `cid` with a fresh random connection ID naming worker `owner` (< kMaxCidOwners); false
// when no randomness could be had.
bool make_cid(ngtcp2_cid& cid, std::size_t owner);

// The worker a destination connection ID of `size` bytes names; nullopt when it is not one
// this server could have issued (another length).
std::optional<std::size_t> cid_owner(const std::uint8_t* data, std::size_t size);

}  // namespace rws::h3
