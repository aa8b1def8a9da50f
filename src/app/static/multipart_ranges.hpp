#pragma once
// multipart/byteranges bodies (RFC 9110 §14.6) for requests with several ranges.

#include <string>
#include <string_view>
#include <vector>

#include <rws/http/body.hpp>

#include "http/range.hpp"

namespace rws::app {

// A random boundary of 32 hexadecimal digits (cannot occur in the part headers we write).
std::string make_boundary();

// A body of known length sending each range of `file` as one part with its Content-Type and
// Content-Range, closed by the final delimiter. The file is read with pread as the body is
// pulled.
http::Body multipart_byteranges(std::shared_ptr<const http::OpenFile> file,
                                std::vector<http::ByteRange> ranges, std::string_view content_type,
                                std::string_view boundary);

}  // namespace rws::app
