#include "http/mime.hpp"

#include <gtest/gtest.h>

#include <cctype>
#include <string>
#include <string_view>

namespace rws::http {
namespace {

constexpr std::string_view kOctet = "application/octet-stream";

TEST(MimeTest, CommonWebTypes) {
  EXPECT_EQ(mime_type_for_path("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("index.htm"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("/static/site.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("app.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("app.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("app.cjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("data.json"), "application/json; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("app.js.map"), "application/json; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("logo.svg"), "image/svg+xml; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("logo.png"), "image/png");
  EXPECT_EQ(mime_type_for_path("photo.jpg"), "image/jpeg");
  EXPECT_EQ(mime_type_for_path("photo.jpeg"), "image/jpeg");
  EXPECT_EQ(mime_type_for_path("photo.jfif"), "image/jpeg");
  EXPECT_EQ(mime_type_for_path("a.gif"), "image/gif");
  EXPECT_EQ(mime_type_for_path("a.webp"), "image/webp");
  EXPECT_EQ(mime_type_for_path("a.avif"), "image/avif");
  EXPECT_EQ(mime_type_for_path("favicon.ico"), "image/vnd.microsoft.icon");
  EXPECT_EQ(mime_type_for_path("font.woff2"), "font/woff2");
  EXPECT_EQ(mime_type_for_path("font.woff"), "font/woff");
  EXPECT_EQ(mime_type_for_path("font.ttf"), "font/ttf");
  EXPECT_EQ(mime_type_for_path("mod.wasm"), "application/wasm");
  EXPECT_EQ(mime_type_for_path("doc.pdf"), "application/pdf");
  EXPECT_EQ(mime_type_for_path("x.zip"), "application/zip");
  EXPECT_EQ(mime_type_for_path("x.gz"), "application/gzip");
  EXPECT_EQ(mime_type_for_path("x.zst"), "application/zstd");
  EXPECT_EQ(mime_type_for_path("clip.mp4"), "video/mp4");
  EXPECT_EQ(mime_type_for_path("clip.webm"), "video/webm");
  EXPECT_EQ(mime_type_for_path("song.mp3"), "audio/mpeg");
  EXPECT_EQ(mime_type_for_path("song.ogg"), "audio/ogg");
  EXPECT_EQ(mime_type_for_path("stream.m3u8"), "application/vnd.apple.mpegurl");
  EXPECT_EQ(mime_type_for_path("seg0.ts"), "video/mp2t");
  EXPECT_EQ(mime_type_for_path("manifest.mpd"), "application/dash+xml; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("subs.vtt"), "text/vtt; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("site.webmanifest"), "application/manifest+json; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("report.docx"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document");
  EXPECT_EQ(mime_type_for_path("notes.txt"), "text/plain; charset=utf-8");
}

TEST(MimeTest, EveryRequestedExtensionIsKnown) {
  for (std::string_view ext :
       {"html", "htm",    "css",         "js",       "mjs",  "cjs",   "json",  "map",  "xml",
        "txt",  "csv",    "md",          "svg",      "png",  "jpg",   "jpeg",  "gif",  "webp",
        "avif", "ico",    "bmp",         "tiff",     "woff", "woff2", "ttf",   "otf",  "eot",
        "wasm", "pdf",    "zip",         "gz",       "tgz",  "br",    "zst",   "bz2",  "xz",
        "7z",   "rar",    "tar",         "mp3",      "mp4",  "m4a",   "m4v",   "webm", "ogg",
        "oga",  "ogv",    "opus",        "flac",     "wav",  "aac",   "mov",   "avi",  "mkv",
        "mpeg", "3gp",    "ics",         "vcf",      "rtf",  "doc",   "docx",  "xls",  "xlsx",
        "ppt",  "pptx",   "odt",         "ods",      "odp",  "epub",  "jar",   "apk",  "exe",
        "msi",  "deb",    "rpm",         "dmg",      "iso",  "sh",    "py",    "c",    "h",
        "cpp",  "rs",     "go",          "java",     "yaml", "yml",   "toml",  "ini",  "conf",
        "log",  "jsonld", "webmanifest", "appcache", "atom", "rss",   "xhtml", "glb",  "gltf",
        "heic", "heif",   "jxl",         "apng",     "jpe",  "jfif",  "pjpeg", "m3u8", "ts",
        "mpd",  "srt",    "vtt",         "sql",      "php"}) {
    EXPECT_NE(mime_type_for_path("f." + std::string(ext)), kOctet) << ext;
  }
}

TEST(MimeTest, CaseInsensitiveExtension) {
  EXPECT_EQ(mime_type_for_path("INDEX.HTML"), "text/html; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("Photo.JpG"), "image/jpeg");
  EXPECT_EQ(mime_type_for_path("font.WOFF2"), "font/woff2");
  EXPECT_EQ(mime_type_for_path("ARCHIVE.TAR.GZ"), "application/gzip");
  EXPECT_EQ(mime_type_for_path("x.Z"), "application/x-compress");
}

TEST(MimeTest, CharsetOnlyOnTextualTypes) {
  EXPECT_EQ(mime_type_for_path("a.csv"), "text/csv; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.md"), "text/markdown; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.xml"), "application/xml; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.jsonld"), "application/ld+json; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.atom"), "application/atom+xml; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.xhtml"), "application/xhtml+xml; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.yaml"), "application/yaml; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.sql"), "application/sql; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.gltf"), "model/gltf+json; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("a.png"), "image/png");
  EXPECT_EQ(mime_type_for_path("a.rtf"), "application/rtf");
  EXPECT_EQ(mime_type_for_path("a.srt"), "application/x-subrip");
  EXPECT_EQ(mime_type_for_path("a.epub"), "application/epub+zip");
  EXPECT_EQ(mime_type_for_path("a.nope"), kOctet);
}

