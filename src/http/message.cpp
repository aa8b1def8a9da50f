// The out-of-line special members of the request and response heads and of Request (see
// Headers in headers.hpp for why they are not inline).

#include <utility>

#include <rws/http/message_head.hpp>
#include <rws/http/request.hpp>

namespace rws::http {

RequestHead::RequestHead(const RequestHead& other) = default;
RequestHead::RequestHead(RequestHead&& other) noexcept = default;
RequestHead& RequestHead::operator=(const RequestHead& other) = default;
RequestHead& RequestHead::operator=(RequestHead&& other) noexcept = default;
RequestHead::~RequestHead() = default;

ResponseHead::ResponseHead(const ResponseHead& other) = default;
ResponseHead::ResponseHead(ResponseHead&& other) noexcept = default;
ResponseHead& ResponseHead::operator=(const ResponseHead& other) = default;
ResponseHead& ResponseHead::operator=(ResponseHead&& other) noexcept = default;
ResponseHead::~ResponseHead() = default;

Request::Request(RequestHead&& head_in, Body&& body_in) noexcept
    : head(std::move(head_in)), body(std::move(body_in)) {}
Request::Request(Request&& other) noexcept = default;
Request& Request::operator=(Request&& other) noexcept = default;
Request::~Request() = default;

}  // namespace rws::http
