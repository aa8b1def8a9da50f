#include <cstdint>
#include <memory>
#include <random>

#include <rws/middleware/request_id.hpp>

namespace rws::middleware {
namespace {

// 128 random bits as 32 hex digits. Ids need to be unique, not secret: a per-thread generator
// seeded from the OS is enough.
std::string random_id() {
  thread_local std::mt19937_64 generator{[] {
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
  }()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  for (int half = 0; half < 2; ++half) {
    std::uint64_t bits = generator();
    for (int i = 0; i < 16; ++i, bits >>= 4)
      id[half * 16 + i] = kHex[bits & 0xf];
  }
  return id;
}

}  // namespace

bool valid_request_id(std::string_view id) {
  if (id.empty() || id.size() > 128) return false;
  for (char c : id) {
    if (c <= 0x20 || c >= 0x7f) return false;  // visible ASCII only: no spaces, no controls
  }
  return true;
}

Middleware request_id(RequestIdOptions options) {
  auto header = std::make_shared<const std::string>(std::move(options.header));
  return [header](http::Request& request, Context& context,
                  Next next) -> asio::awaitable<http::Response> {
    std::string id(request.head.headers.get(*header));
    if (request.head.headers.count(*header) != 1 || !valid_request_id(id)) id = random_id();
    request.head.headers.set(*header, id);
    if (http::ExchangeNotes* notes = context.connection().notes) notes->request_id = id;
    http::Response response = co_await next(request, context);
    response.head.headers.set(*header, id);
    co_return response;
  };
}

}  // namespace rws::middleware
