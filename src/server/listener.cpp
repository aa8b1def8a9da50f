#include "server/listener.hpp"

#include <sys/socket.h>

#include <string>
#include <system_error>

#include <asio/detail/socket_option.hpp>
#include <asio/ip/v6_only.hpp>

namespace rws::server {
namespace {

using ReusePort = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;

std::string describe(const asio::ip::tcp::endpoint& e) {
  std::string host = e.address().to_string();
  if (e.address().is_v6()) host = "[" + host + "]";
  return host + ":" + std::to_string(e.port());
}

}  // namespace

asio::ip::tcp::acceptor make_listener(asio::io_context& io,
                                      const asio::ip::tcp::endpoint& endpoint) {
  asio::ip::tcp::acceptor acceptor(io);
  std::error_code ec;
  auto check = [&](const char* what) {
    if (ec) throw std::system_error(ec, std::string(what) + " " + describe(endpoint));
  };
  acceptor.open(endpoint.protocol(), ec);
  check("cannot open a socket for");
  acceptor.set_option(asio::ip::tcp::acceptor::reuse_address(true), ec);
  check("cannot set SO_REUSEADDR on");
  acceptor.set_option(ReusePort(true), ec);
  check("cannot set SO_REUSEPORT on");
  if (endpoint.address().is_v6() && endpoint.address().is_unspecified()) {
    acceptor.set_option(asio::ip::v6_only(false), ec);
    check("cannot accept IPv4 on");
  }
  acceptor.bind(endpoint, ec);
  check("cannot listen on");
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  check("cannot listen on");
  return acceptor;
}

}  // namespace rws::server
