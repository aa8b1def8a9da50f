#include "proxy/balancer.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace rws::proxy {
namespace {

using config::Strategy;

std::vector<std::shared_ptr<Backend>> make_backends(std::vector<unsigned> weights) {
  std::vector<std::shared_ptr<Backend>> out;
  for (std::size_t i = 0; i < weights.size(); ++i) {
    config::Backend address;
    address.host = "10.0.0." + std::to_string(i + 1);
    address.port = 8080;
    address.url = address.host + ":8080";
    address.weight = weights[i];
    out.push_back(std::make_shared<Backend>("up", address));
  }
  return out;
}

const Balancer::Eligible kAll = [](std::size_t) { return true; };
const Balancer::Eligible kNone = [](std::size_t) { return false; };

Balancer::Eligible only(std::set<std::size_t> allowed) {
  return [allowed = std::move(allowed)](std::size_t i) { return allowed.count(i) > 0; };
}

Balancer::Eligible all_but(std::size_t excluded) {
  return [excluded](std::size_t i) { return i != excluded; };
}

std::string client_ip(int n) {
  return std::to_string(10 + n / 65536 % 256) + "." + std::to_string(n / 256 % 256) + "." +
         std::to_string(n % 256) + ".7";
}

// ----- round robin ------------------------------------------------------------------------------

TEST(RoundRobin, EqualWeightsRotate) {
  auto balancer = Balancer::make(Strategy::kRoundRobin, make_backends({1, 1, 1}));
  std::vector<std::size_t> picks;
  for (int i = 0; i < 6; ++i)
    picks.push_back(balancer->pick("", kAll).value());
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobin, SmoothWeightedGivesExactProportionsPerCycle) {
  auto balancer = Balancer::make(Strategy::kRoundRobin, make_backends({5, 1, 1}));
  for (int cycle = 0; cycle < 20; ++cycle) {
    std::map<std::size_t, int> counts;
    for (int i = 0; i < 7; ++i)
      ++counts[balancer->pick("", kAll).value()];
    EXPECT_EQ(counts[0], 5) << "cycle " << cycle;
    EXPECT_EQ(counts[1], 1) << "cycle " << cycle;
    EXPECT_EQ(counts[2], 1) << "cycle " << cycle;
  }
}

// Every thread shard (every worker) keeps its own scores, as nginx workers do: a worker's picks
// interleave smoothly from its first one, whatever the other workers picked before.
TEST(RoundRobin, EachWorkerHasItsOwnSmoothSequence) {
  auto balancer = Balancer::make(Strategy::kRoundRobin, make_backends({5, 1, 1}));
  std::vector<std::size_t> first;
  std::vector<std::size_t> second;
  std::thread([&] { first.push_back(balancer->pick("", kAll).value()); }).join();
  std::thread([&] {
    for (int i = 0; i < 7; ++i)
      second.push_back(balancer->pick("", kAll).value());
  }).join();
  EXPECT_EQ(first, (std::vector<std::size_t>{0}));
  EXPECT_EQ(second, (std::vector<std::size_t>{0, 0, 1, 0, 2, 0, 0}));
}

TEST(RoundRobin, SmoothWeightedInterleaves) {
  auto balancer = Balancer::make(Strategy::kRoundRobin, make_backends({5, 1, 1}));
  std::vector<std::size_t> picks;
  for (int i = 0; i < 70; ++i)
    picks.push_back(balancer->pick("", kAll).value());
  // Nginx's sequence for 5:1:1 is a a b a c a a: the heavy backend never gets 5 in a row.
  EXPECT_EQ(std::vector<std::size_t>(picks.begin(), picks.begin() + 7),
            (std::vector<std::size_t>{0, 0, 1, 0, 2, 0, 0}));
  std::size_t run = 0;
  std::size_t longest = 0;
  for (std::size_t i = 0; i < picks.size(); ++i) {
    run = i > 0 && picks[i] == picks[i - 1] ? run + 1 : 1;
    longest = std::max(longest, run);
  }
  EXPECT_LT(longest, 5u);
}

TEST(RoundRobin, SkipsIneligibleBackends) {
  auto balancer = Balancer::make(Strategy::kRoundRobin, make_backends({1, 1, 1}));
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 100; ++i)
    ++counts[balancer->pick("", all_but(1)).value()];
  EXPECT_EQ(counts[0], 50);
  EXPECT_EQ(counts[1], 0);
  EXPECT_EQ(counts[2], 50);
}

