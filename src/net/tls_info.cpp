// describe_tls (declared in net/tls_context.hpp): what a handshake negotiated, as plain strings.
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <ctime>

#include "net/tls_context.hpp"

namespace rws::net {
namespace {

std::string distinguished_name(const X509_NAME* name) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (bio == nullptr) return {};
  X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253);
  char* data = nullptr;
  long length = BIO_get_mem_data(bio, &data);
  std::string text(data, static_cast<std::size_t>(length > 0 ? length : 0));
  BIO_free(bio);
  return text;
}

std::string serial_hex(const X509* cert) {
  BIGNUM* number = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
  if (number == nullptr) return {};
  char* hex = BN_bn2hex(number);
  std::string text = hex ? hex : "";
  OPENSSL_free(hex);
  BN_free(number);
  return text;
}

std::string sha256_hex(const X509* cert) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (X509_digest(cert, EVP_sha256(), digest, &length) != 1) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < length; ++i) {
    text += kHex[digest[i] >> 4];
    text += kHex[digest[i] & 15];
  }
  return text;
}

std::string iso8601(const ASN1_TIME* time) {
  std::tm parts{};
  if (ASN1_TIME_to_tm(time, &parts) != 1) return {};
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &parts);
  return text;
}

}  // namespace

http::TlsInfo describe_tls(SSL* ssl) {
  http::TlsInfo info;
  if (const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name)) {
    info.server_name = name;
  }
  const unsigned char* alpn = nullptr;
  unsigned int alpn_length = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_length);
  if (alpn != nullptr) info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_length);
  info.version = SSL_get_version(ssl);
  if (const char* cipher = SSL_get_cipher_name(ssl)) info.cipher = cipher;
  info.resumed = SSL_session_reused(ssl) == 1;
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert != nullptr) {
    if (SSL_get_verify_result(ssl) == X509_V_OK) {
      info.has_client_certificate = true;
      info.client_certificate.subject = distinguished_name(X509_get_subject_name(cert));
      info.client_certificate.issuer = distinguished_name(X509_get_issuer_name(cert));
      info.client_certificate.serial = serial_hex(cert);
      info.client_certificate.sha256_fingerprint = sha256_hex(cert);
      info.client_certificate.not_after = iso8601(X509_get0_notAfter(cert));
    }
    X509_free(cert);
  }
  return info;
}

}  // namespace rws::net
