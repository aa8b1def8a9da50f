#include "h3/endpoint.hpp"

#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <sys/socket.h>

#include <array>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <unordered_map>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/detail/socket_option.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/v6_only.hpp>
#include <asio/post.hpp>
#include <asio/use_awaitable.hpp>

#include "core/log.hpp"
#include "h3/connection.hpp"
#include "h3/datagram_sender.hpp"
#include "h3/retry.hpp"

namespace rws::h3 {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReceiveBuffer = 64 * 1024;
constexpr std::size_t kReceiveBatch = 64;  // datagrams read before the loop yields
constexpr int kSocketBuffer = 4 * 1024 * 1024;
// A client's first datagram is at least this large (RFC 9000 §14.1); Version Negotiation is
// only sent in answer to one, so the endpoint cannot amplify an attack.
constexpr std::size_t kMinInitialDatagram = 1200;
// A stateless reset is smaller than the packet that caused it (no reset loops) and at least
// 1 + 5 random + 16 token bytes; its size is capped.
constexpr std::size_t kMinResetTrigger =
    1 + NGTCP2_MIN_STATELESS_RESET_RANDLEN + NGTCP2_STATELESS_RESET_TOKENLEN + 1;
constexpr std::size_t kMaxReset = 64;

// The secret stateless reset tokens derive from: one per process, so every worker can reset a
// connection another worker issued the connection ID for.
const std::array<std::uint8_t, 32>& reset_secret() {
  static const std::array<std::uint8_t, 32> secret = [] {
    std::array<std::uint8_t, 32> s{};
    if (gnutls_rnd(GNUTLS_RND_KEY, s.data(), s.size()) != 0) {
      throw std::runtime_error("HTTP/3: no randomness for the stateless reset secret");
    }
    return s;
  }();
  return secret;
}

std::string describe(const asio::ip::udp::endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

std::string key(const std::uint8_t* data, std::size_t size) {
  return std::string(reinterpret_cast<const char*>(data), size);
}

// ngtcp2's clock (steady, so every worker's timestamps compare: Retry tokens carry one).
ngtcp2_tstamp now_ns() {
  return static_cast<ngtcp2_tstamp>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                        std::chrono::steady_clock::now().time_since_epoch())
                                        .count());
}

// Whether the destination connection ID of this packet is one the server issued: short
// header packets, and version 1 Handshake packets. Initial and 0-RTT packets carry the one the
// client chose.
bool server_chosen_dcid(const std::uint8_t* data, const ngtcp2_version_cid& vc) {
  if ((data[0] & 0x80) == 0) return true;
  return vc.version == NGTCP2_PROTO_VER_V1 && (data[0] & 0x30) == 0x20;
}

}  // namespace

struct Endpoint::Impl final : public ConnectionHost, public net::TrackedConnection {
  Impl(asio::io_context& io, h1::SessionEnv e, const CredentialsSlot& c, Counters n, Options o)
      : socket(io), env(e), credentials(c), counters(n), options(o) {}

  // --- ConnectionHost ---
  void associate(const ngtcp2_cid& cid, Connection& connection) override {
    by_cid[key(cid.data, cid.datalen)] = &connection;
  }
  void dissociate(const ngtcp2_cid& cid) override { by_cid.erase(key(cid.data, cid.datalen)); }
  bool make_cid(ngtcp2_cid& cid) override { return h3::make_cid(cid, options.index); }

  std::size_t send(const asio::ip::udp::endpoint& to, const std::uint8_t* data, std::size_t size,
                   std::size_t segment) override {
    const SendResult r = sender.send(socket.native_handle(), to.data(),
                                     static_cast<socklen_t>(to.size()), data, size, segment);
    if (r.sent == size) return size;
    if (r.error == std::errc::operation_would_block ||
        r.error == std::errc::resource_unavailable_try_again) {
      return r.sent;
    }
    log::http().debug("HTTP/3: sending to {} failed: {}", describe(to), r.error.message());
    return size;
  }

