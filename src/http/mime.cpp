#include "http/mime.hpp"

#include <algorithm>
#include <array>
#include <cstddef>

#include "http/syntax.hpp"

namespace rws::http {
namespace {

constexpr std::string_view kCharsetSuffix = "; charset=utf-8";

constexpr char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? char(c + 32) : c;
}

constexpr bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  }
  return true;
}

constexpr bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && iequals_ascii(s.substr(s.size() - suffix.size()), suffix);
}

// application/* subtypes that are text without saying so in their name; see is_text_mime.
constexpr std::array<std::string_view, 8> kTextualApplicationSubtypes = {
    "json", "xml", "javascript", "ecmascript", "sql", "yaml", "toml", "x-ndjson",
};

constexpr bool is_textual(std::string_view content_type) noexcept {
  std::string_view media = syntax::trim_ows(content_type.substr(0, content_type.find(';')));
  std::size_t slash = media.find('/');
  if (slash == std::string_view::npos || slash == 0 || slash + 1 == media.size()) return false;
  std::string_view type = media.substr(0, slash);
  std::string_view subtype = media.substr(slash + 1);
  if (iequals_ascii(type, "text")) return true;
  // A bare "+json" is no subtype; the suffix needs something to qualify.
  for (std::string_view suffix : {std::string_view("+json"), std::string_view("+xml")}) {
    if (subtype.size() > suffix.size() && iends_with(subtype, suffix)) return true;
  }
  if (!iequals_ascii(type, "application")) return false;
  for (std::string_view s : kTextualApplicationSubtypes) {
    if (iequals_ascii(subtype, s)) return true;
  }
  return false;
}