TEST(RoundRobin, WeightChangesTakeEffect) {
  auto backends = make_backends({1, 1});
  auto balancer = Balancer::make(Strategy::kRoundRobin, backends);
  backends[0]->set_weight(3);
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 40; ++i)
    ++counts[balancer->pick("", kAll).value()];
  EXPECT_EQ(counts[0], 30);
  EXPECT_EQ(counts[1], 10);
}

// ----- least connections ------------------------------------------------------------------------

TEST(LeastConn, PicksTheFewestInFlight) {
  auto backends = make_backends({1, 1, 1});
  backends[0]->in_flight = 3;
  backends[1]->in_flight = 1;
  backends[2]->in_flight = 2;
  auto balancer = Balancer::make(Strategy::kLeastConn, backends);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(balancer->pick("", kAll), 1u);
  // When the least loaded one is not eligible, the next least loaded is taken.
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(balancer->pick("", all_but(1)), 2u);
}

TEST(LeastConn, FollowsTheLoadAsItChanges) {
  auto backends = make_backends({1, 1});
  auto balancer = Balancer::make(Strategy::kLeastConn, backends);
  // Each pick sends a request that stays in flight: picks alternate to keep the load even.
  for (int i = 0; i < 10; ++i) {
    std::size_t picked = balancer->pick("", kAll).value();
    ++backends[picked]->in_flight;
  }
  EXPECT_EQ(backends[0]->in_flight.load(), 5u);
  EXPECT_EQ(backends[1]->in_flight.load(), 5u);
}

TEST(LeastConn, TiesRotate) {
  auto balancer = Balancer::make(Strategy::kLeastConn, make_backends({1, 1, 1}));
  std::set<std::size_t> seen;
  for (int i = 0; i < 3; ++i)
    seen.insert(balancer->pick("", kAll).value());
  EXPECT_EQ(seen.size(), 3u);
}

TEST(LeastConn, LoadIsRelativeToWeight) {
  auto backends = make_backends({4, 1});
  backends[0]->in_flight = 2;  // (2 + 1) / 4 < (0 + 1) / 1
  auto balancer = Balancer::make(Strategy::kLeastConn, backends);
  EXPECT_EQ(balancer->pick("", kAll), 0u);
  backends[0]->in_flight = 4;  // (4 + 1) / 4 > 1
  EXPECT_EQ(balancer->pick("", kAll), 1u);
}

// ----- ip_hash ----------------------------------------------------------------------------------

TEST(IpHash, SameClientSameBackend) {
  auto balancer = Balancer::make(Strategy::kIpHash, make_backends({1, 1, 1}));
  for (int n = 0; n < 100; ++n) {
    std::string ip = client_ip(n);
    std::optional<std::size_t> first = balancer->pick(ip, kAll);
    ASSERT_TRUE(first.has_value());
    for (int k = 0; k < 5; ++k)
      EXPECT_EQ(balancer->pick(ip, kAll), first) << ip;
  }
  // A balancer built anew over the same backends agrees (no per-process seed).
  auto again = Balancer::make(Strategy::kIpHash, make_backends({1, 1, 1}));
  for (int n = 0; n < 100; ++n)
    EXPECT_EQ(again->pick(client_ip(n), kAll), balancer->pick(client_ip(n), kAll));
}

