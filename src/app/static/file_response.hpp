#pragma once
// The response for one regular file: Content-Type, strong ETag and Last-Modified, conditional
// requests (304/412), byte ranges (206, multipart, 416) and the body (the cached copy of a small
// file, else the file itself). Shared by the static file service and rws::file().

#include <sys/stat.h>

#include <cstddef>
#include <string>
#include <string_view>

#include <rws/http/message_head.hpp>
#include <rws/http/response.hpp>

#include "app/static/file_cache.hpp"

namespace rws::app {

struct FileResponseOptions {
  int status = 200;  // other statuses (a 404 page) get the body without validators or ranges
  std::size_t max_ranges = 16;
};

// `extra` fields (Vary, Content-Encoding) are added after Content-Type.
http::Response file_response(const http::RequestHead& request, std::string_view content_type,
                             CachedFile file, FileResponseOptions options = {},
                             http::Headers extra = {});

// Strong validator from modification time (ns) and size: any change to the file changes it.
std::string make_etag(const struct stat& info);

}  // namespace rws::app
