#include "net/tls_context.hpp"

#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "test_certificates.hpp"

namespace rws::net {
namespace {

class TlsContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/rws-tls-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    dir_ = pattern;
    main_ = test::write_self_signed(dir_, "main", "main.test");
    wild_ = test::write_self_signed(dir_, "wild", "*.example.test");
    exact_ = test::write_self_signed(dir_, "exact", "api.example.test");
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  TlsSettings settings() const {
    TlsSettings s;
    s.default_certificate = {"", main_.cert, main_.key};
    s.virtual_hosts = {{"*.example.test", wild_.cert, wild_.key},
                       {"API.example.test", exact_.cert, exact_.key}};
    return s;
  }

  // The common name of the certificate `ctx` serves.
  static std::string served_name(SSL_CTX* ctx) {
    X509* cert = SSL_CTX_get0_certificate(ctx);
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof name);
    return name;
  }

  std::string dir_;
  test::PemFiles main_, wild_, exact_;
};

TEST_F(TlsContextTest, PicksExactNamesBeforeWildcardsCaseInsensitively) {
  auto context = TlsContext::load(settings());
  ASSERT_TRUE(context) << context.error();
  const TlsContext& c = **context;
  ASSERT_NE(c.context_for("api.example.test"), nullptr);
  EXPECT_EQ(served_name(c.context_for("API.Example.Test")), "api.example.test");
  EXPECT_EQ(served_name(c.context_for("www.example.test")), "*.example.test");
  EXPECT_EQ(served_name(c.context_for("www.example.test.")), "*.example.test");
}

TEST_F(TlsContextTest, WildcardsCoverExactlyOneLabelAndUnknownNamesGetTheDefault) {
  auto context = TlsContext::load(settings());
  ASSERT_TRUE(context) << context.error();
  const TlsContext& c = **context;
  EXPECT_EQ(c.context_for("a.b.example.test"), nullptr);
  EXPECT_EQ(c.context_for("example.test"), nullptr);
  EXPECT_EQ(c.context_for("other.test"), nullptr);
  EXPECT_EQ(c.context_for(""), nullptr);
  SSL* ssl = c.new_connection();
  ASSERT_NE(ssl, nullptr);
  EXPECT_EQ(served_name(SSL_get_SSL_CTX(ssl)), "main.test");
  SSL_free(ssl);
}

TEST_F(TlsContextTest, AKeyOfAnotherCertificateIsRefusedNamingBothFiles) {
  TlsSettings s = settings();
  s.default_certificate.key_file = wild_.key;
  auto context = TlsContext::load(s);
  ASSERT_FALSE(context);
  EXPECT_EQ(context.error(),
            "key file '" + wild_.key + "' does not match certificate '" + main_.cert + "'");
}

TEST_F(TlsContextTest, UnparsableFilesAreRefusedNamingTheFileAndTheVirtualHost) {
  const std::string garbage = dir_ + "/garbage.pem";
  std::ofstream(garbage) << "not PEM\n";
  TlsSettings s = settings();
  s.default_certificate.cert_file = garbage;
  auto context = TlsContext::load(s);
  ASSERT_FALSE(context);
  EXPECT_EQ(context.error().rfind("certificate file '" + garbage + "' cannot be used: ", 0), 0u)
      << context.error();

  s = settings();
  s.virtual_hosts[0].key_file = garbage;
  context = TlsContext::load(s);
  ASSERT_FALSE(context);
  EXPECT_EQ(context.error().rfind(
                "virtual host '*.example.test': key file '" + garbage + "' cannot be used: ", 0),
            0u)
      << context.error();

  s = settings();
  s.client_ca_file = garbage;
  context = TlsContext::load(s);
  ASSERT_FALSE(context);
  EXPECT_EQ(context.error().rfind("client CA file '" + garbage + "' cannot be used", 0), 0u)
      << context.error();
}

TEST_F(TlsContextTest, AClientCaMakesTheClientCertificateMandatory) {
  TlsSettings s = settings();
  s.client_ca_file = wild_.cert;
  auto context = TlsContext::load(s);
  ASSERT_TRUE(context) << context.error();
  SSL* ssl = (*context)->new_connection();
  EXPECT_EQ(SSL_get_verify_mode(ssl), SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT);
  SSL_free(ssl);
  auto plain = TlsContext::load(settings());
  ASSERT_TRUE(plain);
  ssl = (*plain)->new_connection();
  EXPECT_EQ(SSL_get_verify_mode(ssl), SSL_VERIFY_NONE);
  SSL_free(ssl);
}

TEST_F(TlsContextTest, OnlyTls12AndNewerAreOffered) {
  auto context = TlsContext::load(settings());
  ASSERT_TRUE(context);
  SSL* ssl = (*context)->new_connection();
  EXPECT_EQ(SSL_get_min_proto_version(ssl), TLS1_2_VERSION);
  SSL_free(ssl);
}

}  // namespace
}  // namespace rws::net