TEST(IpHash, SpreadsClientsRoughlyEvenly) {
  constexpr int kClients = 3000;
  auto balancer = Balancer::make(Strategy::kIpHash, make_backends({1, 1, 1}));
  std::map<std::size_t, int> counts;
  for (int n = 0; n < kClients; ++n)
    ++counts[balancer->pick(client_ip(n), kAll).value()];
  ASSERT_EQ(counts.size(), 3u);
  for (const auto& [index, count] : counts) {
    EXPECT_GT(count, kClients / 3 * 7 / 10) << "backend " << index;
    EXPECT_LT(count, kClients / 3 * 13 / 10) << "backend " << index;
  }
}

TEST(IpHash, WeightsShiftTheSpread) {
  constexpr int kClients = 3000;
  auto balancer = Balancer::make(Strategy::kIpHash, make_backends({2, 1}));
  std::map<std::size_t, int> counts;
  for (int n = 0; n < kClients; ++n)
    ++counts[balancer->pick(client_ip(n), kAll).value()];
  EXPECT_GT(counts[0], counts[1] * 3 / 2);
  EXPECT_LT(counts[0], counts[1] * 5 / 2);
}

TEST(IpHash, AnIneligibleBackendMovesOnlyItsOwnClients) {
  constexpr int kClients = 1000;
  auto balancer = Balancer::make(Strategy::kIpHash, make_backends({1, 1, 1, 1}));
  std::vector<std::size_t> before;
  for (int n = 0; n < kClients; ++n)
    before.push_back(balancer->pick(client_ip(n), kAll).value());

  for (std::size_t gone = 0; gone < 4; ++gone) {
    std::map<std::size_t, int> moved_to;
    int kept = 0;
    for (int n = 0; n < kClients; ++n) {
      std::size_t now = balancer->pick(client_ip(n), all_but(gone)).value();
      ASSERT_NE(now, gone);
      if (before[n] == gone) {
        ++moved_to[now];
      } else {
        EXPECT_EQ(now, before[n]) << client_ip(n) << " moved although backend " << before[n]
                                  << " is still there";
        ++kept;
      }
    }
    EXPECT_GT(kept, 0);
    // The orphaned clients are shared among the others rather than all dumped on one.
    EXPECT_GE(moved_to.size(), 2u) << "backend " << gone;
  }

  // When it comes back, its clients return to it.
  for (int n = 0; n < kClients; ++n)
    EXPECT_EQ(balancer->pick(client_ip(n), kAll), before[n]);
}

TEST(IpHash, AddingABackendMovesClientsOnlyToIt) {
  constexpr int kClients = 1000;
  auto three = Balancer::make(Strategy::kIpHash, make_backends({1, 1, 1}));
  auto four = Balancer::make(Strategy::kIpHash, make_backends({1, 1, 1, 1}));
  int moved = 0;
  for (int n = 0; n < kClients; ++n) {
    std::size_t a = three->pick(client_ip(n), kAll).value();
    std::size_t b = four->pick(client_ip(n), kAll).value();
    if (a != b) {
      EXPECT_EQ(b, 3u) << client_ip(n);
      ++moved;
    }
  }
  EXPECT_GT(moved, kClients / 10);
  EXPECT_LT(moved, kClients / 2);
}

// ----- random and p2c ---------------------------------------------------------------------------

TEST(Random, PicksOnlyEligibleBackends) {
  auto balancer = Balancer::make(Strategy::kRandom, make_backends({1, 1, 1, 1}));
  std::map<std::size_t, int> counts;
  for (int i = 0; i < 2000; ++i) {
    std::size_t picked = balancer->pick("", only({1, 3})).value();
    ASSERT_TRUE(picked == 1 || picked == 3) << picked;
    ++counts[picked];
  }
  // Both are used, about evenly (binomial: 1000 ± 22 for one standard deviation).
  EXPECT_GT(counts[1], 800);
  EXPECT_GT(counts[3], 800);
}

TEST(Random, FollowsTheWeights) {
  auto balancer = Balancer::make(Strategy::kRandom, make_backends({3, 1}));
  int heavy = 0;
  for (int i = 0; i < 4000; ++i) {
    if (balancer->pick("", kAll) == 0u) ++heavy;
  }
  // Expected 3000, standard deviation about 27.
  EXPECT_GT(heavy, 2700);
  EXPECT_LT(heavy, 3300);
}

