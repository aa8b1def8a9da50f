#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <asio/steady_timer.hpp>
#include <asio/this_coro.hpp>
#include <asio/use_awaitable.hpp>

#include <rws/rws.hpp>

namespace rws {
namespace {

TEST(App, HandlersOfEveryShape) {
  App app;
  app.get("/sync", [](http::Request&, Context&) { return text("sync\n"); });
  app.get("/ctx", [](Context& ctx) { return text(std::string(ctx.peer_address())); });
  app.get("/async", [](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    co_return text(req.head.method);
  });
  app.get("/async-ctx", [](Context&) -> asio::awaitable<http::Response> {
    asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(1));
    co_await t.async_wait(asio::use_awaitable);
    co_return status(204);
  });
  TestClient client(app);
  EXPECT_EQ(client.get("/sync").send().body, "sync\n");
  EXPECT_EQ(client.get("/ctx").peer("10.0.0.7").send().body, "10.0.0.7");
  EXPECT_EQ(client.get("/async").send().body, "GET");
  EXPECT_EQ(client.get("/async-ctx").send().status, 204);
}

TEST(App, NotFoundMethodNotAllowedHeadAndOptions) {
  App app;
  app.get("/items/:id", [](Context& c) { return text(std::string(c.param("id"))); });
  app.del("/items/:id", [](Context&) { return status(204); });
  TestClient client(app);
  EXPECT_EQ(client.get("/nothing").send().status, 404);
  TestResponse r = client.post("/items/3").send();
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, DELETE, OPTIONS");
  r = client.options("/items/3").send();
  EXPECT_EQ(r.status, 204);
  EXPECT_EQ(r.header("allow"), "GET, HEAD, DELETE, OPTIONS");
  r = client.head("/items/3").send();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.header("content-length"), "");  // the session sets framing; the body is dropped
  EXPECT_TRUE(r.body.empty());
}

TEST(App, ParamsTypedAndDecoded) {
  App app;
  app.get("/n/{n}", [](Context& c) { return text(std::to_string(c.param<int>("n") * 2)); });
  app.get("/u/:id", [](Context& c) { return text(c.param<Uuid>("id").to_string()); });
  app.get("/s/:name", [](Context& c) { return text(std::string(c.param("name"))); });
  app.get("/f/*path", [](Context& c) { return text(std::string(c.param("path"))); });
  app.get("/missing", [](Context& c) { return text(std::string(c.param("nope"))); });
  TestClient client(app);
  EXPECT_EQ(client.get("/n/21").send().body, "42");
  TestResponse bad = client.get("/n/abc").send();
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.body, "path parameter 'n' must be a integer in range\n");
  EXPECT_EQ(client.get("/n/99999999999").send().status, 400);
  EXPECT_EQ(client.get("/u/123E4567-E89B-12D3-A456-426614174000").send().body,
            "123e4567-e89b-12d3-a456-426614174000");
  EXPECT_EQ(client.get("/u/not-a-uuid").send().status, 400);
  EXPECT_EQ(client.get("/s/caf%C3%A9%20au%20lait").send().body, "caf\xC3\xA9 au lait");
  EXPECT_EQ(client.get("/f/a/b/../c.txt").send().body, "a/c.txt");
  EXPECT_EQ(client.get("/f/%2e%2e/%2e%2e/x").send().status, 400);
  EXPECT_EQ(client.get("/missing").send().status, 500);  // a programming error
}

TEST(App, QueryHeadersCookies) {
  App app;
  app.get("/q", [](Context& c) {
    std::string out;
    for (std::string_view v : c.query().all("tag"))
      out += std::string(v) + ",";
    out += std::to_string(c.query_as<int>("page").value_or(1));
    out += "|" + std::string(c.query().get("q").value_or("-"));
    out += "|" + std::string(c.cookie("session").value_or("none"));
    out += "|" + std::string(c.header("x-client"));
    return text(out);
  });
  TestClient client(app);
  TestResponse r = client.get("/q?tag=a&tag=b%20c&page=3&q=x+y")
                       .header("Cookie", "theme=dark; session=\"abc\"")
                       .header("X-Client", "t")
                       .send();
  EXPECT_EQ(r.body, "a,b c,3|x y|abc|t");
  EXPECT_EQ(client.get("/q?page=x").send().status, 400);
  EXPECT_EQ(client.get("/q?bad=%zz").send().status, 400);
  EXPECT_EQ(client.get("/q").send().body, "1|-|none|");
}

