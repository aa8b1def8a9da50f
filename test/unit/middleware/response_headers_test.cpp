#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include <rws/app/app.hpp>
#include <rws/app/response.hpp>
#include <rws/app/test_client.hpp>
#include <rws/middleware/response_headers.hpp>

namespace rws::middleware {
namespace {

using Strings = std::vector<std::string>;

// Every value of `name`, in order.
Strings values(const TestResponse& r, std::string_view name) {
  Strings out;
  for (const http::Field& f : r.headers) {
    if (http::iequals(f.name, name)) out.push_back(f.value);
  }
  return out;
}

TestResponse get(ResponseHeaderOptions options, std::string path = "/") {
  App app;
  app.use(response_headers(std::move(options)));
  app.get("/", [](Context&) {
    http::Response r = text("body\n");
    r.head.headers.add("Server", "app/1");
    r.head.headers.add("X-A", "1");
    r.head.headers.add("X-A", "2");
    r.head.headers.add("Cache-Control", "no-store");
    r.head.headers.add("X-Internal", "secret");
    return r;
  });
  TestClient client(app);
  return client.get(std::move(path)).send();
}

TEST(ResponseHeaders, NoEditsLeaveTheResponseAlone) {
  TestResponse r = get({});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "body\n");
  EXPECT_EQ(values(r, "x-a"), (Strings{"1", "2"}));
  EXPECT_EQ(values(r, "x-internal"), Strings{"secret"});
}

TEST(ResponseHeaders, RemoveDropsEveryFieldOfTheName) {
  ResponseHeaderOptions o;
  o.remove = {"x-internal", "X-A", "Not-There"};
  TestResponse r = get(std::move(o));
  EXPECT_FALSE(r.headers.contains("x-internal"));
  EXPECT_FALSE(r.headers.contains("x-a"));
  EXPECT_EQ(r.header("server"), "app/1");
  EXPECT_EQ(r.body, "body\n");
}

TEST(ResponseHeaders, SetReplacesEveryValueOrAddsOne) {
  ResponseHeaderOptions o;
  o.set = {{"Cache-Control", "max-age=60"}, {"x-a", "one"}, {"X-Frame-Options", "DENY"}};
  TestResponse r = get(std::move(o));
  EXPECT_EQ(values(r, "cache-control"), Strings{"max-age=60"});
  EXPECT_EQ(values(r, "x-a"), Strings{"one"});
  EXPECT_EQ(values(r, "x-frame-options"), Strings{"DENY"});
}

TEST(ResponseHeaders, AddAppendsAFieldLine) {
  ResponseHeaderOptions o;
  o.add = {{"X-A", "3"}, {"Link", "</a.css>; rel=preload"}, {"Link", "</b.js>; rel=preload"}};
  TestResponse r = get(std::move(o));
  EXPECT_EQ(values(r, "x-a"), (Strings{"1", "2", "3"}));
  EXPECT_EQ(values(r, "link"), (Strings{"</a.css>; rel=preload", "</b.js>; rel=preload"}));
}

TEST(ResponseHeaders, RemoveThenSetThenAdd) {
  ResponseHeaderOptions o;
  // Listed in the opposite order on purpose: the order of application is fixed.
  o.add = {{"X-A", "added"}, {"X-Internal", "added"}, {"Server", "added"}};
  o.set = {{"X-A", "set"}, {"Server", "rws"}};
  o.remove = {"X-A", "X-Internal", "Server"};
  TestResponse r = get(std::move(o));
  // remove then set then add: the set value survives the remove, the added one follows it.
  EXPECT_EQ(values(r, "x-a"), (Strings{"set", "added"}));
  EXPECT_EQ(values(r, "server"), (Strings{"rws", "added"}));
  // Removed, not set, then added: only the added field.
  EXPECT_EQ(values(r, "x-internal"), Strings{"added"});
  EXPECT_EQ(values(r, "cache-control"), Strings{"no-store"});
}

TEST(ResponseHeaders, AppliesToResponsesTheAppMakes) {
  ResponseHeaderOptions o;
  o.set = {{"X-Frame-Options", "DENY"}};
  TestResponse r = get(std::move(o), "/missing");
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.header("x-frame-options"), "DENY");
}

}  // namespace
}  // namespace rws::middleware