// Sorted by extension (byte order) for binary search; the static_assert below rejects a table
// that is out of order, has duplicates, upper case, or a charset that disagrees with is_textual.
// Types follow the IANA registry where one exists, else common server practice.
constexpr auto kTable = std::to_array<detail::MimeEntry>({
    {"3g2", "video/3gpp2"},
    {"3gp", "video/3gpp"},
    {"7z", "application/x-7z-compressed"},
    {"aac", "audio/aac"},
    {"ai", "application/postscript"},
    {"aif", "audio/aiff"},
    {"aiff", "audio/aiff"},
    {"amr", "audio/amr"},
    {"apk", "application/vnd.android.package-archive"},
    {"apng", "image/apng"},
    {"appcache", "text/cache-manifest; charset=utf-8"},
    {"asc", "application/pgp-signature"},
    {"asf", "video/x-ms-asf"},
    {"atom", "application/atom+xml; charset=utf-8"},
    {"au", "audio/basic"},
    {"avi", "video/x-msvideo"},
    {"avif", "image/avif"},
    {"azw", "application/vnd.amazon.ebook"},
    {"bash", "text/x-shellscript; charset=utf-8"},
    {"bin", "application/octet-stream"},
    {"bmp", "image/bmp"},
    {"br", "application/x-brotli"},
    {"bz", "application/x-bzip"},
    {"bz2", "application/x-bzip2"},
    {"c", "text/x-c; charset=utf-8"},
    {"cab", "application/vnd.ms-cab-compressed"},
    {"caf", "audio/x-caf"},
    {"cbr", "application/vnd.comicbook-rar"},
    {"cbz", "application/vnd.comicbook+zip"},
    {"cc", "text/x-c++; charset=utf-8"},
    {"cer", "application/pkix-cert"},
    {"cfg", "text/plain; charset=utf-8"},
    {"cjs", "text/javascript; charset=utf-8"},
    {"class", "application/java-vm"},
    {"conf", "text/plain; charset=utf-8"},
    {"cpio", "application/x-cpio"},
    {"cpp", "text/x-c++; charset=utf-8"},
    {"crl", "application/pkix-crl"},
    {"crt", "application/x-x509-ca-cert"},
    {"cs", "text/x-csharp; charset=utf-8"},
    {"csr", "application/pkcs10"},
    {"css", "text/css; charset=utf-8"},
    {"csv", "text/csv; charset=utf-8"},
    {"cxx", "text/x-c++; charset=utf-8"},
    {"dae", "model/vnd.collada+xml; charset=utf-8"},
    {"deb", "application/vnd.debian.binary-package"},
    {"der", "application/x-x509-ca-cert"},
    {"diff", "text/x-diff; charset=utf-8"},
    {"djvu", "image/vnd.djvu"},
    {"dll", "application/vnd.microsoft.portable-executable"},
    {"dmg", "application/x-apple-diskimage"},
    {"doc", "application/msword"},
    {"docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
    {"eot", "application/vnd.ms-fontobject"},
    {"eps", "application/postscript"},
    {"epub", "application/epub+zip"},
    {"exe", "application/vnd.microsoft.portable-executable"},
    {"flac", "audio/flac"},
    {"flv", "video/x-flv"},
    {"geojson", "application/geo+json; charset=utf-8"},
    {"gif", "image/gif"},
    {"glb", "model/gltf-binary"},
    {"gltf", "model/gltf+json; charset=utf-8"},
    {"go", "text/x-go; charset=utf-8"},
    {"gpx", "application/gpx+xml; charset=utf-8"},
    {"gz", "application/gzip"},
    {"h", "text/x-c; charset=utf-8"},
    {"heic", "image/heic"},
    {"heif", "image/heif"},
    {"hh", "text/x-c++; charset=utf-8"},
    {"hpp", "text/x-c++; charset=utf-8"},
    {"hs", "text/x-haskell; charset=utf-8"},
    {"htm", "text/html; charset=utf-8"},
    {"html", "text/html; charset=utf-8"},
    {"hxx", "text/x-c++; charset=utf-8"},
    {"ico", "image/vnd.microsoft.icon"},
    {"ics", "text/calendar; charset=utf-8"},
    {"ini", "text/plain; charset=utf-8"},
    {"ipynb", "application/x-ipynb+json; charset=utf-8"},
    {"iso", "application/x-iso9660-image"},
    {"jar", "application/java-archive"},
    {"java", "text/x-java; charset=utf-8"},
    {"jfif", "image/jpeg"},
    {"jp2", "image/jp2"},
    {"jpe", "image/jpeg"},
    {"jpeg", "image/jpeg"},
    {"jpg", "image/jpeg"},
    {"js", "text/javascript; charset=utf-8"},
    {"json", "application/json; charset=utf-8"},
    {"jsonl", "application/x-ndjson; charset=utf-8"},
    {"jsonld", "application/ld+json; charset=utf-8"},
    {"jxl", "image/jxl"},
    {"kml", "application/vnd.google-earth.kml+xml; charset=utf-8"},
    {"kmz", "application/vnd.google-earth.kmz"},
    {"kt", "text/x-kotlin; charset=utf-8"},
    {"ktx2", "image/ktx2"},
    {"less", "text/x-less; charset=utf-8"},
    {"log", "text/plain; charset=utf-8"},
    {"lua", "text/x-lua; charset=utf-8"},
    {"lz", "application/x-lzip"},
    {"lz4", "application/x-lz4"},
    {"lzma", "application/x-lzma"},
    {"m2ts", "video/mp2t"},
    {"m3u", "audio/x-mpegurl"},
    {"m3u8", "application/vnd.apple.mpegurl"},
    {"m4a", "audio/mp4"},
    {"m4v", "video/mp4"},
    {"map", "application/json; charset=utf-8"},
    {"markdown", "text/markdown; charset=utf-8"},
    {"md", "text/markdown; charset=utf-8"},
    {"mid", "audio/midi"},
    {"midi", "audio/midi"},
    {"mjs", "text/javascript; charset=utf-8"},
    {"mka", "audio/x-matroska"},
    {"mkv", "video/x-matroska"},
    {"mobi", "application/x-mobipocket-ebook"},
    {"mov", "video/quicktime"},
    {"mp3", "audio/mpeg"},
    {"mp4", "video/mp4"},
    {"mpd", "application/dash+xml; charset=utf-8"},
    {"mpeg", "video/mpeg"},
    {"mpg", "video/mpeg"},
    {"msi", "application/x-msi"},
    {"mts", "video/mp2t"},
    {"ndjson", "application/x-ndjson; charset=utf-8"},
    {"obj", "model/obj"},
    {"odg", "application/vnd.oasis.opendocument.graphics"},
    {"odp", "application/vnd.oasis.opendocument.presentation"},
    {"ods", "application/vnd.oasis.opendocument.spreadsheet"},
    {"odt", "application/vnd.oasis.opendocument.text"},
    {"oga", "audio/ogg"},
    {"ogg", "audio/ogg"},
    {"ogv", "video/ogg"},
    {"ogx", "application/ogg"},
    {"opus", "audio/ogg"},
    {"otf", "font/otf"},
    {"p12", "application/x-pkcs12"},
    {"patch", "text/x-diff; charset=utf-8"},
    {"pdf", "application/pdf"},
    {"pem", "application/x-pem-file"},
    {"pfx", "application/x-pkcs12"},
    {"php", "text/x-php; charset=utf-8"},
    {"pjp", "image/jpeg"},
    {"pjpeg", "image/jpeg"},
    {"pl", "text/x-perl; charset=utf-8"},
    {"png", "image/png"},
    {"ppt", "application/vnd.ms-powerpoint"},
    {"pptx", "application/vnd.openxmlformats-officedocument.presentationml.presentation"},
    {"ps", "application/postscript"},
    {"psd", "image/vnd.adobe.photoshop"},
    {"py", "text/x-python; charset=utf-8"},
    {"qt", "video/quicktime"},
    {"rar", "application/vnd.rar"},
    {"rb", "text/x-ruby; charset=utf-8"},
    {"rdf", "application/rdf+xml; charset=utf-8"},
    {"rpm", "application/x-rpm"},
    {"rs", "text/x-rust; charset=utf-8"},
    {"rss", "application/rss+xml; charset=utf-8"},
    {"rst", "text/x-rst; charset=utf-8"},
    {"rtf", "application/rtf"},
    {"sass", "text/x-sass; charset=utf-8"},
    {"scala", "text/x-scala; charset=utf-8"},
    {"scss", "text/x-scss; charset=utf-8"},
    {"sh", "text/x-shellscript; charset=utf-8"},
    {"sig", "application/pgp-signature"},
    {"snd", "audio/basic"},
    {"spx", "audio/ogg"},
    {"sql", "application/sql; charset=utf-8"},
    {"srt", "application/x-subrip"},
    {"stl", "model/stl"},
    {"svg", "image/svg+xml; charset=utf-8"},
    {"swift", "text/x-swift; charset=utf-8"},
    {"tar", "application/x-tar"},
    {"tex", "text/x-tex; charset=utf-8"},
    {"tgz", "application/gzip"},
    {"tif", "image/tiff"},
    {"tiff", "image/tiff"},
    {"toml", "application/toml; charset=utf-8"},
    {"torrent", "application/x-bittorrent"},
    {"ts", "video/mp2t"},
    {"tsv", "text/tab-separated-values; charset=utf-8"},
    {"ttc", "font/collection"},
    {"ttf", "font/ttf"},
    {"txt", "text/plain; charset=utf-8"},
    {"usdz", "model/vnd.usdz+zip"},
    {"vcard", "text/vcard; charset=utf-8"},
    {"vcf", "text/vcard; charset=utf-8"},
    {"vtt", "text/vtt; charset=utf-8"},
    {"war", "application/java-archive"},
    {"wasm", "application/wasm"},
    {"wav", "audio/wav"},
    {"weba", "audio/webm"},
    {"webm", "video/webm"},
    {"webmanifest", "application/manifest+json; charset=utf-8"},
    {"webp", "image/webp"},
    {"wgsl", "text/wgsl; charset=utf-8"},
    {"wma", "audio/x-ms-wma"},
    {"wmv", "video/x-ms-wmv"},
    {"woff", "font/woff"},
    {"woff2", "font/woff2"},
    {"xht", "application/xhtml+xml; charset=utf-8"},
    {"xhtml", "application/xhtml+xml; charset=utf-8"},
    {"xls", "application/vnd.ms-excel"},
    {"xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"},
    {"xml", "application/xml; charset=utf-8"},
    {"xpi", "application/x-xpinstall"},
    {"xsd", "application/xml; charset=utf-8"},
    {"xsl", "application/xslt+xml; charset=utf-8"},
    {"xslt", "application/xslt+xml; charset=utf-8"},
    {"xz", "application/x-xz"},
    {"yaml", "application/yaml; charset=utf-8"},
    {"yml", "application/yaml; charset=utf-8"},
    {"z", "application/x-compress"},
    {"zip", "application/zip"},
    {"zst", "application/zstd"},
});

constexpr bool is_lower_alnum(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

constexpr bool entry_is_valid(const detail::MimeEntry& e) noexcept {
  if (e.extension.empty()) return false;
  for (char c : e.extension) {
    if (!is_lower_alnum(c)) return false;
  }
  for (char c : e.content_type) {
    if (c != ascii_lower(c)) return false;
  }
  std::string_view base = e.content_type;
  bool has_charset = base.ends_with(kCharsetSuffix);
  if (has_charset) base.remove_suffix(kCharsetSuffix.size());
  // The base must be a bare type/subtype: the only parameter allowed is the charset above.
  if (base.find_first_of("; \t") != std::string_view::npos) return false;
  if (base.find('/') == std::string_view::npos) return false;
  return has_charset == is_textual(base);
}

constexpr bool table_is_valid() noexcept {
  for (std::size_t i = 0; i < kTable.size(); ++i) {
    if (!entry_is_valid(kTable[i])) return false;
    if (i > 0 && !(kTable[i - 1].extension < kTable[i].extension)) return false;
  }
  return true;
}
static_assert(table_is_valid(), "kTable must be sorted, unique, lower-case, charset-consistent");

constexpr std::size_t kMaxExtension = [] {
  std::size_t n = 0;
  for (const auto& e : kTable)
    n = std::max(n, e.extension.size());
  return n;
}();

// The extension of the last path segment, without the dot; empty when there is none. Leading dots
// mark hidden files, not extensions, so they are skipped before looking for the last dot.
constexpr std::string_view extension_of(std::string_view path) noexcept {
  if (std::size_t slash = path.rfind('/'); slash != std::string_view::npos) {
    path.remove_prefix(slash + 1);
  }
  std::size_t first = path.find_first_not_of('.');
  if (first == std::string_view::npos) return {};
  path.remove_prefix(first);
  std::size_t dot = path.rfind('.');
  if (dot == std::string_view::npos) return {};
  return path.substr(dot + 1);
}

}  // namespace

std::string_view mime_type_for_path(std::string_view path) noexcept {
  std::string_view ext = extension_of(path);
  if (ext.empty() || ext.size() > kMaxExtension) return kDefaultMimeType;
  std::array<char, kMaxExtension> buf{};
  for (std::size_t i = 0; i < ext.size(); ++i)
    buf[i] = ascii_lower(ext[i]);
  std::string_view key(buf.data(), ext.size());
  auto it = std::lower_bound(
      kTable.begin(), kTable.end(), key,
      [](const detail::MimeEntry& e, std::string_view k) { return e.extension < k; });
  if (it == kTable.end() || it->extension != key) return kDefaultMimeType;
  return it->content_type;
}

bool is_text_mime(std::string_view content_type) noexcept {
  return is_textual(content_type);
}

namespace detail {
std::span<const MimeEntry> mime_table() noexcept {
  return kTable;
}
}  // namespace detail

}  // namespace rws::http
