#include "h3/credentials.hpp"

#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>

#include "../net/test_certificates.hpp"

namespace rws::h3 {
namespace {

// One direction of an in-memory transport between two GnuTLS sessions.
struct Wire {
  std::string bytes;
  gnutls_session_t reader = nullptr;
};

ssize_t push(gnutls_transport_ptr_t p, const void* data, size_t size) {
  static_cast<Wire*>(p)->bytes.append(static_cast<const char*>(data), size);
  return static_cast<ssize_t>(size);
}

ssize_t pull(gnutls_transport_ptr_t p, void* data, size_t size) {
  Wire& w = *static_cast<Wire*>(p);
  if (w.bytes.empty()) {
    gnutls_transport_set_errno(w.reader, EAGAIN);
    return -1;
  }
  const std::size_t n = std::min(size, w.bytes.size());
  std::memcpy(data, w.bytes.data(), n);
  w.bytes.erase(0, n);
  return static_cast<ssize_t>(n);
}

// Runs a TLS 1.3 handshake between a client sending `sni` (none when empty) and a server with
// `credentials` (the priorities and certificates the QUIC sessions use); returns the common
// name of the certificate the client received ("" when the handshake failed).
std::string served_common_name(const Credentials& credentials, const std::string& sni) {
  gnutls_session_t server = nullptr;
  gnutls_session_t client = nullptr;
  gnutls_certificate_credentials_t client_credentials = nullptr;
  gnutls_init(&server, GNUTLS_SERVER | GNUTLS_NONBLOCK);
  gnutls_init(&client, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
  gnutls_certificate_allocate_credentials(&client_credentials);
  gnutls_priority_set(server, credentials.priority());
  gnutls_credentials_set(server, GNUTLS_CRD_CERTIFICATE, credentials.certificates());
  gnutls_set_default_priority(client);
  gnutls_credentials_set(client, GNUTLS_CRD_CERTIFICATE, client_credentials);
  if (!sni.empty()) gnutls_server_name_set(client, GNUTLS_NAME_DNS, sni.data(), sni.size());
  Wire to_server{{}, server};
  Wire to_client{{}, client};
  gnutls_transport_set_ptr2(server, &to_server, &to_client);
  gnutls_transport_set_ptr2(client, &to_client, &to_server);
  for (gnutls_session_t s : {server, client}) {
    gnutls_transport_set_push_function(s, push);
    gnutls_transport_set_pull_function(s, pull);
  }
  int client_rv = GNUTLS_E_AGAIN;
  int server_rv = GNUTLS_E_AGAIN;
  for (int i = 0; i < 20 && (client_rv != 0 || server_rv != 0); ++i) {
    if (client_rv != 0) client_rv = gnutls_handshake(client);
    if (server_rv != 0) server_rv = gnutls_handshake(server);
  }
  std::string name;
  unsigned int count = 0;
  const gnutls_datum_t* peers = gnutls_certificate_get_peers(client, &count);
  if (client_rv == 0 && server_rv == 0 && peers != nullptr && count > 0) {
    gnutls_x509_crt_t crt = nullptr;
    gnutls_x509_crt_init(&crt);
    if (gnutls_x509_crt_import(crt, &peers[0], GNUTLS_X509_FMT_DER) == 0) {
      char buffer[256];
      std::size_t size = sizeof buffer;
      if (gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, buffer, &size) ==
          0) {
        name.assign(buffer, size);
      }
    }
    gnutls_x509_crt_deinit(crt);
  }
  gnutls_deinit(client);
  gnutls_deinit(server);
  gnutls_certificate_free_credentials(client_credentials);
  return name;
}

class CredentialsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rws-h3-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    main_ = test::write_self_signed(dir_, "main", "main.test");
    other_ = test::write_self_signed(dir_, "other", "api.example.test");
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  std::string dir_;
  test::PemFiles main_;
  test::PemFiles other_;
};

TEST_F(CredentialsTest, LoadsTheDefaultAndVirtualHostCertificates) {
  net::TlsSettings s;
  s.default_certificate = {"", main_.cert, main_.key};
  s.virtual_hosts = {{"api.example.test", other_.cert, other_.key}};
  auto loaded = Credentials::load(s);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_NE((*loaded)->certificates(), nullptr);
  EXPECT_NE((*loaded)->priority(), nullptr);
}

TEST_F(CredentialsTest, TheCertificateIsChosenBySniWithTheDefaultAsFallback) {
  net::TlsSettings s;
  s.default_certificate = {"", main_.cert, main_.key};
  s.virtual_hosts = {{"api.example.test", other_.cert, other_.key}};
  auto loaded = Credentials::load(s);
  ASSERT_TRUE(loaded) << loaded.error();
  EXPECT_EQ(served_common_name(**loaded, "api.example.test"), "api.example.test");
  EXPECT_EQ(served_common_name(**loaded, "main.test"), "main.test");
  EXPECT_EQ(served_common_name(**loaded, "unknown.test"), "main.test");
  EXPECT_EQ(served_common_name(**loaded, ""), "main.test");
}

TEST_F(CredentialsTest, AMissingFileIsAnErrorNamingIt) {
  net::TlsSettings s;
  s.default_certificate = {"", main_.cert, dir_ + "/absent.key"};
  auto loaded = Credentials::load(s);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find(dir_ + "/absent.key"), std::string::npos) << loaded.error();
}

TEST_F(CredentialsTest, AKeyThatDoesNotMatchItsVirtualHostCertificateIsAnError) {
  net::TlsSettings s;
  s.default_certificate = {"", main_.cert, main_.key};
  s.virtual_hosts = {{"api.example.test", other_.cert, main_.key}};
  auto loaded = Credentials::load(s);
  ASSERT_FALSE(loaded);
  EXPECT_NE(loaded.error().find(other_.cert), std::string::npos) << loaded.error();
}

}  // namespace
}  // namespace rws::h3
