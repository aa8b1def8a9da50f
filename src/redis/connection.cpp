#include "redis/connection.hpp"

#include <array>
#include <map>
#include <string_view>
#include <utility>
#include <vector>

#include <asio/co_spawn.hpp>
#include <asio/connect.hpp>
#include <asio/detached.hpp>
#include <asio/experimental/as_tuple.hpp>
#include <asio/ip/address.hpp>
#include <asio/steady_timer.hpp>
#include <asio/use_awaitable.hpp>
#include <asio/write.hpp>

namespace rws::redis {
namespace {

constexpr auto kUseTuple = asio::experimental::as_tuple(asio::use_awaitable);
constexpr std::size_t kReadChunk = 16 * 1024;
// Received but unparsed bytes beyond this: a reply far larger than any this client asks for.
constexpr std::size_t kMaxInput = 4 * kMaxBulk;

using Table = std::map<std::pair<const void*, std::string>, std::weak_ptr<Connection>>;

std::string table_key(const RedisUrl& url) {
  std::string key = url.host;
  for (const std::string* part : {&url.username, &url.password}) {
    key += '\n';
    key += *part;
  }
  key += '\n' + std::to_string(url.port) + '\n' + std::to_string(url.db);
  return key;
}

}  // namespace

// A call waiting for its reply: the timer is both its deadline and its wake-up (cancelled when
// the reply or a failure arrives).
struct Connection::Waiter {
  explicit Waiter(const asio::any_io_executor& executor) : timer(executor) {}
  asio::steady_timer timer;
  bool done = false;
  Result<Reply> result{Reply{}};
};

std::shared_ptr<Connection> Connection::local(const RedisUrl& url,
                                              const asio::any_io_executor& executor) {
  thread_local Table table;
  for (auto it = table.begin(); it != table.end();) {
    it = it->second.expired() ? table.erase(it) : std::next(it);
  }
  const void* context = &asio::query(executor, asio::execution::context);
  std::weak_ptr<Connection>& slot = table[{context, table_key(url)}];
  std::shared_ptr<Connection> connection = slot.lock();
  if (!connection) {
    connection = std::make_shared<Connection>(url, executor);
    slot = connection;
  }
  return connection;
}

Connection::Connection(RedisUrl url, asio::any_io_executor executor)
    : url_(std::move(url)),
      executor_(std::move(executor)),
      socket_(executor_),
      registry_(net::ConnectionRegistry::current()) {
  if (registry_ != nullptr) registry_->add(*this);
}

Connection::~Connection() {
  if (registry_ != nullptr) registry_->remove(*this);
}

void Connection::on_drain() noexcept {
  if (pending_.empty()) fail(error(make_error_code(Errc::kCancelled), "rws is shutting down"));
}

void Connection::on_abort() noexcept {
  fail(error(make_error_code(Errc::kCancelled), "rws is shutting down"));
}

Error Connection::error(std::error_code code, std::string context) const {
  return Error{code, ErrorSide::kUpstream, true, std::move(context)};
}

asio::awaitable<Result<Reply>> Connection::call(std::string command,
                                                std::chrono::milliseconds timeout) {
  std::shared_ptr<Connection> self = shared_from_this();
  auto waiter = std::make_shared<Waiter>(executor_);
  waiter->timer.expires_after(timeout);
  output_ += command;
  pending_.push_back({waiter, ""});
  if (state_ == State::kIdle) {
    state_ = State::kConnecting;
    asio::co_spawn(executor_, connect(self, generation_), asio::detached);
  } else if (state_ == State::kReady) {
    start_writer();
  }
  // Nothing above completes the waiter: replies and failures arrive through the event loop.
  co_await waiter->timer.async_wait(kUseTuple);
  if (!waiter->done) {
    fail(error(make_error_code(Errc::kTimeout), "Redis at " + url_.address() +
                                                    " did not answer within " +
                                                    std::to_string(timeout.count()) + " ms"));
  }
  co_return std::move(waiter->result);
}

asio::awaitable<void> Connection::connect(std::shared_ptr<Connection> self,
                                          std::uint64_t generation) {
  std::vector<asio::ip::tcp::endpoint> endpoints;
  std::error_code numeric;
  const asio::ip::address address = asio::ip::make_address(url_.host, numeric);
  if (!numeric) {
    endpoints.emplace_back(address, url_.port);
  } else {
    asio::ip::tcp::resolver resolver(executor_);
    const std::string host = url_.host;
    const std::string service = std::to_string(url_.port);
    auto [ec, results] = co_await resolver.async_resolve(host, service, kUseTuple);
    if (generation_ != generation) co_return;
    if (ec) {
      fail(error(ec, "cannot resolve the Redis host '" + url_.host + "'"));
      co_return;
    }
    for (const auto& entry : results)
      endpoints.push_back(entry.endpoint());
  }
  // A socket of its own: a failure may close it while the connect is in flight, and a later
  // connect must not share it.
  asio::ip::tcp::socket socket(executor_);
  connecting_ = &socket;
  auto [ec, endpoint] = co_await asio::async_connect(socket, endpoints, kUseTuple);
  if (generation_ != generation) co_return;
  connecting_ = nullptr;
  if (ec) {
    fail(error(ec, "cannot connect to Redis at " + url_.address()));
    co_return;
  }
  std::error_code ignored;
  socket.set_option(asio::ip::tcp::no_delay(true), ignored);
  socket_ = std::move(socket);

  // The handshake goes before the commands queued meanwhile, and its replies come first.
  std::string handshake;
  if (url_.db != 0) {
    const std::string db = std::to_string(url_.db);
    const std::string_view select[] = {"SELECT", db};
    append_command(handshake, select);
    pending_.push_front({nullptr, "SELECT"});
  }
  if (!url_.password.empty()) {
    std::string auth;
    if (url_.username.empty()) {
      const std::string_view args[] = {"AUTH", url_.password};
      append_command(auth, args);
    } else {
      const std::string_view args[] = {"AUTH", url_.username, url_.password};
      append_command(auth, args);
    }
    handshake.insert(0, auth);
    pending_.push_front({nullptr, "AUTH"});
  }
  output_.insert(0, handshake);
  state_ = State::kReady;
  asio::co_spawn(executor_, read_loop(self, generation), asio::detached);
  start_writer();
}

void Connection::start_writer() {
  if (writing_ || output_.empty()) return;
  writing_ = true;
  asio::co_spawn(executor_, write_loop(shared_from_this(), generation_), asio::detached);
}

asio::awaitable<void> Connection::write_loop([[maybe_unused]] std::shared_ptr<Connection> self,
                                             std::uint64_t generation) {
  std::string chunk;
  while (generation_ == generation && !output_.empty()) {
    chunk.clear();
    chunk.swap(output_);
    const asio::const_buffer buffer = asio::buffer(chunk);
    auto [ec, n] = co_await asio::async_write(socket_, buffer, kUseTuple);
    if (generation_ != generation) co_return;
    if (ec) {
      fail(error(ec, "writing to Redis at " + url_.address() + " failed"));
      co_return;
    }
  }
  if (generation_ == generation) writing_ = false;
}

asio::awaitable<void> Connection::read_loop([[maybe_unused]] std::shared_ptr<Connection> self,
                                            std::uint64_t generation) {
  std::array<char, kReadChunk> chunk;
  for (;;) {
    const asio::mutable_buffer buffer = asio::buffer(chunk);
    auto [ec, n] = co_await socket_.async_read_some(buffer, kUseTuple);
    if (generation_ != generation) co_return;
    if (ec) {
      fail(error(ec, ec == asio::error::eof
                         ? "Redis at " + url_.address() + " closed the connection"
                         : "reading from Redis at " + url_.address() + " failed"));
      co_return;
    }
    input_.append(chunk.data(), n);
    if (!dispatch_replies()) co_return;
  }
}

bool Connection::dispatch_replies() {
  std::size_t offset = 0;
  for (;;) {
    Reply reply;
    std::size_t used = 0;
    const ParseStatus s = parse_reply(std::string_view(input_).substr(offset), reply, used);
    if (s == ParseStatus::kIncomplete) break;
    if (s == ParseStatus::kError) {
      fail(error(make_error_code(Errc::kBadMessage),
                 "Redis at " + url_.address() + " sent a malformed reply"));
      return false;
    }
    offset += used;
    if (pending_.empty()) {
      fail(error(make_error_code(Errc::kBadMessage),
                 "Redis at " + url_.address() + " sent a reply to no command"));
      return false;
    }
    Entry entry = std::move(pending_.front());
    pending_.pop_front();
    if (!entry.waiter) {
      if (reply.type == Reply::Type::kError) {
        fail(error(make_error_code(Errc::kForbidden),
                   "Redis at " + url_.address() + " refused " + entry.what + ": " + reply.text));
        return false;
      }
      continue;
    }
    entry.waiter->result = std::move(reply);
    entry.waiter->done = true;
    entry.waiter->timer.cancel();
  }
  input_.erase(0, offset);
  if (input_.size() > kMaxInput) {
    fail(error(make_error_code(Errc::kTooLarge),
               "Redis at " + url_.address() + " sent a reply too large"));
    return false;
  }
  if (registry_ != nullptr && registry_->draining() && pending_.empty()) {
    on_drain();  // the last call was answered: let the worker stop
    return false;
  }
  return true;
}

void Connection::fail(const Error& e) {
  ++generation_;
  state_ = State::kIdle;
  writing_ = false;
  std::error_code ignored;
  socket_.close(ignored);
  if (connecting_ != nullptr) connecting_->close(ignored);
  connecting_ = nullptr;
  output_.clear();
  input_.clear();
  std::deque<Entry> waiting;
  waiting.swap(pending_);
  for (Entry& entry : waiting) {
    if (!entry.waiter) continue;
    entry.waiter->result = Unexpected<Error>(e);
    entry.waiter->done = true;
    entry.waiter->timer.cancel();
  }
}

}  // namespace rws::redis