  // A datagram the endpoint itself answers with (Retry, Version Negotiation, stateless reset):
  // best effort, like the packets that caused it.
  void send_one(const asio::ip::udp::endpoint& to, const std::uint8_t* data, std::size_t size) {
    send(to, data, size, size);
  }

  void wait_writable(std::shared_ptr<Connection> connection) override {
    writers.push_back(std::move(connection));
    if (waiting_writable) return;
    waiting_writable = true;
    socket.async_wait(asio::ip::udp::socket::wait_write, [this](const std::error_code&) {
      waiting_writable = false;
      std::vector<std::shared_ptr<Connection>> ready = std::move(writers);
      writers.clear();
      for (auto& c : ready)
        c->on_writable();
    });
  }

  void remove(Connection& connection) override {
    if (connections.erase(&connection) > 0) {
      counters.open.fetch_sub(1, std::memory_order_relaxed);
    }
    if (draining && connections.empty()) close_socket();
  }

  const std::uint8_t* reset_secret() const override { return h3::reset_secret().data(); }
  std::size_t reset_secret_size() const override { return h3::reset_secret().size(); }

  // --- TrackedConnection: called inside a registry walk, so the work is posted ---
  void on_deadline() noexcept override {}
  void on_drain() noexcept override {
    asio::post(socket.get_executor(), [this] {
      draining = true;
      for (auto& c : snapshot())
        c->drain();
      if (connections.empty()) close_socket();
    });
  }
  void on_abort() noexcept override {
    asio::post(socket.get_executor(), [this] {
      draining = true;
      for (auto& c : snapshot())
        c->abort();
      close_socket();
    });
  }

  std::vector<std::shared_ptr<Connection>> snapshot() const {
    std::vector<std::shared_ptr<Connection>> all;
    all.reserve(connections.size());
    for (const auto& [ptr, c] : connections)
      all.push_back(c);
    return all;
  }

  void close_socket() {
    std::error_code ec;
    socket.close(ec);
  }

  asio::awaitable<void> receive_loop() {
    env.registry.add(*this);
    std::vector<std::uint8_t> buffer(kReceiveBuffer);
    for (;;) {
      asio::ip::udp::endpoint remote;
      auto [ec, n] = co_await socket.async_receive_from(asio::buffer(buffer), remote, kUseTuple);
      if (ec) {
        if (ec == asio::error::operation_aborted || !socket.is_open()) break;
        continue;  // e.g. ICMP port unreachable reported on the socket
      }
      // Then what else is queued, up to a batch: connections write once the batch is read
      // (they schedule their writes), so a burst of ACKs is answered by one run of datagrams.
      for (std::size_t batch = 1; !ec; ++batch) {
        dispatch(remote, buffer.data(), n);
        if (batch == kReceiveBatch || !socket.is_open()) break;
        n = socket.receive_from(asio::buffer(buffer), remote, 0, ec);
      }
    }
    env.registry.remove(*this);
  }

