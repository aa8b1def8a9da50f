#include "app/static/directory_listing.hpp"

#include <gtest/gtest.h>

namespace rws::app {
namespace {

TEST(DirectoryListing, SortsEscapesAndEncodes) {
  Listing listing;
  listing.entries = {
      {"zeta.txt", false, 10, 0}, {"<b>&\"x'.txt", false, 5, 86400},
      {"alpha", true, 0, 0},      {"a b", false, 1, 0},
      {"c:d", false, 2, 0},
  };
  std::string html = render_listing("/dir <x>/", listing);
  EXPECT_NE(html.find("<title>Index of /dir &lt;x&gt;/</title>"), std::string::npos);
  EXPECT_NE(html.find("<a href=\"../\">../</a>"), std::string::npos);
  // Directories first, then files by name.
  std::size_t alpha = html.find(">alpha/</a>");
  std::size_t ab = html.find(">a b</a>");
  std::size_t tag = html.find(">&lt;b&gt;&amp;&quot;x&#39;.txt</a>");
  std::size_t zeta = html.find(">zeta.txt</a>");
  ASSERT_NE(alpha, std::string::npos);
  ASSERT_NE(ab, std::string::npos);
  ASSERT_NE(tag, std::string::npos);
  ASSERT_NE(zeta, std::string::npos);
  EXPECT_LT(alpha, ab);
  EXPECT_LT(tag, ab);  // '<' sorts before 'a'
  EXPECT_LT(ab, zeta);
  EXPECT_NE(html.find("href=\"alpha/\""), std::string::npos);
  EXPECT_NE(html.find("href=\"a%20b\""), std::string::npos);
  EXPECT_NE(html.find("href=\"%3Cb%3E&amp;%22x&#39;.txt\""), std::string::npos);
  EXPECT_NE(html.find("href=\"./c:d\""), std::string::npos);  // not a URL scheme
  EXPECT_NE(html.find("1970-01-02 00:00"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
}

TEST(DirectoryListing, RootHasNoParentLink) {
  std::string html = render_listing("/", Listing{});
  EXPECT_EQ(html.find("href=\"../\""), std::string::npos);
  Listing truncated;
  truncated.truncated = true;
  EXPECT_NE(render_listing("/", truncated).find("truncated"), std::string::npos);
}

TEST(HtmlEscape, AllSpecialCharacters) {
  EXPECT_EQ(html_escape("<a href='x'>\"&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
}

}  // namespace
}  // namespace rws::app
