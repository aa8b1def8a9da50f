#include "app/static/file_response.hpp"

#include <charconv>

#include "app/static/multipart_ranges.hpp"
#include "http/conditional.hpp"
#include "http/date.hpp"
#include "http/range.hpp"

namespace rws::app {
namespace {

http::Response plain(int status, std::string_view message) {
  return http::Response::text(status, std::string(message) + "\n");
}

void append_hex(std::string& out, std::uint64_t v) {
  char buf[16];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v, 16);
  out.append(buf, end);
}

}  // namespace

std::string make_etag(const struct stat& st) {
  std::string etag;
  etag.reserve(32);
  etag += '"';
  append_hex(etag, static_cast<std::uint64_t>(st.st_mtim.tv_sec));
  etag += '.';
  append_hex(etag, static_cast<std::uint64_t>(st.st_mtim.tv_nsec));
  etag += '-';
  append_hex(etag, static_cast<std::uint64_t>(st.st_size));
  etag += '"';
  return etag;
}

http::Response file_response(const http::RequestHead& request, std::string_view content_type,
                             CachedFile file, FileResponseOptions options, http::Headers extra) {
  const int status = options.status;
  http::Response r;
  r.head.status = status;
  http::Headers& h = r.head.headers;
  h.reserve(8);
  h.add("Content-Type", content_type);
  for (const http::Field& f : extra)
    h.add(f.name, f.value);

  const auto size = static_cast<std::uint64_t>(file.info.st_size);
  std::shared_ptr<const http::OpenFile> open_file = std::move(file.file);
  // The whole file: from the cached copy when there is one (no read syscall), else the file.
  auto whole = [&] {
    return file.content ? http::Body::from_string(*file.content)
                        : http::Body::from_file({std::move(open_file), 0, size});
  };
  if (status != 200) {
    r.body = whole();
    return r;
  }

  const std::int64_t modified = file.info.st_mtim.tv_sec;
  const std::string etag = make_etag(file.info);
  const http::Validators validators{etag, modified};
  h.emplace("Last-Modified", http::format_http_date(modified));
  h.add("ETag", etag);
  switch (http::evaluate_preconditions(request.headers, request.method, validators)) {
    case http::Precondition::kNotModified:
      r.head.status = 304;
      h.remove("Content-Type");
      h.remove("Content-Encoding");
      return r;
    case http::Precondition::kFailed: {
      http::Response failed = plain(412, "Precondition Failed");
      failed.head.headers.add("ETag", etag);
      return failed;
    }
    case http::Precondition::kProceed:
      break;
  }
  h.add("Accept-Ranges", "bytes");

  const std::string* range = request.headers.find("range");
  if (range != nullptr && request.method == "GET" &&
      http::if_range_holds(request.headers, validators)) {
    std::vector<http::ByteRange> ranges;
    switch (http::parse_range(*range, size, options.max_ranges, ranges)) {
      case http::RangeOutcome::kIgnore:
        break;
      case http::RangeOutcome::kUnsatisfiable: {
        http::Response unsatisfiable = plain(416, "Range Not Satisfiable");
        unsatisfiable.head.headers.add("Content-Range", http::unsatisfied_content_range(size));
        return unsatisfiable;
      }
      case http::RangeOutcome::kSatisfiable:
        r.head.status = 206;
        if (ranges.size() == 1) {
          h.add("Content-Range", http::content_range(ranges[0], size));
          r.body =
              http::Body::from_file({std::move(open_file), ranges[0].first, ranges[0].length()});
          return r;
        }
        std::string boundary = make_boundary();
        h.set("Content-Type", "multipart/byteranges; boundary=" + boundary);
        r.body =
            multipart_byteranges(std::move(open_file), std::move(ranges), content_type, boundary);
        return r;
    }
  }
  r.body = whole();
  return r;
}

}  // namespace rws::app