TEST(PowerOfTwo, PicksOnlyEligibleBackends) {
  auto balancer = Balancer::make(Strategy::kP2c, make_backends({1, 1, 1, 1, 1}));
  std::set<std::size_t> seen;
  for (int i = 0; i < 2000; ++i) {
    std::size_t picked = balancer->pick("", only({0, 2, 4})).value();
    ASSERT_TRUE(picked == 0 || picked == 2 || picked == 4) << picked;
    seen.insert(picked);
  }
  EXPECT_EQ(seen.size(), 3u);
}

TEST(PowerOfTwo, SingleEligibleBackendIsTaken) {
  auto balancer = Balancer::make(Strategy::kP2c, make_backends({1, 1, 1}));
  for (int i = 0; i < 20; ++i)
    EXPECT_EQ(balancer->pick("", only({2})), 2u);
}

TEST(PowerOfTwo, OfTwoTheLessLoadedWins) {
  auto backends = make_backends({1, 1});
  backends[0]->in_flight = 10;
  auto balancer = Balancer::make(Strategy::kP2c, backends);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(balancer->pick("", kAll), 1u);
}

TEST(PowerOfTwo, LatencyCountsInTheLoad) {
  auto backends = make_backends({1, 1});
  backends[0]->record_latency(std::chrono::milliseconds(200));
  backends[1]->record_latency(std::chrono::milliseconds(2));
  auto balancer = Balancer::make(Strategy::kP2c, backends);
  for (int i = 0; i < 50; ++i)
    EXPECT_EQ(balancer->pick("", kAll), 1u);
}

TEST(PowerOfTwo, TheMostLoadedOfSeveralIsNeverPicked) {
  // Two distinct candidates are compared each time, so the worst one always loses.
  auto backends = make_backends({1, 1, 1, 1});
  backends[2]->in_flight = 100;
  auto balancer = Balancer::make(Strategy::kP2c, backends);
  for (int i = 0; i < 500; ++i)
    EXPECT_NE(balancer->pick("", kAll), 2u);
}

// ----- every strategy ---------------------------------------------------------------------------

class EveryStrategy : public ::testing::TestWithParam<Strategy> {};

TEST_P(EveryStrategy, NoEligibleBackendGivesNothing) {
  auto balancer = Balancer::make(GetParam(), make_backends({1, 2, 3}));
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(balancer->pick(client_ip(i), kNone), std::nullopt);
}

TEST_P(EveryStrategy, NoBackendsGivesNothing) {
  auto balancer = Balancer::make(GetParam(), {});
  EXPECT_EQ(balancer->pick("10.0.0.1", kAll), std::nullopt);
}

TEST_P(EveryStrategy, OnlyEligibleBackendsArePicked) {
  auto balancer = Balancer::make(GetParam(), make_backends({1, 1, 1, 1}));
  for (int i = 0; i < 200; ++i) {
    std::optional<std::size_t> picked = balancer->pick(client_ip(i), only({1, 2}));
    ASSERT_TRUE(picked.has_value());
    EXPECT_TRUE(*picked == 1 || *picked == 2) << *picked;
  }
}

TEST_P(EveryStrategy, IsThreadSafe) {
  auto backends = make_backends({1, 2, 3});
  auto balancer = Balancer::make(GetParam(), backends);
  std::vector<std::thread> threads;
  std::atomic<int> bad{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 2000; ++i) {
        std::optional<std::size_t> picked = balancer->pick(client_ip(t * 2000 + i), kAll);
        if (!picked || *picked >= backends.size()) ++bad;
      }
    });
  }
  for (std::thread& t : threads)
    t.join();
  EXPECT_EQ(bad.load(), 0);
}

INSTANTIATE_TEST_SUITE_P(Balancer, EveryStrategy,
                         ::testing::Values(Strategy::kRoundRobin, Strategy::kLeastConn,
                                           Strategy::kIpHash, Strategy::kRandom, Strategy::kP2c));

}  // namespace
}  // namespace rws::proxy
