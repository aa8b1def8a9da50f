#include "server/target_redaction.hpp"

#include <gtest/gtest.h>

namespace rws::server {
namespace {

std::string redacted(std::string_view target) {
  std::string scratch;
  return std::string(redact_target(target, scratch));
}

TEST(TargetRedaction, CredentialNames) {
  for (std::string_view name :
       {"access_token", "token", "password", "passwd", "secret", "api_key", "apikey", "key",
        "signature", "sig", "auth", "TOKEN", "Api_Key", "%74oken", "PassWord"}) {
    EXPECT_TRUE(credential_parameter(name)) << name;
  }
  for (std::string_view name : {"", "tokens", "keys", "monkey", "q", "page", "access_token_x"}) {
    EXPECT_FALSE(credential_parameter(name)) << name;
  }
}

TEST(TargetRedaction, ReplacesOnlyCredentialValues) {
  EXPECT_EQ(redacted("/a?token=abc"), "/a?token=REDACTED");
  EXPECT_EQ(redacted("/a?q=1&Password=hunter2&page=2"), "/a?q=1&Password=REDACTED&page=2");
  EXPECT_EQ(redacted("/a?api_key=x&sig=y"), "/a?api_key=REDACTED&sig=REDACTED");
  EXPECT_EQ(redacted("/a?%6Bey=s3cret#frag"), "/a?%6Bey=REDACTED#frag");
  EXPECT_EQ(redacted("/a?token=abc#token=kept"), "/a?token=REDACTED#token=kept");
}

TEST(TargetRedaction, LeavesOtherTargetsAlone) {
  std::string scratch;
  const std::string_view target = "/token/secret?q=token&monkey=1&token=&auth";
  EXPECT_EQ(redact_target(target, scratch).data(), target.data());  // unchanged, not copied
  EXPECT_EQ(redacted("/plain"), "/plain");
  EXPECT_EQ(redacted("/a?"), "/a?");
  EXPECT_EQ(redacted("/a?&&="), "/a?&&=");
}

}  // namespace
}  // namespace rws::server
