#include "auth/tls_socket.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>

#include <cerrno>
#include <cstring>

#include <rws/http/cidr.hpp>

#include "core/openssl_errors.hpp"

namespace rws::auth {
namespace {}  // namespace

TlsSocket::TlsSocket(int fd, const std::string& host, Clock::time_point deadline, const Fail& fail)
    : fd_(fd),
      deadline_(deadline),
      fail_(fail),
      ctx_(nullptr, SSL_CTX_free),
      ssl_(nullptr, SSL_free) {
  ERR_clear_error();
  ctx_.reset(SSL_CTX_new(TLS_client_method()));
  if (!ctx_) fail_("cannot create a TLS context: " + openssl_errors());
  SSL_CTX* ctx = ctx_.get();
  SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
  // A close without close_notify ends the response like a TCP close does (the body's own
  // framing, or the JSON parse, catches a truncated document).
  SSL_CTX_set_options(
      ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_IGNORE_UNEXPECTED_EOF);
  if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
    fail_("the system's trust store cannot be loaded: " + openssl_errors());
  }
  ssl_.reset(SSL_new(ctx));
  if (!ssl_) fail_("cannot set up TLS: " + openssl_errors());
  SSL* ssl = ssl_.get();
  bool ok = SSL_set_fd(ssl, fd_) == 1;
  SSL_set_verify(ssl, SSL_VERIFY_PEER, nullptr);
  if (http::parse_ip(host).has_value()) {
    ok = ok && X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), host.c_str()) == 1;
  } else {
    X509_VERIFY_PARAM_set_hostflags(SSL_get0_param(ssl), X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    ok = ok && SSL_set_tlsext_host_name(ssl, host.c_str()) == 1 &&
         SSL_set1_host(ssl, host.c_str()) == 1;
  }
  if (!ok) fail_("cannot set up TLS for '" + host + "': " + openssl_errors());
  for (;;) {
    errno = 0;
    const int result = SSL_connect(ssl);
    if (result == 1) return;
    if (const long verify = SSL_get_verify_result(ssl); verify != X509_V_OK) {
      ERR_clear_error();
      fail_(std::string("TLS handshake: certificate verification failed: ") +
            X509_verify_cert_error_string(verify));
    }
    wait(result, "TLS handshake");
  }
}

void TlsSocket::write_all(std::string_view data) {
  while (!data.empty()) {
    std::size_t written = 0;
    errno = 0;
    const int result = SSL_write_ex(ssl_.get(), data.data(), data.size(), &written);
    if (result == 1) {
      data.remove_prefix(written);
      continue;
    }
    wait(result, "sending the request");
  }
}

std::size_t TlsSocket::read_some(char* buffer, std::size_t size) {
  for (;;) {
    std::size_t got = 0;
    errno = 0;
    const int result = SSL_read_ex(ssl_.get(), buffer, size, &got);
    if (result == 1) return got;
    if (SSL_get_error(ssl_.get(), result) == SSL_ERROR_ZERO_RETURN) return 0;
    wait(result, "reading the response");
  }
}

void TlsSocket::wait(int result, const char* step) {
  short events = 0;
  const int saved_errno = errno;
  switch (SSL_get_error(ssl_.get(), result)) {
    case SSL_ERROR_WANT_READ:
      events = POLLIN;
      break;
    case SSL_ERROR_WANT_WRITE:
      events = POLLOUT;
      break;
    case SSL_ERROR_SYSCALL:
      if (saved_errno == EINTR) return;  // try again
      fail_(std::string(step) + ": " +
            (saved_errno != 0 ? std::strerror(saved_errno) : "the connection was closed"));
      return;
    case SSL_ERROR_ZERO_RETURN:
      fail_(std::string(step) + ": the connection was closed");
      return;
    default:
      fail_(std::string(step) + ": " + openssl_errors());
      return;
  }
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline_ - Clock::now());
  pollfd p{fd_, events, 0};
  if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) != 1) {
    fail_(std::string("timed out: ") + step);
  }
}

}  // namespace rws::auth
