#include "ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/sha.h>

#include <array>

namespace rws::ws {

namespace {

constexpr std::string_view kGuid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

bool is_base64_char(char c) noexcept {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

// base64 of 16 bytes: 22 significant characters and "==" (§4.1: "randomly selected 16-byte
// value that has been base64-encoded"). The 22nd character carries only 2 significant bits, so
// the remaining 4 must be zero for the encoding to be canonical.
bool is_16_byte_base64(std::string_view key) noexcept {
  if (key.size() != 24 || key.substr(22) != "==") return false;
  for (std::size_t i = 0; i < 22; ++i) {
    if (!is_base64_char(key[i])) return false;
  }
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  return (kAlphabet.find(key[21]) & 0x0F) == 0;
}

HandshakeCheck problem(HandshakeProblem p, int status, std::string_view reason) {
  return HandshakeCheck{p, status, reason};
}

}  // namespace

std::string accept_key(std::string_view sec_websocket_key) {
  std::string input(sec_websocket_key);
  input.append(kGuid);
  std::array<unsigned char, SHA_DIGEST_LENGTH> digest{};
  SHA1(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest.data());
  std::array<unsigned char, 4 * ((SHA_DIGEST_LENGTH + 2) / 3) + 1> encoded{};
  const int n = EVP_EncodeBlock(encoded.data(), digest.data(), SHA_DIGEST_LENGTH);
  return std::string(reinterpret_cast<const char*>(encoded.data()), static_cast<std::size_t>(n));
}

HandshakeCheck check_upgrade_request(const http::RequestHead& head) {
  if (head.method != "GET") return problem(HandshakeProblem::kNotGet, 405, "method is not GET");
  if (head.version < 11) {
    return problem(HandshakeProblem::kOldHttpVersion, 400, "HTTP version below 1.1");
  }
  if (!http::list_contains(head.headers.joined("upgrade"), "websocket")) {
    return problem(HandshakeProblem::kNoUpgradeToken, 400, "Upgrade does not list websocket");
  }
  if (!http::list_contains(head.headers.joined("connection"), "upgrade")) {
    return problem(HandshakeProblem::kNoConnectionToken, 400, "Connection does not list upgrade");
  }
  if (head.headers.count("sec-websocket-version") != 1 ||
      head.headers.get("sec-websocket-version") != "13") {
    return problem(HandshakeProblem::kBadVersion, 426, "Sec-WebSocket-Version is not 13");
  }
  if (head.headers.count("sec-websocket-key") != 1 ||
      !is_16_byte_base64(head.headers.get("sec-websocket-key"))) {
    return problem(HandshakeProblem::kBadKey, 400,
                   "Sec-WebSocket-Key is not a 16-byte base64 value");
  }
  return HandshakeCheck{};
}

}  // namespace rws::ws
