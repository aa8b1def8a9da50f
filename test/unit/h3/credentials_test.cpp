#include "h3/credentials.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>

#include "../net/test_certificates.hpp"

namespace rws::h3 {
namespace {

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
