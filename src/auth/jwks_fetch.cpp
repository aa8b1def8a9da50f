#include "auth/jwks_fetch.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string_view>

#include "auth/tls_socket.hpp"

namespace rws::auth {
namespace {

constexpr std::size_t kMaxResponse = 1 << 20;

using Clock = std::chrono::steady_clock;
using Fail = TlsSocket::Fail;  // throws, naming the URL

struct Url {
  bool tls = false;  // https://
  std::string host;  // without brackets
  std::string port;
  std::string target = "/";
  std::string authority;  // for the Host field
};

Url parse_url(const std::string& url, const Fail& fail) {
  std::string_view rest(url);
  Url out;
  if (rest.substr(0, 8) == "https://") {
    out.tls = true;
    out.port = "443";
    rest.remove_prefix(8);
  } else if (rest.substr(0, 7) == "http://") {
    out.port = "80";
    rest.remove_prefix(7);
  } else {
    fail("the URL must start with http:// or https://");
  }
  const std::size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  if (slash != std::string_view::npos) {
    std::string_view target = rest.substr(slash);
    target = target.substr(0, target.find('#'));
    out.target = target.front() == '/' ? std::string(target) : "/" + std::string(target);
  }
  out.authority = std::string(authority);
  if (authority.find('@') != std::string_view::npos) fail("user information in the URL");
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') {
    const std::size_t close = authority.find(']');
    if (close == std::string_view::npos) fail("unterminated IPv6 address");
    host = authority.substr(1, close - 1);
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') fail("malformed host");
      out.port = std::string(after.substr(1));
    }
  } else if (const std::size_t colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    out.port = std::string(authority.substr(colon + 1));
  }
  if (host.empty()) fail("no host");
  unsigned port = 0;
  auto [end, ec] = std::from_chars(out.port.data(), out.port.data() + out.port.size(), port);
  if (ec != std::errc() || end != out.port.data() + out.port.size() || port == 0 || port > 65535) {
    fail("bad port");
  }
  out.host = std::string(host);
  return out;
}

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

void send_plain(int fd, const std::string& request, Clock::time_point deadline, const Fail& fail) {
  std::size_t sent = 0;
  while (sent < request.size()) {
    const ssize_t n = ::send(fd, request.data() + sent, request.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EINTR)
      fail(std::string("send: ") + std::strerror(errno));
    pollfd p{fd, POLLOUT, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) != 1) fail("timed out sending the request");
  }
}

// Everything until the server closes (at most kMaxResponse bytes).
std::string read_plain(int fd, Clock::time_point deadline, const Fail& fail) {
  std::string response;
  char buffer[16384];
  for (;;) {
    const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
    if (n > 0) {
      response.append(buffer, static_cast<std::size_t>(n));
      if (response.size() > kMaxResponse) fail("response larger than 1 MiB");
      continue;
    }
    if (n == 0) return response;
    if (errno != EAGAIN && errno != EINTR) fail(std::string("recv: ") + std::strerror(errno));
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, remaining_ms(deadline)) != 1) fail("timed out reading the response");
  }
}

std::string read_tls(TlsSocket& tls, const Fail& fail) {
  std::string response;
  char buffer[16384];
  for (;;) {
    const std::size_t n = tls.read_some(buffer, sizeof buffer);
    if (n == 0) return response;
    response.append(buffer, n);
    if (response.size() > kMaxResponse) fail("response larger than 1 MiB");
  }
}

// Decodes a chunked body; false when it is incomplete or malformed.
bool dechunk(std::string_view in, std::string& out) {
  for (;;) {
    const std::size_t eol = in.find("\r\n");
    if (eol == std::string_view::npos) return false;
    std::string_view size_text = in.substr(0, in.find_first_of(";\r"));
    std::size_t size = 0;
    auto [end, ec] =
        std::from_chars(size_text.data(), size_text.data() + size_text.size(), size, 16);
    if (ec != std::errc() || end != size_text.data() + size_text.size()) return false;
    in.remove_prefix(eol + 2);
    if (size == 0) return true;  // trailers are ignored
    if (in.size() < size + 2 || in.substr(size, 2) != "\r\n") return false;
    out.append(in.substr(0, size));
    in.remove_prefix(size + 2);
  }
}