TEST(App, MiddlewareOnionGroupsAndRoutes) {
  App app;
  std::vector<std::string> trace;
  auto mark = [&trace](std::string name) {
    return
        [&trace, name](http::Request& r, Context& c, Next next) -> asio::awaitable<http::Response> {
          trace.push_back(name + ">");
          http::Response resp = co_await next(r, c);
          resp.head.headers.add("X-Through", name);
          trace.push_back("<" + name);
          co_return resp;
        };
  };
  app.use(mark("global"));
  Routes api = app.group("/api");
  api.get("/a",
          [&trace](Context&) {
            trace.push_back("handler");
            return text("a");
          })
      .use(mark("route"));
  api.use(mark("api"));  // registered after the route: still applies
  Routes v1 = api.group("/v1");
  v1.use(mark("v1"));
  v1.get("/b", [](Context&) { return text("b"); });
  TestClient client(app);
  TestResponse r = client.get("/api/a").send();
  EXPECT_EQ(r.body, "a");
  EXPECT_EQ(trace, (std::vector<std::string>{"global>", "api>", "route>", "handler", "<route",
                                             "<api", "<global"}));
  EXPECT_EQ(r.headers.joined("x-through"), "route, api, global");
  trace.clear();
  EXPECT_EQ(client.get("/api/v1/b").send().headers.joined("x-through"), "v1, api, global");
  trace.clear();
  TestResponse missing = client.get("/elsewhere").send();
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(missing.headers.joined("x-through"), "global");  // global wraps 404s too
}

TEST(App, MiddlewareShortCircuitsAndExtensions) {
  App app;
  struct User {
    std::string name;
  };
  app.use([](http::Request& r, Context& c, Next next) -> asio::awaitable<http::Response> {
    if (c.header("authorization") != "Bearer ok") co_return text("no\n", 401);
    c.set(User{"ada"});
    co_return co_await next(r, c);
  });
  app.get("/me", [](Context& c) { return text(c.get<User>()->name); });
  TestClient client(app);
  EXPECT_EQ(client.get("/me").send().status, 401);
  EXPECT_EQ(client.get("/me").header("Authorization", "Bearer ok").send().body, "ada");
}

TEST(App, ErrorsBecomeResponses) {
  App app;
  app.get("/teapot", [](Context&) -> http::Response { throw HttpError(418, "short and stout"); });
  app.get("/boom", [](Context&) -> http::Response {
    throw std::runtime_error("database password is hunter2");
  });
  bool saw_500 = false;
  app.use([&saw_500](http::Request& r, Context& c, Next next) -> asio::awaitable<http::Response> {
    http::Response resp = co_await next(r, c);
    saw_500 = saw_500 || resp.head.status == 500;
    co_return resp;
  });
  TestClient client(app);
  TestResponse t = client.get("/teapot").send();
  EXPECT_EQ(t.status, 418);
  EXPECT_EQ(t.body, "short and stout\n");
  TestResponse b = client.get("/boom").send();
  EXPECT_EQ(b.status, 500);
  EXPECT_EQ(b.body, "Internal Server Error\n");
  EXPECT_EQ(b.body.find("hunter2"), std::string::npos);
  EXPECT_TRUE(saw_500);  // middleware sees the error response
}

TEST(App, HostRouters) {
  App app;
  app.get("/", [](Context&) { return text("default"); });
  app.host("api.example.com").get("/", [](Context&) { return text("api"); });
  app.host("*.example.com").get("/", [](Context&) { return text("wild"); });
  app.host("*.eu.example.com").get("/", [](Context&) { return text("eu"); });
  TestClient client(app);
  EXPECT_EQ(client.get("/").header("Host", "API.example.com:8080").send().body, "api");
  EXPECT_EQ(client.get("/").header("Host", "www.example.com").send().body, "wild");
  EXPECT_EQ(client.get("/").header("Host", "x.eu.example.com").send().body, "eu");
  EXPECT_EQ(client.get("/").header("Host", "example.com").send().body, "default");
  EXPECT_EQ(client.get("/").header("Host", "other.org").send().body, "default");
}

