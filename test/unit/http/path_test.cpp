#include "http/path.hpp"

#include <gtest/gtest.h>

namespace rws::http {
namespace {

std::string norm(std::string_view raw) {
  std::string out;
  EXPECT_EQ(normalize_path(raw, out), PathError::kNone) << raw;
  return out;
}

PathError norm_error(std::string_view raw) {
  std::string out;
  return normalize_path(raw, out);
}

TEST(Path, Normalizes) {
  EXPECT_EQ(norm("/"), "/");
  EXPECT_EQ(norm("/a/b"), "/a/b");
  EXPECT_EQ(norm("/a/b/"), "/a/b/");
  EXPECT_EQ(norm("//a///b"), "/a/b");
  EXPECT_EQ(norm("/a/./b"), "/a/b");
  EXPECT_EQ(norm("/a/b/.."), "/a/");
  EXPECT_EQ(norm("/a/b/."), "/a/b/");
  EXPECT_EQ(norm("/a/../b"), "/b");
  EXPECT_EQ(norm("/a/.."), "/");
  EXPECT_EQ(norm("/a%20b/c%2Fd"), "/a b/c/d");
  EXPECT_EQ(norm("/a/%2e%2E/"), "/");
  EXPECT_EQ(norm("/a/%2e%2e/b"), "/b");
  EXPECT_EQ(norm("/a/..%2fb"), "/b");
  EXPECT_EQ(norm("/%252e%252e/x"), "/%2e%2e/x");  // decoded once only
  EXPECT_EQ(norm("/...."), "/....");
  EXPECT_EQ(norm("/caf%C3%A9"), "/caf\xC3\xA9");
}

TEST(Path, RejectsTraversalAndBadBytes) {
  EXPECT_EQ(norm_error("/.."), PathError::kEscapesRoot);
  EXPECT_EQ(norm_error("/../etc/passwd"), PathError::kEscapesRoot);
  EXPECT_EQ(norm_error("/a/../../etc/passwd"), PathError::kEscapesRoot);
  EXPECT_EQ(norm_error("/%2e%2e/etc/passwd"), PathError::kEscapesRoot);
  EXPECT_EQ(norm_error("/%2e%2e%2fetc/passwd"), PathError::kEscapesRoot);
  EXPECT_EQ(norm_error("/..%5c..%5cetc"), PathError::kBackslash);
  EXPECT_EQ(norm_error("/a%5c..%5c..%5cetc"), PathError::kBackslash);
  EXPECT_EQ(norm_error("/a%00.html"), PathError::kNul);
  EXPECT_EQ(norm_error("/a%zz"), PathError::kBadEncoding);
  EXPECT_EQ(norm_error("/a%2"), PathError::kBadEncoding);
  EXPECT_EQ(norm_error("/a%"), PathError::kBadEncoding);
  EXPECT_EQ(norm_error("a/b"), PathError::kNotAbsolute);
  EXPECT_EQ(norm_error(""), PathError::kNotAbsolute);
}

TEST(Path, EncodesForLinks) {
  EXPECT_EQ(percent_encode_path("/a b/c?d%e#f\"g<h>"), "/a%20b/c%3Fd%25e%23f%22g%3Ch%3E");
  EXPECT_EQ(percent_encode_path("/caf\xC3\xA9"), "/caf%C3%A9");
  EXPECT_EQ(percent_encode_path("/plain-name_1.txt"), "/plain-name_1.txt");
}

}  // namespace
}  // namespace rws::http
