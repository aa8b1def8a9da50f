#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>

#include <rws/app/test_client.hpp>

namespace rws {

TestRequest::TestRequest(App& app, std::string method, std::string target) : app_(app) {
  head_.method = std::move(method);
  head_.target = target;
  std::size_t q = target.find('?');
  head_.path = target.substr(0, q);
  if (q != std::string::npos) head_.query = target.substr(q + 1);
  head_.authority = "test";
  head_.scheme = "http";
  head_.version = 11;
}

TestRequest& TestRequest::header(std::string_view name, std::string_view value) {
  head_.headers.add(name, value);
  if (http::iequals(name, "host")) head_.authority = value;
  return *this;
}

TestRequest& TestRequest::body(std::string body, std::string_view content_type) {
  body_ = std::move(body);
  has_body_ = true;
  head_.headers.set("Content-Type", content_type);
  return *this;
}

TestRequest& TestRequest::peer(std::string address) {
  peer_ = std::move(address);
  return *this;
}

TestResponse TestRequest::send() {
  asio::io_context io;
  TestResponse out;
  std::exception_ptr failure;
  http::Request request;
  request.head = head_;
  if (has_body_) {
    request.head.headers.set("Content-Length", std::to_string(body_.size()));
    // A stream (not bytes) so handlers read it the way they read a network body.
    request.body =
        http::Body::from_stream(http::Body::from_string(body_).into_source(), body_.size());
  }
  http::RequestContext connection{peer_, 40000, secure_, 1, 1, nullptr, nullptr, {}};
  const bool head_only = head_.method == "HEAD";
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        http::Response response = co_await app_.handle(std::move(request), connection);
        out.status = response.head.status;
        out.headers = response.head.headers;
        if (head_only) co_return;
        std::unique_ptr<http::BodySource> source = std::move(response.body).into_source();
        for (;;) {
          Result<http::BodyFrame> frame = co_await source->next(64 * 1024);
          if (!frame) throw std::runtime_error("response body failed: " + frame.error().describe());
          if (frame->kind == http::BodyFrame::Kind::kEnd) break;
          if (frame->kind == http::BodyFrame::Kind::kTrailers) out.trailers = frame->trailers;
          out.body.append(frame->data);
        }
      },
      [&](std::exception_ptr e) { failure = e; });
  io.run();
  if (failure) std::rethrow_exception(failure);
  return out;
}

}  // namespace rws