TEST(App, StateAndServices) {
  struct Config {
    std::string greeting;
  };
  struct Counter {
    int hits = 0;
  };
  App app;
  app.state(Config{"hi"});
  auto counter = std::make_shared<Counter>();
  app.provide(counter);
  app.get("/", [](Context& c) {
    ++c.state<Counter>().hits;
    return text(c.state<Config>().greeting);
  });
  app.get("/unknown", [](Context& c) { return text(std::to_string(c.state<int>())); });
  TestClient client(app);
  EXPECT_EQ(client.get("/").send().body, "hi");
  client.get("/").send();
  EXPECT_EQ(counter->hits, 2);
  EXPECT_EQ(client.get("/unknown").send().status, 500);
}

TEST(App, RegistrationRules) {
  App app;
  app.get("/a", [](Context&) { return text("a"); });
  EXPECT_THROW(app.get("/a", [](Context&) { return text("again"); }), std::invalid_argument);
  EXPECT_THROW(app.route("BAD METHOD", "/x", make_handler([](Context&) { return text(""); })),
               std::invalid_argument);
  EXPECT_THROW(app.group("api"), std::invalid_argument);
  app.freeze();
  EXPECT_THROW(app.get("/b", [](Context&) { return text("b"); }), std::logic_error);
}

struct Item {
  std::string name;
  int count = 0;
};
void from_json(const Json& j, Item& i) {
  j.at("name").get_to(i.name);
  j.at("count").get_to(i.count);
}

TEST(App, JsonInAndOut) {
  App app;
  app.post("/echo", [](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    Json body = co_await read_json(req, 64);
    co_return json(Json{{"got", body}}, 201);
  });
  app.post("/item", [](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    Item item = co_await read_json_as<Item>(req);
    co_return text(item.name + ":" + std::to_string(item.count));
  });
  TestClient client(app);
  TestResponse r = client.post("/echo").json(R"({"a":1})").send();
  EXPECT_EQ(r.status, 201);
  EXPECT_EQ(r.header("content-type"), "application/json");
  EXPECT_EQ(r.body, R"({"got":{"a":1}})");
  EXPECT_EQ(client.post("/echo").body("{}", "text/plain").send().status, 415);
  EXPECT_EQ(client.post("/echo").body("{}", "application/problem+json").send().status, 201);
  TestResponse bad = client.post("/echo").json(R"({"a":)").send();
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("invalid JSON at byte"), std::string::npos) << bad.body;
  EXPECT_EQ(client.post("/echo").json(std::string(100, ' ') + "{}").send().status, 413);
  EXPECT_EQ(client.post("/item").json(R"({"name":"x","count":3})").send().body, "x:3");
  TestResponse shape = client.post("/item").json(R"({"name":"x"})").send();
  EXPECT_EQ(shape.status, 400);
  EXPECT_NE(shape.body.find("wrong shape"), std::string::npos);
}

TEST(App, Validation) {
  App app;
  app.post("/users", [](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    Json body = co_await read_json(req);
    Validator v(body);
    v.required("name").string().length(1, 5);
    v.optional("age").integer().range(0, 150);
    v.required("email").string().email();
    v.optional("site").url();
    v.optional("code").pattern("[A-Z]{3}");
    v.optional("role").one_of({"admin", "user"});
    v.throw_if_invalid();
    co_return status(201);
  });
  TestClient client(app);
  EXPECT_EQ(client.post("/users").json(R"({"name":"ada","email":"a@b.io"})").send().status, 201);
  TestResponse r = client.post("/users")
                       .json(R"({"name":"abcdef","age":200,"email":"nope","site":"ftp://x",
                                 "code":"ab","role":"root"})")
                       .send();
  EXPECT_EQ(r.status, 422);
  Json errors = Json::parse(r.body)["errors"];
  ASSERT_EQ(errors.size(), 6u) << r.body;
  EXPECT_EQ(errors[0], (Json{{"field", "name"}, {"message", "length must be between 1 and 5"}}));
  EXPECT_EQ(errors[1], (Json{{"field", "age"}, {"message", "must be between 0 and 150"}}));
  EXPECT_EQ(errors[2], (Json{{"field", "email"}, {"message", "must be an email address"}}));
  EXPECT_EQ(errors[3]["field"], "site");
  EXPECT_EQ(errors[4], (Json{{"field", "code"}, {"message", "must match [A-Z]{3}"}}));
  EXPECT_EQ(errors[5]["field"], "role");
  TestResponse missing = client.post("/users").json("{}").send();
  EXPECT_EQ(Json::parse(missing.body)["errors"].size(), 2u);
  EXPECT_EQ(Json::parse(client.post("/users").json("[1]").send().body)["errors"][0]["message"],
            "must be a JSON object");
}

