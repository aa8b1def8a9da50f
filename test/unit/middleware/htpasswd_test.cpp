// Hashes in the fixture come from htpasswd, openssl and Python's crypt
// (test/support/make_htpasswd_fixtures.sh), not from rws.

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include <rws/auth/htpasswd.hpp>

namespace rws::auth {
namespace {

const std::string kFile = "middleware/fixtures/htpasswd/users.htpasswd";

struct User {
  const char* name;
  const char* password;
  bool slow;
};
constexpr User kUsers[] = {
    {"bob", "bcrypt-pw", true},  {"judy", "bcrypt-2b", true},   {"carol", "apr1:pw", false},
    {"dave", "pässwörd", false}, {"erin", "sha256-pw", false},  {"frank", "plain-pw", false},
    {"gina", "md5-pw", true},    {"hank", "sha256crypt", true}, {"ivy", "sha512crypt", true},
};

TEST(Htpasswd, EveryHashKindAcceptsItsPasswordAndNothingElse) {
  const Htpasswd users = Htpasswd::load(kFile);
  EXPECT_EQ(users.size(), std::size(kUsers));
  for (const User& u : kUsers) {
    SCOPED_TRACE(u.name);
    EXPECT_TRUE(users.verify(u.name, u.password));
    EXPECT_EQ(users.slow(u.name), u.slow);
    const std::string password = u.password;
    EXPECT_FALSE(users.verify(u.name, password + "x"));
    EXPECT_FALSE(users.verify(u.name, password.substr(0, password.size() - 1)));
    EXPECT_FALSE(users.verify(u.name, ""));
    EXPECT_FALSE(users.verify(u.name, password + std::string(1, '\0')));
  }
  // Another user's password, an unknown user, user names compared exactly.
  EXPECT_FALSE(users.verify("bob", "plain-pw"));
  EXPECT_FALSE(users.verify("nobody", "plain-pw"));
  EXPECT_FALSE(users.verify("Frank", "plain-pw"));
  // The file has bcrypt hashes: an unknown user costs the same hashing (and is as slow).
  EXPECT_TRUE(users.slow("nobody"));
}

TEST(Htpasswd, UnknownUsersAreFastOnlyWhenEveryHashIsFast) {
  const Htpasswd fast = Htpasswd::parse("carol:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n", "fast");
  EXPECT_FALSE(fast.slow("nobody"));
  EXPECT_FALSE(fast.verify("nobody", "password"));
}

TEST(Htpasswd, KnownApr1AndShaVectors) {
  // Apache's documentation example (htpasswd -m, password "myPassword") and SHA-1 of
  // "password"; CRLF line ends and comments are fine.
  const Htpasswd users = Htpasswd::parse(
      "# comment\r\n\r\nmyName:$apr1$r31.....$HqJZimcKQFAMYayBlzkrA/\r\n"
      "sha:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n",
      "inline");
  EXPECT_TRUE(users.verify("myName", "myPassword"));
  EXPECT_FALSE(users.verify("myName", "mypassword"));
  EXPECT_TRUE(users.verify("sha", "password"));
}

std::string parse_error(const std::string& text) {
  try {
    Htpasswd::parse(text, "users.txt");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "(accepted)";
}

TEST(Htpasswd, MalformedLinesAreErrorsWithFileAndLine) {
  EXPECT_EQ(parse_error("ok:pw\nno-colon\n"), "users.txt:2: expected 'user:hash'");
  EXPECT_EQ(parse_error(":pw\n"), "users.txt:1: empty user name");
  EXPECT_EQ(parse_error("# c\nu:\n"), "users.txt:2: empty password hash for user 'u'");
  EXPECT_EQ(parse_error("u:a\nu:b\n"), "users.txt:2: user 'u' appears twice");
  EXPECT_EQ(parse_error("u:$2y$05$short\n"), "users.txt:1: malformed bcrypt hash for user 'u'");
  EXPECT_EQ(parse_error("u:$apr1$salt$tooshort\n"),
            "users.txt:1: malformed $apr1$ hash for user 'u'");
  EXPECT_EQ(parse_error("u:{SHA}bm90IDIwIGJ5dGVz\n"),
            "users.txt:1: malformed {SHA} hash for user 'u'");
  EXPECT_EQ(parse_error("u:{SHA256}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n"),
            "users.txt:1: malformed {SHA256} hash for user 'u'");
  // Never silently a plain-text password: unknown schemes are refused.
  EXPECT_NE(parse_error("u:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\n")
                .find("users.txt:1: unsupported hash scheme"),
            std::string::npos);
  EXPECT_NE(parse_error("u:{SSHA}abc\n").find("unsupported hash scheme"), std::string::npos);
  EXPECT_NE(parse_error("u:$6$rounds=1$\n").find("malformed crypt hash"), std::string::npos);
}

TEST(Htpasswd, UnreadableFileNamesThePath) {
  try {
    Htpasswd::load("middleware/fixtures/htpasswd/missing");
    FAIL() << "loaded a missing file";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "middleware/fixtures/htpasswd/missing: cannot read: No such file or directory");
  }
  EXPECT_THROW(Htpasswd::load("middleware/fixtures/htpasswd"), std::runtime_error);
}

}  // namespace
}  // namespace rws::auth
