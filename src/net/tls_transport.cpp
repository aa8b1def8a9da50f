#include "net/tls_transport.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cerrno>

#include <asio/experimental/as_tuple.hpp>
#include <asio/use_awaitable.hpp>

#include "core/openssl_errors.hpp"
#include "net/tcp_transport.hpp"

namespace rws::net {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
// Writes up to one TLS record's payload are gathered into a single record.
constexpr std::size_t kRecordPayload = 16 * 1024;

}  // namespace

TlsTransport::TlsTransport(asio::ip::tcp::socket socket, SSL* ssl,
                           std::shared_ptr<const void> owner, Role role)
    : socket_(std::move(socket)), ssl_(ssl), owner_(std::move(owner)), peer_(remote_peer(socket_)) {
  std::error_code ec;
  socket_.non_blocking(true, ec);
  SSL_set_fd(ssl_, socket_.native_handle());
  if (role == Role::kServer) {
    SSL_set_accept_state(ssl_);
  } else {
    SSL_set_connect_state(ssl_);
  }
}

TlsTransport::~TlsTransport() {
  SSL_free(ssl_);
}

asio::awaitable<std::error_code> TlsTransport::wait_for(int ssl_error) {
  switch (ssl_error) {
    case SSL_ERROR_WANT_READ: {
      auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_read, kUseTuple);
      co_return ec;
    }
    case SSL_ERROR_WANT_WRITE: {
      auto [ec] = co_await socket_.async_wait(asio::ip::tcp::socket::wait_write, kUseTuple);
      co_return ec;
    }
    case SSL_ERROR_ZERO_RETURN:
      co_return asio::error::eof;
    case SSL_ERROR_SYSCALL:
      if (errno != 0) co_return std::error_code(errno, std::system_category());
      co_return asio::error::eof;
    default: {
      failure_ = ERR_peek_error() != 0 ? openssl_errors() : std::string();
      const long verified = SSL_get_verify_result(ssl_);
      if (verified != X509_V_OK) {
        failure_ += std::string(failure_.empty() ? "" : "; ") +
                    "certificate verification: " + X509_verify_cert_error_string(verified);
      }
      co_return std::make_error_code(std::errc::protocol_error);
    }
  }
}

asio::awaitable<std::error_code> TlsTransport::handshake() {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    const int rc = SSL_do_handshake(ssl_);
    if (rc == 1) break;
    const int ssl_error = SSL_get_error(ssl_, rc);
    std::error_code ec = co_await wait_for(ssl_error);
    if (ec) co_return ec;
  }
  info_ = describe_tls(ssl_);
  established_ = true;
  co_return std::error_code{};
}

asio::awaitable<ReadOutcome> TlsTransport::read_some(asio::mutable_buffer buffer) {
  for (;;) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int rc = SSL_read_ex(ssl_, buffer.data(), buffer.size(), &n);
    if (rc == 1) co_return ReadOutcome{std::error_code{}, n};
    const int ssl_error = SSL_get_error(ssl_, rc);
    std::error_code ec = co_await wait_for(ssl_error);
    if (ec) co_return ReadOutcome{ec, 0};
  }
}

asio::awaitable<std::error_code> TlsTransport::write_all(const char* data, std::size_t size) {
  while (size > 0) {
    ERR_clear_error();
    errno = 0;
    std::size_t n = 0;
    const int rc = SSL_write_ex(ssl_, data, size, &n);
    if (rc == 1) {
      data += n;
      size -= n;
      continue;
    }
    const int ssl_error = SSL_get_error(ssl_, rc);
    std::error_code ec = co_await wait_for(ssl_error);
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}

asio::awaitable<std::error_code> TlsTransport::write(std::span<const asio::const_buffer> buffers) {
  const std::size_t total = asio::buffer_size(buffers);
  if (buffers.size() > 1 && total <= kRecordPayload) {
    scratch_.clear();
    for (const asio::const_buffer& b : buffers) {
      scratch_.append(static_cast<const char*>(b.data()), b.size());
    }
    std::error_code ec = co_await write_all(scratch_.data(), scratch_.size());
    co_return ec;
  }
  for (const asio::const_buffer& b : buffers) {
    std::error_code ec = co_await write_all(static_cast<const char*>(b.data()), b.size());
    if (ec) co_return ec;
  }
  co_return std::error_code{};
}

asio::awaitable<std::error_code> TlsTransport::send_file(std::string_view prefix, int fd,
                                                         std::uint64_t offset,
                                                         std::uint64_t length) {
  scratch_.assign(prefix);
  std::size_t filled = scratch_.size();
  while (length > 0 || filled > 0) {
    // Top the piece up to one record from the file, then send it.
    const std::size_t room = kRecordPayload > filled ? kRecordPayload - filled : 0;
    const std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, length));
    if (want > 0) {
      scratch_.resize(filled + want);
      const ssize_t got = ::pread(fd, scratch_.data() + filled, want, static_cast<off_t>(offset));
      if (got < 0) {
        if (errno == EINTR) continue;
        co_return std::error_code(errno, std::system_category());
      }
      if (got == 0) co_return std::make_error_code(std::errc::io_error);  // the file shrank
      filled += static_cast<std::size_t>(got);
      offset += static_cast<std::uint64_t>(got);
      length -= static_cast<std::uint64_t>(got);
    }
    std::error_code ec = co_await write_all(scratch_.data(), filled);
    if (ec) co_return ec;
    filled = 0;
  }
  co_return std::error_code{};
}

bool TlsTransport::idle_and_open() noexcept {
  if (!established_) return false;
  ERR_clear_error();
  errno = 0;
  char byte;
  std::size_t n = 0;
  const int rc = SSL_peek_ex(ssl_, &byte, 1, &n);
  const bool open = rc != 1 && SSL_get_error(ssl_, rc) == SSL_ERROR_WANT_READ;
  ERR_clear_error();
  return open;
}

void TlsTransport::shutdown_send() noexcept {
  if (established_) {
    ERR_clear_error();
    SSL_shutdown(ssl_);  // non-blocking: close_notify leaves now or not at all
    ERR_clear_error();
  }
  std::error_code ec;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_send, ec);
}

void TlsTransport::cancel() noexcept {
  std::error_code ec;
  socket_.cancel(ec);
}

void TlsTransport::close() noexcept {
  std::error_code ec;
  socket_.close(ec);
}

}  // namespace rws::net