TEST(App, Forms) {
  App app;
  app.post("/form", [](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    QueryMap form = co_await read_form(req, 100);
    co_return text(std::string(form.get("a").value_or("")) + "," +
                   std::string(form.get("b").value_or("")));
  });
  TestClient client(app);
  EXPECT_EQ(
      client.post("/form").body("a=1+2&b=%C3%A9", "application/x-www-form-urlencoded").send().body,
      "1 2,\xC3\xA9");
  EXPECT_EQ(client.post("/form").body("a=1", "text/plain").send().status, 415);
  EXPECT_EQ(client.post("/form")
                .body(std::string(200, 'a'), "application/x-www-form-urlencoded")
                .send()
                .status,
            413);
}

std::string multipart_body(const std::string& boundary) {
  return "preamble\r\n--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"title\"\r\n\r\nHello world\r\n--" + boundary +
         "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a \\\"b\\\".txt\"\r\n"
         "Content-Type: text/plain\r\n\r\n" +
         std::string(100000, 'x') + "\r\n--" + boundary + "--\r\nepilogue";
}

TEST(App, MultipartStreaming) {
  App app;
  std::string saved =
      (std::filesystem::temp_directory_path() / ("rws-upload-" + std::to_string(::getpid())))
          .string();
  app.post("/upload", [saved](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    MultipartReader form(req, MultipartLimits{.max_part_bytes = 200000});
    std::string out;
    while (co_await form.next_part()) {
      if (form.filename()) {
        std::uint64_t n = co_await form.save_to(saved);
        out += form.name() + "=" + *form.filename() + ":" + std::to_string(n) + ";";
      } else {
        std::string value = co_await form.read_text(100);
        out += form.name() + "=" + value + ";";
      }
    }
    co_return text(out);
  });
  TestClient client(app);
  TestResponse r = client.post("/upload")
                       .body(multipart_body("XyZ"), "multipart/form-data; boundary=XyZ")
                       .send();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, "title=Hello world;file=a \"b\".txt:100000;");
  EXPECT_EQ(std::filesystem::file_size(saved), 100000u);
  std::filesystem::remove(saved);

  EXPECT_EQ(client.post("/upload").body("x", "multipart/form-data").send().status, 415);
  EXPECT_EQ(client.post("/upload")
                .body("--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\ntruncated",
                      "multipart/form-data; boundary=XyZ")
                .send()
                .status,
            400);
  App small;
  small.post("/upload", [](http::Request& req, Context&) -> asio::awaitable<http::Response> {
    MultipartReader form(req, MultipartLimits{.max_part_bytes = 1000});
    while (co_await form.next_part())
      co_await form.read_text(1 << 20);
    co_return status(204);
  });
  TestClient small_client(small);
  EXPECT_EQ(small_client.post("/upload")
                .body(multipart_body("B"), "multipart/form-data; boundary=B")
                .send()
                .status,
            413);
}

TEST(App, StreamsAndSse) {
  App app;
  app.get("/stream", [](Context&) {
    return stream(
        [](StreamWriter& w) -> asio::awaitable<void> {
          for (int i = 0; i < 100; ++i) {
            if (!co_await w.write("line " + std::to_string(i) + "\n")) co_return;
          }
        },
        "text/plain", 200);
  });
  app.get("/events", [](Context& c) {
    return sse(c, [](SseStream& events) -> asio::awaitable<void> {
      SseEvent first{"resumed after " + events.last_event_id(), "", "", {}};
      co_await events.send(first);
      SseEvent second{"two\nlines", "update", "7", std::chrono::milliseconds(500)};
      co_await events.send(second);
    });
  });
  TestClient client(app);
  TestResponse s = client.get("/stream").send();
  EXPECT_EQ(s.status, 200);
  EXPECT_EQ(s.body.size(), 790u);
  EXPECT_EQ(s.body.substr(0, 14), "line 0\nline 1\n");
  EXPECT_TRUE(client.head("/stream").send().body.empty());

  TestResponse e = client.get("/events").header("Last-Event-ID", "6").send();
  EXPECT_EQ(e.header("content-type"), "text/event-stream");
  EXPECT_EQ(e.header("cache-control"), "no-cache");
  EXPECT_EQ(e.body,
            "data: resumed after 6\n\n"
            "event: update\nid: 7\nretry: 500\ndata: two\ndata: lines\n\n");
  EXPECT_THROW(format_sse_event(SseEvent{"x", "bad\nname", "", {}}), std::invalid_argument);
}