  void dispatch(const asio::ip::udp::endpoint& remote, const std::uint8_t* data, std::size_t n) {
    ngtcp2_version_cid vc;
    const int rv = ngtcp2_pkt_decode_version_cid(&vc, data, n, kCidLength);
    if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
      send_version_negotiation(remote, vc, n);
      return;
    }
    if (rv != 0) return;
    if (auto it = by_cid.find(key(vc.dcid, vc.dcidlen)); it != by_cid.end()) {
      std::shared_ptr<Connection> c = connections.at(it->second);
      c->on_packet(remote, data, n);
      return;
    }
    if (hand_over(remote, data, n, vc)) return;
    if ((data[0] & 0x80) == 0) {
      send_stateless_reset(remote, vc, n);
      return;
    }
    if (draining) return;
    ngtcp2_pkt_hd hd;
    if (ngtcp2_accept(&hd, data, n) != 0) return;  // not a client Initial we can take
    std::shared_ptr<const Credentials> tls = credentials.load();
    if (!tls) return;
    if (counters.max_open > 0 &&
        counters.open.load(std::memory_order_relaxed) >= counters.max_open) {
      log::server().debug("HTTP/3 connection from {} refused: max_connections", describe(remote));
      return;
    }
    RetryCheck retry;
    if (options.retry) {
      retry = check_retry_token(hd, remote, retry_secret(), now_ns());
      switch (retry.result) {
        case RetryCheck::Result::kNoRetryToken:
          send_retry(remote, hd);
          return;
        case RetryCheck::Result::kInvalid:
          log::http().debug("HTTP/3: invalid Retry token from {}", describe(remote));
          send_invalid_token(remote, hd);
          return;
        case RetryCheck::Result::kValid:
          break;
      }
    }
    auto c = std::make_shared<Connection>(*this, env, std::move(tls), socket.get_executor(),
                                          counters.next_id.fetch_add(1, std::memory_order_relaxed),
                                          local, remote);
    if (!c->init(hd, options.retry ? &retry.original_dcid : nullptr)) {
      log::http().debug("HTTP/3: cannot set up a connection for {}", describe(remote));
      return;
    }
    connections[c.get()] = c;
    counters.open.fetch_add(1, std::memory_order_relaxed);
    c->on_packet(remote, data, n);
  }

  // Hands a packet for a connection another worker owns (its client moved to an address the
  // kernel hashes to this worker's socket) to that worker; false when it is not such a packet.
  bool hand_over(const asio::ip::udp::endpoint& remote, const std::uint8_t* data, std::size_t n,
                 const ngtcp2_version_cid& vc) {
    if (options.peers == nullptr || !server_chosen_dcid(data, vc)) return false;
    const std::optional<std::size_t> owner = cid_owner(vc.dcid, vc.dcidlen);
    if (!owner || *owner == options.index || *owner >= options.peers->size()) return false;
    Endpoint* peer = (*options.peers)[*owner];
    if (peer == nullptr) return false;
    peer->deliver(remote, std::vector<std::uint8_t>(data, data + n));
    return true;
  }

  // Address validation: the client must come back with the token of this Retry.
  void send_retry(const asio::ip::udp::endpoint& remote, const ngtcp2_pkt_hd& hd) {
    ngtcp2_cid retry_scid;
    if (!make_cid(retry_scid)) return;
    std::array<std::uint8_t, kMinInitialDatagram> out;
    const std::size_t size = write_retry(out, hd, remote, retry_scid, retry_secret(), now_ns());
    if (size > 0) send_one(remote, out.data(), size);
  }

  void send_invalid_token(const asio::ip::udp::endpoint& remote, const ngtcp2_pkt_hd& hd) {
    std::array<std::uint8_t, kMinInitialDatagram> out;
    const std::size_t size = write_invalid_token_close(out, hd);
    if (size > 0) send_one(remote, out.data(), size);
  }

  void send_version_negotiation(const asio::ip::udp::endpoint& remote, const ngtcp2_version_cid& vc,
                                std::size_t n) {
    if (n < kMinInitialDatagram) return;
    const std::uint32_t versions[] = {NGTCP2_PROTO_VER_V1};
    std::uint8_t unused = 0;
    gnutls_rnd(GNUTLS_RND_NONCE, &unused, 1);
    std::array<std::uint8_t, 256> out;
    const ngtcp2_ssize size =
        ngtcp2_pkt_write_version_negotiation(out.data(), out.size(), unused, vc.scid, vc.scidlen,
                                             vc.dcid, vc.dcidlen, versions, std::size(versions));
    if (size > 0) send_one(remote, out.data(), static_cast<std::size_t>(size));
  }

  void send_stateless_reset(const asio::ip::udp::endpoint& remote, const ngtcp2_version_cid& vc,
                            std::size_t n) {
    if (n < kMinResetTrigger || vc.dcidlen != kCidLength) return;
    ngtcp2_cid cid;
    ngtcp2_cid_init(&cid, vc.dcid, vc.dcidlen);
    std::array<std::uint8_t, NGTCP2_STATELESS_RESET_TOKENLEN> token;
    if (ngtcp2_crypto_generate_stateless_reset_token(token.data(), reset_secret(),
                                                     reset_secret_size(), &cid) != 0) {
      return;
    }
    const std::size_t size = std::min(n - 1, kMaxReset);
    std::array<std::uint8_t, kMaxReset> random;
    const std::size_t random_size = size - 1 - NGTCP2_STATELESS_RESET_TOKENLEN;
    gnutls_rnd(GNUTLS_RND_NONCE, random.data(), random_size);
    std::array<std::uint8_t, kMaxReset> out;
    const ngtcp2_ssize written = ngtcp2_pkt_write_stateless_reset(
        out.data(), out.size(), token.data(), random.data(), random_size);
    if (written > 0) send_one(remote, out.data(), static_cast<std::size_t>(written));
  }

  asio::ip::udp::socket socket;
  DatagramSender sender;
  asio::ip::udp::endpoint local;
  h1::SessionEnv env;
  const CredentialsSlot& credentials;
  Counters counters;
  Options options;
  std::unordered_map<std::string, Connection*> by_cid;
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections;
  std::vector<std::shared_ptr<Connection>> writers;  // waiting for the socket to drain
  bool waiting_writable = false;
  bool draining = false;
};

