#include "l4/tunnel_set.hpp"

#include <gtest/gtest.h>

namespace rws::l4 {
namespace {

TEST(TunnelSet, WhenEmptyRunsAtOnceWithNothingOpen) {
  TunnelSet set;
  int calls = 0;
  set.when_empty([&] { ++calls; });
  EXPECT_EQ(calls, 1);
}

TEST(TunnelSet, WhenEmptyRunsOnceWhenTheLastTunnelIsRemoved) {
  TunnelSet set;
  const std::uint64_t a = set.add();
  const std::uint64_t b = set.add();
  EXPECT_NE(a, b);
  int calls = 0;
  set.when_empty([&] { ++calls; });
  set.remove(a);
  EXPECT_EQ(calls, 0);
  set.remove(b);
  EXPECT_EQ(calls, 1);
  const std::uint64_t c = set.add();
  set.remove(c);
  EXPECT_EQ(calls, 1);  // once only
}

TEST(TunnelSet, CloseAllClosesEveryRegisteredTunnelAndSkipsUnsetOnes) {
  TunnelSet set;
  int closed = 0;
  const std::uint64_t a = set.add();
  set.set(a, [&] { ++closed; });
  set.add();  // its splice is not set yet
  const std::uint64_t c = set.add();
  set.set(c, [&] { ++closed; });
  set.close_all();
  EXPECT_EQ(closed, 2);
  EXPECT_EQ(set.size(), 3u);  // removed only when each splice finishes
  set.remove(a);
  set.set(a, [&] { ++closed; });  // a finished tunnel is not registered again
  set.close_all();
  EXPECT_EQ(closed, 3);
}

}  // namespace
}  // namespace rws::l4
