#include "h3/peer_certificate.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>

#include <array>
#include <ctime>
#include <string>

namespace rws::h3 {
namespace {

std::string hex(const unsigned char* data, std::size_t size, const char* digits) {
  std::string text;
  text.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    text += digits[data[i] >> 4];
    text += digits[data[i] & 15];
  }
  return text;
}

// RFC 4514 order (most specific first), as OpenSSL's XN_FLAG_RFC2253 prints it.
std::string take(int rv, gnutls_datum_t& text) {
  std::string out;
  if (rv == 0 && text.data != nullptr) out.assign(reinterpret_cast<char*>(text.data), text.size);
  gnutls_free(text.data);
  return out;
}

}  // namespace

bool describe_peer_certificate(gnutls_session_t session, http::ClientCertificate& out) {
  unsigned int count = 0;
  const gnutls_datum_t* chain = gnutls_certificate_get_peers(session, &count);
  if (chain == nullptr || count == 0) return false;
  gnutls_x509_crt_t crt = nullptr;
  if (gnutls_x509_crt_init(&crt) < 0) return false;
  if (gnutls_x509_crt_import(crt, &chain[0], GNUTLS_X509_FMT_DER) < 0) {
    gnutls_x509_crt_deinit(crt);
    return false;
  }
  gnutls_datum_t text{};
  out.subject = take(gnutls_x509_crt_get_dn3(crt, &text, 0), text);
  text = {};
  out.issuer = take(gnutls_x509_crt_get_issuer_dn3(crt, &text, 0), text);

  std::array<unsigned char, 64> serial{};
  std::size_t serial_size = serial.size();
  if (gnutls_x509_crt_get_serial(crt, serial.data(), &serial_size) == 0) {
    // Whole bytes, upper case, without leading zero bytes (what OpenSSL's BN_bn2hex prints).
    std::size_t first = 0;
    while (first + 1 < serial_size && serial[first] == 0)
      ++first;
    out.serial = hex(serial.data() + first, serial_size - first, "0123456789ABCDEF");
  }
  std::array<unsigned char, 32> digest{};
  std::size_t digest_size = digest.size();
  if (gnutls_x509_crt_get_fingerprint(crt, GNUTLS_DIG_SHA256, digest.data(), &digest_size) == 0) {
    out.sha256_fingerprint = hex(digest.data(), digest_size, "0123456789abcdef");
  }
  const std::time_t expires = gnutls_x509_crt_get_expiration_time(crt);
  std::tm parts{};
  if (expires != static_cast<std::time_t>(-1) && gmtime_r(&expires, &parts) != nullptr) {
    char when[32];
    std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &parts);
    out.not_after = when;
  }
  gnutls_x509_crt_deinit(crt);
  return true;
}

}  // namespace rws::h3