TEST(MimeTest, IsTextMime) {
  EXPECT_TRUE(is_text_mime("text/plain"));
  EXPECT_TRUE(is_text_mime("TEXT/HTML; charset=utf-8"));
  EXPECT_TRUE(is_text_mime(" application/json "));
  EXPECT_TRUE(is_text_mime("application/javascript"));
  EXPECT_TRUE(is_text_mime("image/svg+xml"));
  EXPECT_TRUE(is_text_mime("application/vnd.api+JSON;q=1"));
  EXPECT_FALSE(is_text_mime("image/png"));
  EXPECT_FALSE(is_text_mime("application/octet-stream"));
  EXPECT_FALSE(is_text_mime("application/epub+zip"));
  EXPECT_FALSE(is_text_mime("image/json"));  // the bare-name list is application/* only
  EXPECT_FALSE(is_text_mime("application/+json"));
  EXPECT_FALSE(is_text_mime("text"));
  EXPECT_FALSE(is_text_mime("/plain"));
  EXPECT_FALSE(is_text_mime("text/"));
  EXPECT_FALSE(is_text_mime(""));
}

TEST(MimeTest, UnknownAndMissingExtension) {
  EXPECT_EQ(mime_type_for_path("file.unknownext"), kOctet);
  EXPECT_EQ(mime_type_for_path("file.averyveryverylongextensionname"), kOctet);
  EXPECT_EQ(mime_type_for_path("README"), kOctet);
  EXPECT_EQ(mime_type_for_path("/usr/bin/env"), kOctet);
  EXPECT_EQ(mime_type_for_path(""), kOctet);
  EXPECT_EQ(mime_type_for_path("/"), kOctet);
  EXPECT_EQ(mime_type_for_path("dir/"), kOctet);
  EXPECT_EQ(mime_type_for_path("file.ht ml"), kOctet);
  EXPECT_EQ(mime_type_for_path(std::string_view("a.h\0tml", 7)), kOctet);
}

TEST(MimeTest, DotfilesHaveNoExtension) {
  EXPECT_EQ(mime_type_for_path(".bashrc"), kOctet);
  EXPECT_EQ(mime_type_for_path("/home/u/.html"), kOctet);
  EXPECT_EQ(mime_type_for_path(".."), kOctet);
  EXPECT_EQ(mime_type_for_path("..."), kOctet);
  EXPECT_EQ(mime_type_for_path("..css"), kOctet);
  // A dotfile with a further dot does have an extension.
  EXPECT_EQ(mime_type_for_path(".eslintrc.json"), "application/json; charset=utf-8");
}

TEST(MimeTest, LastDotWins) {
  EXPECT_EQ(mime_type_for_path("a.tar.gz"), "application/gzip");
  EXPECT_EQ(mime_type_for_path("bundle.min.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("page.html.bak"), kOctet);
}

TEST(MimeTest, DotsInDirectoriesDoNotCount) {
  EXPECT_EQ(mime_type_for_path("/v1.2/readme"), kOctet);
  EXPECT_EQ(mime_type_for_path("/site.com/assets.v2/logo"), kOctet);
  EXPECT_EQ(mime_type_for_path("/v1.2/readme.md"), "text/markdown; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("./style.css"), "text/css; charset=utf-8");
  EXPECT_EQ(mime_type_for_path("../x.png"), "image/png");
}

TEST(MimeTest, TrailingDotIsNoExtension) {
  EXPECT_EQ(mime_type_for_path("file."), kOctet);
  EXPECT_EQ(mime_type_for_path("file.html."), kOctet);
  EXPECT_EQ(mime_type_for_path("/a.b/c."), kOctet);
}

// Binary search silently misses entries once the table is out of order; this fails first.
TEST(MimeTableTest, SortedAndUnique) {
  auto table = detail::mime_table();
  ASSERT_GE(table.size(), 150u);
  for (std::size_t i = 1; i < table.size(); ++i) {
    EXPECT_LT(table[i - 1].extension, table[i].extension)
        << "entry " << i << " (" << table[i].extension << ") is out of order or duplicated";
  }
}

TEST(MimeTableTest, EntriesAreWellFormed) {
  constexpr std::string_view kCharset = "; charset=utf-8";
  for (const auto& e : detail::mime_table()) {
    SCOPED_TRACE(std::string(e.extension));
    ASSERT_FALSE(e.extension.empty());
    for (char c : e.extension)
      EXPECT_TRUE(std::islower(static_cast<unsigned char>(c)) ||
                  std::isdigit(static_cast<unsigned char>(c)));
    for (char c : e.content_type)
      EXPECT_FALSE(std::isupper(static_cast<unsigned char>(c)));
    std::string_view base = e.content_type;
    bool has_charset = base.ends_with(kCharset);
    if (has_charset) base.remove_suffix(kCharset.size());
    EXPECT_EQ(base.find(';'), std::string_view::npos);
    EXPECT_EQ(has_charset, is_text_mime(base));
    EXPECT_EQ(is_text_mime(e.content_type), is_text_mime(base));
  }
}

// Every entry is reachable through the public lookup, in any case and behind any directory.
TEST(MimeTableTest, EveryEntryRoundTrips) {
  for (const auto& e : detail::mime_table()) {
    std::string ext(e.extension);
    EXPECT_EQ(mime_type_for_path("f." + ext), e.content_type) << ext;
    std::string upper = ext;
    for (char& c : upper)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    EXPECT_EQ(mime_type_for_path("/d.x/F." + upper), e.content_type) << upper;
    EXPECT_EQ(mime_type_for_path("." + ext), kOctet) << ext;
  }
}

}  // namespace
}  // namespace rws::http
