#include "http/range.hpp"

#include <gtest/gtest.h>

namespace rws::http {
namespace {

struct Parsed {
  RangeOutcome outcome;
  std::vector<ByteRange> ranges;
};

Parsed parse(std::string_view field, std::uint64_t size, std::size_t max = 16) {
  Parsed p;
  p.outcome = parse_range(field, size, max, p.ranges);
  return p;
}

void expect_ranges(const Parsed& p, std::vector<std::pair<std::uint64_t, std::uint64_t>> want) {
  ASSERT_EQ(p.outcome, RangeOutcome::kSatisfiable);
  ASSERT_EQ(p.ranges.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(p.ranges[i].first, want[i].first) << i;
    EXPECT_EQ(p.ranges[i].last, want[i].second) << i;
  }
}

TEST(Range, SingleForms) {
  expect_ranges(parse("bytes=0-9", 100), {{0, 9}});
  expect_ranges(parse("bytes=90-", 100), {{90, 99}});
  expect_ranges(parse("bytes=-10", 100), {{90, 99}});
  expect_ranges(parse("bytes=-1000", 100), {{0, 99}});     // suffix longer than the file
  expect_ranges(parse("bytes=50-1000", 100), {{50, 99}});  // clamped past EOF
  expect_ranges(parse("Bytes = 1-1", 100), {{1, 1}});
}

TEST(Range, MultipleAreSortedAndCoalesced) {
  expect_ranges(parse("bytes=0-9, 20-29", 100), {{0, 9}, {20, 29}});
  expect_ranges(parse("bytes=20-29,0-9", 100), {{20, 29}, {0, 9}});  // request order kept
  expect_ranges(parse("bytes=20-29,0-9,5-6", 100), {{0, 9}, {20, 29}});  // merged → sorted
  expect_ranges(parse("bytes=0-9,5-14", 100), {{0, 14}});
  expect_ranges(parse("bytes=0-9,10-19", 100), {{0, 19}});      // adjacent
  expect_ranges(parse("bytes=0-,0-,0-,-100", 100), {{0, 99}});  // amplification attempt
  expect_ranges(parse("bytes=0-9,200-300", 100), {{0, 9}});     // unsatisfiable one dropped
  expect_ranges(parse("bytes=0-0,,  ,2-2", 100), {{0, 0}, {2, 2}});
}

TEST(Range, Unsatisfiable) {
  EXPECT_EQ(parse("bytes=100-", 100).outcome, RangeOutcome::kUnsatisfiable);
  EXPECT_EQ(parse("bytes=100-200,300-", 100).outcome, RangeOutcome::kUnsatisfiable);
  EXPECT_EQ(parse("bytes=-0", 100).outcome, RangeOutcome::kUnsatisfiable);
}

TEST(Range, IgnoredWhenInvalidOrAbusive) {
  for (const char* f : {"", "bytes", "bytes=", "items=0-1", "bytes=a-b", "bytes=5-1", "bytes=1",
                        "bytes=--1", "bytes=0-1-2", "bytes=+1-2", "bytes= 0x1-2"}) {
    EXPECT_EQ(parse(f, 100).outcome, RangeOutcome::kIgnore) << f;
  }
  EXPECT_EQ(parse("bytes=0-0,2-2,4-4", 100, 2).outcome, RangeOutcome::kIgnore);
  EXPECT_EQ(parse("bytes=0-0", 0).outcome, RangeOutcome::kIgnore);
}

TEST(Range, ContentRangeValues) {
  EXPECT_EQ(content_range({0, 9}, 100), "bytes 0-9/100");
  EXPECT_EQ(unsatisfied_content_range(100), "bytes */100");
}

}  // namespace
}  // namespace rws::http
