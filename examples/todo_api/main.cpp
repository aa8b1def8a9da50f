// A JSON CRUD API with validation: todos kept in memory.
//
//   GET    /todos            list
//   POST   /todos            create {"title": "...", "done": false}  → 201 + Location
//   GET    /todos/:id        one (404 if missing, 400 if :id is not an integer)
//   PUT    /todos/:id        replace
//   DELETE /todos/:id        remove → 204
//
// Invalid bodies get 422 with {"errors": [{"field", "message"}...]}.

#include <cstdlib>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include <rws/rws.hpp>

namespace {

struct Todo {
  std::int64_t id = 0;
  std::string title;
  bool done = false;
};

rws::Json to_json(const Todo& t) {
  return {{"id", t.id}, {"title", t.title}, {"done", t.done}};
}

// Shared by every worker thread, so it locks.
class TodoStore {
 public:
  std::vector<Todo> list() {
    std::lock_guard lock(mutex_);
    std::vector<Todo> out;
    for (const auto& [id, t] : todos_)
      out.push_back(t);
    return out;
  }
  Todo create(std::string title, bool done) {
    std::lock_guard lock(mutex_);
    Todo t{next_id_++, std::move(title), done};
    todos_[t.id] = t;
    return t;
  }
  std::optional<Todo> find(std::int64_t id) {
    std::lock_guard lock(mutex_);
    auto it = todos_.find(id);
    if (it == todos_.end()) return std::nullopt;
    return it->second;
  }
  bool replace(const Todo& t) {
    std::lock_guard lock(mutex_);
    auto it = todos_.find(t.id);
    if (it == todos_.end()) return false;
    it->second = t;
    return true;
  }
  bool remove(std::int64_t id) {
    std::lock_guard lock(mutex_);
    return todos_.erase(id) > 0;
  }

 private:
  std::mutex mutex_;
  std::map<std::int64_t, Todo> todos_;
  std::int64_t next_id_ = 1;
};

// The fields of a todo in a request body, validated.
struct TodoInput {
  std::string title;
  bool done = false;
};

asio::awaitable<TodoInput> read_todo(rws::http::Request& req) {
  rws::Json body = co_await rws::read_json(req, 16 * 1024);
  rws::Validator v(body);
  v.required("title").string().length(1, 200);
  v.optional("done").boolean();
  v.throw_if_invalid();
  co_return TodoInput{body["title"].get<std::string>(), body.value("done", false)};
}

rws::http::Response not_found(std::int64_t id) {
  return rws::json({{"error", "no todo " + std::to_string(id)}}, 404);
}

}  // namespace

int main(int argc, char** argv) {
  rws::App app;
  app.provide(std::make_shared<TodoStore>());

  app.get("/todos", [](rws::Context& ctx) {
    rws::Json out = rws::Json::array();
    for (const Todo& t : ctx.state<TodoStore>().list())
      out.push_back(to_json(t));
    return rws::json(out);
  });
  app.post("/todos",
           [](rws::http::Request& req, rws::Context& ctx) -> asio::awaitable<rws::http::Response> {
             TodoInput input = co_await read_todo(req);
             Todo t = ctx.state<TodoStore>().create(std::move(input.title), input.done);
             rws::http::Response r = rws::json(to_json(t), 201);
             r.head.headers.add("Location", "/todos/" + std::to_string(t.id));
             co_return r;
           });
  app.get("/todos/:id", [](rws::Context& ctx) {
    auto id = ctx.param<std::int64_t>("id");
    std::optional<Todo> t = ctx.state<TodoStore>().find(id);
    return t ? rws::json(to_json(*t)) : not_found(id);
  });
  app.put("/todos/:id",
          [](rws::http::Request& req, rws::Context& ctx) -> asio::awaitable<rws::http::Response> {
            auto id = ctx.param<std::int64_t>("id");
            TodoInput input = co_await read_todo(req);
            Todo t{id, std::move(input.title), input.done};
            if (!ctx.state<TodoStore>().replace(t)) co_return not_found(id);
            co_return rws::json(to_json(t));
          });
  app.del("/todos/:id", [](rws::Context& ctx) {
    auto id = ctx.param<std::int64_t>("id");
    return ctx.state<TodoStore>().remove(id) ? rws::status(204) : not_found(id);
  });

  rws::server::ServerOptions options;
  options.ip = "127.0.0.1";
  options.port = static_cast<std::uint16_t>(argc > 1 ? std::atoi(argv[1]) : 8080);
  return rws::run(app, options);
}
