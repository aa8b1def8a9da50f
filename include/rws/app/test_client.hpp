#pragma once
// TestClient: sends requests to an App in process, without sockets, through the same routing,
// middleware and error handling as requests from the network. Bodies (streams and files
// included) are read completely; HEAD responses have none, as on the wire.
//
//   rws::TestClient client(app);
//   auto r = client.post("/users").json(R"({"name":"a"})").send();
//   EXPECT_EQ(r.status, 201);

#include <string>
#include <string_view>

#include <rws/app/app.hpp>
#include <rws/http/headers.hpp>

namespace rws {

struct TestResponse {
  int status = 0;
  http::Headers headers;
  std::string body;
  http::Headers trailers;
  std::string_view header(std::string_view name) const { return headers.get(name); }
};

class TestClient;

class TestRequest {
 public:
  TestRequest& header(std::string_view name, std::string_view value);
  TestRequest& body(std::string body, std::string_view content_type = "text/plain");
  TestRequest& json(std::string body) { return this->body(std::move(body), "application/json"); }
  // The peer address handlers see (default 127.0.0.1).
  TestRequest& peer(std::string address);
  // Makes the request look as if it arrived over TLS (Context::secure()).
  TestRequest& secure(bool on = true) {
    secure_ = on;
    return *this;
  }
  TestResponse send();

 private:
  friend class TestClient;
  TestRequest(App& app, std::string method, std::string target);

  App& app_;
  http::RequestHead head_;
  std::string body_;
  bool has_body_ = false;
  std::string peer_ = "127.0.0.1";
  bool secure_ = false;
};

class TestClient {
 public:
  explicit TestClient(App& app) : app_(app) {}
  TestRequest get(std::string target) { return request("GET", std::move(target)); }
  TestRequest head(std::string target) { return request("HEAD", std::move(target)); }
  TestRequest post(std::string target) { return request("POST", std::move(target)); }
  TestRequest put(std::string target) { return request("PUT", std::move(target)); }
  TestRequest patch(std::string target) { return request("PATCH", std::move(target)); }
  TestRequest del(std::string target) { return request("DELETE", std::move(target)); }
  TestRequest options(std::string target) { return request("OPTIONS", std::move(target)); }
  TestRequest request(std::string method, std::string target) {
    return TestRequest(app_, std::move(method), std::move(target));
  }

 private:
  App& app_;
};

}  // namespace rws