TEST(App, SseHeartbeatWhileIdle) {
  App app;
  app.get("/quiet", [](Context& c) {
    return sse(
        c,
        [](SseStream& events) -> asio::awaitable<void> {
          // Idle for five heartbeat intervals, then one event: heartbeats fill the silence.
          asio::steady_timer t(co_await asio::this_coro::executor, std::chrono::milliseconds(50));
          co_await t.async_wait(asio::use_awaitable);
          co_await events.send("done");
        },
        std::chrono::milliseconds(10));
  });
  TestClient client(app);
  TestResponse r = client.get("/quiet").send();
  EXPECT_NE(r.body.find(": heartbeat\n\n"), std::string::npos) << r.body;
  EXPECT_EQ(r.body.substr(r.body.size() - 12), "data: done\n\n");
}

TEST(App, CookiesAndRedirects) {
  SetCookie c("session", "abc123");
  c.path("/").http_only().same_site(SameSite::kLax).max_age(std::chrono::seconds(3600));
  EXPECT_EQ(c.to_string(), "session=abc123; Max-Age=3600; Path=/; HttpOnly; SameSite=Lax");
  SetCookie all("id", "1");
  all.expires(std::chrono::system_clock::time_point(std::chrono::seconds(784111777)))
      .domain("example.com")
      .same_site(SameSite::kNone)
      .partitioned();
  EXPECT_EQ(all.to_string(),
            "id=1; Expires=Sun, 06 Nov 1994 08:49:37 GMT; Domain=example.com; Secure; "
            "SameSite=None; Partitioned");
  EXPECT_THROW(SetCookie("bad name", "v"), std::invalid_argument);
  EXPECT_THROW(SetCookie("n", "a;b"), std::invalid_argument);
  EXPECT_THROW(SetCookie("n", "v").path("/x\r\nSet-Cookie: evil"), std::invalid_argument);

  http::Response r = redirect("/login", 303);
  EXPECT_EQ(r.head.status, 303);
  EXPECT_EQ(r.head.headers.get("location"), "/login");
  EXPECT_THROW(redirect("/x", 200), std::invalid_argument);
  EXPECT_THROW(redirect("/x\r\nX: y"), std::invalid_argument);
}

TEST(App, StaticFilesMountedWithApi) {
  namespace fs = std::filesystem;
  fs::path root = fs::temp_directory_path() / ("rws-app-static-" + std::to_string(::getpid()));
  fs::create_directories(root / "sub");
  std::ofstream(root / "a.txt") << "file a";
  std::ofstream(root / "sub" / "index.html") << "<p>sub</p>";
  App app;
  app.get("/api/hello", [](Context&) { return text("api"); });
  StaticOptions options;
  options.root = root.string();
  app.static_files("/assets", options);
  app.get("/download",
          [root](http::Request& req, Context&) { return file(req, (root / "a.txt").string()); });
  TestClient client(app);
  EXPECT_EQ(client.get("/api/hello").send().body, "api");
  EXPECT_EQ(client.get("/assets/a.txt").send().body, "file a");
  TestResponse redirect_root = client.get("/assets?x=1").send();
  EXPECT_EQ(redirect_root.status, 301);
  EXPECT_EQ(redirect_root.header("location"), "/assets/?x=1");
  TestResponse redirect_dir = client.get("/assets/sub").send();
  EXPECT_EQ(redirect_dir.status, 301);
  EXPECT_EQ(redirect_dir.header("location"), "/assets/sub/");
  EXPECT_EQ(client.get("/assets/sub/").send().body, "<p>sub</p>");
  EXPECT_EQ(client.post("/assets/a.txt").send().status, 405);
  TestResponse d = client.get("/download").header("Range", "bytes=0-3").send();
  EXPECT_EQ(d.status, 206);
  EXPECT_EQ(d.body, "file");
  EXPECT_FALSE(d.header("etag").empty());
  EXPECT_EQ(client.get("/assets/../../etc/passwd").send().status, 400);
  fs::remove_all(root);
}

}  // namespace
}  // namespace rws
