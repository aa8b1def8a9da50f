#include "metrics/registry.hpp"

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace rws::metrics {
namespace {

using namespace std::chrono_literals;

bool has_line(const std::string& text, const std::string& line) {
  return text.find("\n" + line + "\n") != std::string::npos;
}

http::ExchangeRecord exchange(std::string_view route, std::string_view method, int status) {
  http::ExchangeRecord r;
  r.route = route;
  r.method = method;
  r.status = status;
  r.body_bytes = 10;
  r.duration = 2ms;
  return r;
}

TEST(Registry, MethodAndCodeLabels) {
  EXPECT_EQ(kMethods[method_index("GET")], "GET");
  EXPECT_EQ(kMethods[method_index("OPTIONS")], "OPTIONS");
  EXPECT_EQ(kMethods[method_index("PROPFIND")], "other");
  EXPECT_EQ(kMethods[method_index("get")], "other");
  EXPECT_EQ(kCodes[code_index(101)], "1xx");
  EXPECT_EQ(kCodes[code_index(599)], "5xx");
  EXPECT_EQ(kCodes[code_index(0)], "error");
}

// Several threads count the same and new label sets at once; nothing is lost.
TEST(Registry, ConcurrentRecordsAreAllCounted) {
  Registry registry;
  constexpr int kThreads = 4;
  constexpr int kPerThread = 5000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&registry, t] {
      const std::string own = "route-" + std::to_string(t);
      for (int i = 0; i < kPerThread; ++i) {
        registry.record(exchange("shared", "GET", 200));
        registry.record(exchange(own, "DELETE", 503));
        http::ExchangeRecord proxied = exchange("shared", "POST", 502);
        proxied.upstream = "api";
        proxied.upstream_address = "127.0.0.1:1";
        proxied.upstream_time = 1500us;
        proxied.upstream_status = 502;
        proxied.request_bytes = 7;
        registry.record(proxied);
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  const std::string text = registry.scrape();
  const std::string total = std::to_string(kThreads * kPerThread);
  EXPECT_TRUE(has_line(
      text, "rws_http_requests_total{route=\"shared\",method=\"GET\",code=\"2xx\"} " + total))
      << text;
  EXPECT_TRUE(has_line(
      text, "rws_http_requests_total{route=\"shared\",method=\"POST\",code=\"5xx\"} " + total));
  for (int t = 0; t < kThreads; ++t) {
    EXPECT_TRUE(has_line(text, "rws_http_requests_total{route=\"route-" + std::to_string(t) +
                                   "\",method=\"DELETE\",code=\"5xx\"} " +
                                   std::to_string(kPerThread)))
        << text;
  }
  EXPECT_TRUE(has_line(text, "rws_http_request_duration_seconds_count{route=\"shared\"} " +
                                 std::to_string(2 * kThreads * kPerThread)));
  EXPECT_TRUE(has_line(text, "rws_http_response_bytes_total{route=\"shared\"} " +
                                 std::to_string(20 * kThreads * kPerThread)));
  EXPECT_TRUE(has_line(text, "rws_http_request_bytes_total{route=\"shared\"} " +
                                 std::to_string(7 * kThreads * kPerThread)));
  EXPECT_TRUE(has_line(
      text, "rws_upstream_requests_total{upstream=\"api\",backend=\"127.0.0.1:1\",code=\"5xx\"} " +
                total));
  EXPECT_TRUE(has_line(
      text, "rws_upstream_response_seconds_bucket{upstream=\"api\",le=\"0.005\"} " + total));
}

TEST(Registry, UnansweredExchangesAndNoResponseUpstreams) {
  Registry registry;
  registry.record(exchange("r", "GET", 0));  // nothing was sent: not counted
  http::ExchangeRecord failed = exchange("r", "GET", 502);
  failed.upstream = "api";
  failed.upstream_address = "127.0.0.1:9";
  failed.upstream_time = 100us;
  registry.record(failed);  // upstream_status 0: no response from the backend
  const std::string text = registry.scrape();
  EXPECT_TRUE(has_line(text, "rws_http_request_duration_seconds_count{route=\"r\"} 1")) << text;
  EXPECT_TRUE(has_line(
      text,
      "rws_upstream_requests_total{upstream=\"api\",backend=\"127.0.0.1:9\",code=\"error\"} 1"))
      << text;
}

TEST(Registry, ReloadsAndCollectors) {
  Registry registry;
  registry.count_reload(true);
  registry.count_reload(false);
  registry.count_reload(true);
  registry.add_collector([](std::string& out) { out += "extra_gauge 3\n"; });
  const std::string text = registry.scrape();
  EXPECT_TRUE(has_line(text, "rws_config_reloads_total{result=\"success\"} 2")) << text;
  EXPECT_TRUE(has_line(text, "rws_config_reloads_total{result=\"failure\"} 1")) << text;
  EXPECT_TRUE(text.ends_with("\nextra_gauge 3\n")) << text;
}

}  // namespace
}  // namespace rws::metrics
