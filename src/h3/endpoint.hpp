#pragma once
// The HTTP/3 side of one worker: a UDP socket on the TLS listener's address and port, and the
// QUIC connections that arrive on it. Every worker binds its own socket with SO_REUSEPORT (the
// first picks the port when it is 0; the server passes the TCP port so both match), and the
// kernel hashes each client 4-tuple to one socket, so a connection's packets keep reaching the
// worker that owns it. Connection migration (a new client address) is not steered: its packets
// may land on another worker, which answers them with a stateless reset. Steering by connection
// ID (a reuseport BPF program) is future work.
//
// Within a worker, packets are routed by destination connection ID; an unknown ID in a long
// header Initial packet starts a connection (unless the worker drains); an unknown ID in a
// short header packet gets a stateless reset; an unsupported version gets Version Negotiation.
//
// Drain and abort: the endpoint is one entry of the worker's connection registry. On drain
// every connection sends GOAWAY and closes once its requests are answered, new connections
// are refused, and the socket closes when the last connection has gone; abort closes them all.

#include <atomic>
#include <cstdint>
#include <memory>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "h1/server_session.hpp"
#include "h3/credentials.hpp"

namespace rws::h3 {

using CredentialsSlot = std::atomic<std::shared_ptr<const Credentials>>;

class Endpoint {
 public:
  // Server-wide counters the endpoint shares with the TCP listeners.
  struct Counters {
    std::atomic<std::uint64_t>& next_id;  // numbers connections
    std::atomic<std::size_t>& open;       // connections open now, TCP and QUIC
    std::size_t max_open = 0;             // refuse new connections at this many; 0: no limit
  };

  // Binds the socket (throws std::system_error naming the address). `credentials` is read for
  // each new connection (a reload swaps it).
  Endpoint(asio::io_context& io, h1::SessionEnv env, const CredentialsSlot& credentials,
           Counters counters, const asio::ip::udp::endpoint& local);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  std::uint16_t port() const;
  // Starts receiving; runs on the io_context's thread from then on.
  void start();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rws::h3
