#include "middleware/service_address.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <memory>
#include <system_error>

#include <asio/co_spawn.hpp>
#include <asio/detached.hpp>
#include <asio/io_context.hpp>
#include <asio/ip/tcp.hpp>

namespace rws::middleware {
namespace {

using asio::ip::tcp;
using std::chrono::hours;
using std::chrono::milliseconds;

const tcp::endpoint kOld(asio::ip::make_address("127.0.0.2"), 9000);

bool has_loopback(const ServiceAddress::Endpoints& endpoints) {
  return std::any_of(endpoints.begin(), endpoints.end(), [](const tcp::endpoint& e) {
    return e.address().is_loopback() && e.address() != kOld.address() && e.port() == 9000;
  });
}

TEST(ServiceAddress, ResolveReplacesTheAddresses) {
  asio::io_context io;
  auto a = std::make_shared<ServiceAddress>(ServiceAddress::Endpoints{kOld}, "localhost", 9000,
                                            hours(1));
  std::error_code ec = make_error_code(std::errc::interrupted);
  asio::co_spawn(io, a->resolve(), [&](std::exception_ptr, std::error_code got) { ec = got; });
  io.run();
  EXPECT_FALSE(ec) << ec.message();
  EXPECT_TRUE(has_loopback(*a->endpoints()));
}

TEST(ServiceAddress, DueRefreshRunsInTheBackground) {
  asio::io_context io;
  auto a = std::make_shared<ServiceAddress>(ServiceAddress::Endpoints{kOld}, "localhost", 9000,
                                            milliseconds(0));
  a->refresh_if_due(io.get_executor());
  EXPECT_EQ(*a->endpoints(), ServiceAddress::Endpoints{kOld}) << "does not wait";
  io.run();  // until the resolution is over
  EXPECT_TRUE(has_loopback(*a->endpoints()));
}

TEST(ServiceAddress, NoRefreshBeforeItIsDue) {
  asio::io_context io;
  auto a = std::make_shared<ServiceAddress>(ServiceAddress::Endpoints{kOld}, "localhost", 9000,
                                            hours(1));
  a->refresh_if_due(io.get_executor());
  EXPECT_EQ(io.run(), 0u);
  EXPECT_EQ(*a->endpoints(), ServiceAddress::Endpoints{kOld});
}

TEST(ServiceAddress, AnIpLiteralIsNeverResolved) {
  asio::io_context io;
  auto a =
      std::make_shared<ServiceAddress>(ServiceAddress::Endpoints{kOld}, "", 9000, milliseconds(0));
  a->refresh_if_due(io.get_executor());
  EXPECT_EQ(io.run(), 0u);
  EXPECT_EQ(*a->endpoints(), ServiceAddress::Endpoints{kOld});
}

}  // namespace
}  // namespace rws::middleware
