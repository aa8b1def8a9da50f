#pragma once
// The HTTP/3 side of one worker: a UDP socket on the TLS listener's address and port, and the
// QUIC connections that arrive on it. Every worker binds its own socket with SO_REUSEPORT (the
// first picks the port when it is 0; the server passes the TCP port so both match), and the
// kernel hashes each client 4-tuple to one socket, so a connection's packets normally keep
// reaching the worker that owns it.
//
// Across workers, packets are routed by connection ID: every connection ID the server issues
// names the worker that owns the connection (cid.hpp). A client that migrates to a new address
// (RFC 9000 §9) is hashed to some socket, maybe another worker's; that worker hands a
// short-header or Handshake packet whose destination connection ID names another worker to
// that worker's endpoint (a copy of the datagram, posted to its io_context), which processes it
// as if it had received it and answers through its own socket (same address and port). Initial
// and 0-RTT packets carry a connection ID the client chose, so they stay where they land.
//
// Within a worker, packets are routed by destination connection ID; an unknown ID in a long
// header Initial packet starts a connection (unless the worker drains); an unknown ID in a
// short header packet gets a stateless reset; an unsupported version gets Version Negotiation.
// With Options::retry (the http3_retry option) a connection only starts from an Initial that
// brings back the token of a Retry packet (retry.hpp).
//
// Drain and abort: the endpoint is one entry of the worker's connection registry. On drain
// every connection sends GOAWAY and closes once its requests are answered, new connections
// are refused, and the socket closes when the last connection has gone; abort closes them all.

#include <atomic>
#include <cstdint>
#include <memory>
#include <vector>

#include <asio/io_context.hpp>
#include <asio/ip/udp.hpp>

#include "h1/server_session.hpp"
#include "h3/credentials.hpp"

namespace rws::h3 {

using CredentialsSlot = std::atomic<std::shared_ptr<const Credentials>>;

class Endpoint;
// The endpoints of one server's workers, by worker index. Filled by the server before any
// worker runs, read-only while they run.
using EndpointTable = std::vector<Endpoint*>;

class Endpoint {
 public:
  // Server-wide counters the endpoint shares with the TCP listeners.
  struct Counters {
    std::atomic<std::uint64_t>& next_id;  // numbers connections
    std::atomic<std::size_t>& open;       // connections open now, TCP and QUIC
    std::size_t max_open = 0;             // refuse new connections at this many; 0: no limit
  };

  struct Options {
    std::size_t index = 0;                 // this worker's entry in `peers` (< kMaxCidOwners)
    const EndpointTable* peers = nullptr;  // null: this endpoint is alone
    bool retry = false;                    // address validation with Retry packets
  };

  // Binds the socket (throws std::system_error naming the address). `credentials` is read for
  // each new connection (a reload swaps it).
  Endpoint(asio::io_context& io, h1::SessionEnv env, const CredentialsSlot& credentials,
           Counters counters, const asio::ip::udp::endpoint& local, Options options);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  std::uint16_t port() const;
  // Starts receiving; runs on the io_context's thread from then on.
  void start();
  // Any thread: another worker received `datagram` from `remote` for a connection ID naming
  // this endpoint; it is processed on this endpoint's thread as if received here.
  void deliver(const asio::ip::udp::endpoint& remote, std::vector<std::uint8_t> datagram);

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace rws::h3
