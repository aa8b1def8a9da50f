#pragma once
// Opening a TCP connection to an L4 backend: resolve its host (every time, so DNS changes are
// followed), then try each address until one connects, all within one timeout.

#include <chrono>
#include <system_error>

#include <asio/awaitable.hpp>
#include <asio/ip/tcp.hpp>

#include "proxy/backend.hpp"

namespace rws::l4 {

// Runs on the calling coroutine's executor. On failure `error` says why (timed_out when the
// timeout passed) and the returned socket is closed.
asio::awaitable<asio::ip::tcp::socket> connect_backend(const proxy::Backend& backend,
                                                       std::chrono::milliseconds timeout,
                                                       std::error_code& error);

}  // namespace rws::l4
