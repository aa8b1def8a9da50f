#pragma once

#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

namespace rws::server {

// Opens a listening TCP socket on `endpoint` with SO_REUSEPORT, so that every worker can bind
// its own socket to the same address and the kernel spreads connections across them. An
// unspecified IPv6 address ("::") also accepts IPv4. Throws std::system_error naming the
// address on failure.
asio::ip::tcp::acceptor make_listener(asio::io_context& io,
                                      const asio::ip::tcp::endpoint& endpoint);

}  // namespace rws::server