bool header_is(std::string_view head, std::string_view name, std::string_view value,
               std::string* found = nullptr) {
  std::size_t pos = 0;
  while ((pos = head.find("\r\n", pos)) != std::string_view::npos) {
    pos += 2;
    std::string_view line = head.substr(pos, head.find("\r\n", pos) - pos);
    const std::size_t colon = line.find(':');
    if (colon != name.size()) continue;
    bool same = true;
    for (std::size_t i = 0; i < colon; ++i)
      same = same && std::tolower(static_cast<unsigned char>(line[i])) == name[i];
    if (!same) continue;
    std::string_view v = line.substr(colon + 1);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
      v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t'))
      v.remove_suffix(1);
    if (found != nullptr) {
      *found = std::string(v);
      return true;
    }
    if (v.size() != value.size()) return false;
    for (std::size_t i = 0; i < v.size(); ++i) {
      if (std::tolower(static_cast<unsigned char>(v[i])) != value[i]) return false;
    }
    return true;
  }
  return false;
}

}  // namespace

std::string http_get(const std::string& url, std::chrono::milliseconds timeout) {
  const Fail fail = [&url](const std::string& problem) {
    throw std::runtime_error(url + ": " + problem);
  };
  const Url u = parse_url(url, fail);
  const Clock::time_point deadline = Clock::now() + timeout;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = ::getaddrinfo(u.host.c_str(), u.port.c_str(), &hints, &found); rc != 0) {
    fail(std::string("cannot resolve the host: ") + ::gai_strerror(rc));
  }
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> addresses(found, ::freeaddrinfo);

  int fd = -1;
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) continue;
    int err = 0;
    if (::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      err = errno;
      if (err == EINPROGRESS) {
        pollfd p{fd, POLLOUT, 0};
        err = ETIMEDOUT;
        socklen_t len = sizeof err;
        if (::poll(&p, 1, remaining_ms(deadline)) == 1) {
          ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        }
      }
    }
    if (err != 0) {
      last_error = std::strerror(err);
      ::close(fd);
      fd = -1;
    }
  }
  if (fd < 0) fail("cannot connect: " + last_error);
  struct FdCloser {
    int fd;
    ~FdCloser() { ::close(fd); }
  } closer{fd};

  const std::string request = "GET " + u.target + " HTTP/1.1\r\nHost: " + u.authority +
                              "\r\nAccept: application/json\r\nConnection: close\r\n"
                              "User-Agent: rws\r\n\r\n";
  std::string response;
  if (u.tls) {
    TlsSocket tls(fd, u.host, deadline, fail);
    tls.write_all(request);
    response = read_tls(tls, fail);
  } else {
    send_plain(fd, request, deadline, fail);
    response = read_plain(fd, deadline, fail);
  }

  const std::size_t head_end = response.find("\r\n\r\n");
  if (head_end == std::string::npos) fail("incomplete response");
  std::string_view head(response.data(), head_end + 2);
  std::string_view body(response.data() + head_end + 4, response.size() - head_end - 4);
  if (head.substr(0, 7) != "HTTP/1." || head.size() < 12 || head[8] != ' ') {
    fail("not an HTTP/1 response");
  }
  if (head.substr(9, 3) != "200") {
    fail("status " + std::string(head.substr(9, 3)) + " (expected 200)");
  }
  if (header_is(head, "transfer-encoding", "chunked")) {
    std::string decoded;
    if (!dechunk(body, decoded)) fail("malformed or incomplete chunked body");
    return decoded;
  }
  std::string length_text;
  if (header_is(head, "content-length", "", &length_text)) {
    std::size_t length = 0;
    auto [end, ec] =
        std::from_chars(length_text.data(), length_text.data() + length_text.size(), length);
    if (ec != std::errc() || end != length_text.data() + length_text.size()) {
      fail("bad Content-Length");
    }
    if (body.size() < length) fail("response body shorter than its Content-Length");
    body = body.substr(0, length);
  }
  return std::string(body);
}

}  // namespace rws::auth