Endpoint::Endpoint(asio::io_context& io, h1::SessionEnv env, const CredentialsSlot& credentials,
                   Counters counters, const asio::ip::udp::endpoint& local, Options options)
    : impl_(std::make_unique<Impl>(io, env, credentials, counters, options)) {
  if (options.index >= kMaxCidOwners) {
    throw std::invalid_argument("HTTP/3: worker index " + std::to_string(options.index) +
                                " does not fit in a connection ID");
  }
  // Made now, so that a missing secret stops the server from starting rather than a worker.
  h3::reset_secret();
  if (options.retry) retry_secret();
  asio::ip::udp::socket& s = impl_->socket;
  std::error_code ec;
  auto check = [&](const char* what) {
    if (ec) throw std::system_error(ec, std::string(what) + " " + describe(local));
  };
  s.open(local.protocol(), ec);
  check("cannot open a UDP socket for");
  s.set_option(asio::socket_base::reuse_address(true), ec);
  check("cannot set SO_REUSEADDR on");
  s.set_option(ReusePort(true), ec);
  check("cannot set SO_REUSEPORT on");
  if (local.address().is_v6() && local.address().is_unspecified()) {
    s.set_option(asio::ip::v6_only(false), ec);
    check("cannot accept IPv4 on");
  }
  // Larger buffers absorb bursts (the kernel caps them at net.core.[rw]mem_max).
  std::error_code ignored;
  s.set_option(asio::socket_base::receive_buffer_size(kSocketBuffer), ignored);
  s.set_option(asio::socket_base::send_buffer_size(kSocketBuffer), ignored);
  s.bind(local, ec);
  check("cannot listen (HTTP/3) on");
  s.non_blocking(true, ec);
  check("cannot make non-blocking the UDP socket of");
  impl_->local = s.local_endpoint();
}

Endpoint::~Endpoint() = default;

std::uint16_t Endpoint::port() const {
  return impl_->local.port();
}

void Endpoint::start() {
  asio::co_spawn(impl_->socket.get_executor(), impl_->receive_loop(), asio::detached);
}

void Endpoint::deliver(const asio::ip::udp::endpoint& remote, std::vector<std::uint8_t> datagram) {
  asio::post(impl_->socket.get_executor(), [impl = impl_.get(), remote, d = std::move(datagram)] {
    impl->dispatch(remote, d.data(), d.size());
  });
}

}  // namespace rws::h3
