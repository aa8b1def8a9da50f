// Route lookup cost against the number of routes (10, 1 000, 10 000): it should stay flat,
// because lookup walks one tree level per path segment.
//
//   cmake -S . -B build/bench -G Ninja -DCMAKE_BUILD_TYPE=Release -DRWS_BUILD_BENCH=ON
//   cmake --build build/bench --target router_bench && build/bench/bench/router_bench

#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "app/router.hpp"

namespace {

using rws::app_detail::Pattern;
using rws::app_detail::Router;
using rws::app_detail::split_path;

// A REST-like table: /api/v1/resource<i>, /api/v1/resource<i>/:id, /api/v1/resource<i>/:id/sub.
Router make_router(std::size_t routes) {
  Router router;
  for (std::size_t i = 0; i * 3 < routes; ++i) {
    std::string base = "/api/v1/resource" + std::to_string(i);
    router.add(Pattern::parse(base), "GET", i * 3);
    router.add(Pattern::parse(base + "/:id"), "GET", i * 3 + 1);
    router.add(Pattern::parse(base + "/:id/sub"), "GET", i * 3 + 2);
  }
  return router;
}

void BM_MatchParamRoute(benchmark::State& state) {
  auto routes = static_cast<std::size_t>(state.range(0));
  Router router = make_router(routes);
  // The last resource: a linear scan would be slowest here.
  std::string path = "/api/v1/resource" + std::to_string(routes / 3 - 1) + "/12345/sub";
  std::vector<std::string_view> segments = split_path(path);
  for (auto _ : state) {
    Router::Match m = router.match(segments, "GET");
    benchmark::DoNotOptimize(m.route);
  }
}
BENCHMARK(BM_MatchParamRoute)->Arg(10)->Arg(1000)->Arg(10000);

void BM_MatchMiss(benchmark::State& state) {
  Router router = make_router(static_cast<std::size_t>(state.range(0)));
  std::string path = "/api/v1/unknown/1";
  std::vector<std::string_view> segments = split_path(path);
  for (auto _ : state) {
    Router::Match m = router.match(segments, "GET");
    benchmark::DoNotOptimize(m.outcome);
  }
}
BENCHMARK(BM_MatchMiss)->Arg(10)->Arg(1000)->Arg(10000);

}  // namespace

BENCHMARK_MAIN();
