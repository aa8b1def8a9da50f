#include "metrics/exposition.hpp"

#include <gtest/gtest.h>

namespace rws::metrics {
namespace {

TEST(Exposition, LabelValuesEscapeBackslashQuoteNewline) {
  std::string out;
  write_sample(out, "m_total", {{"route", "a\\b\"c\nd"}, {"code", "2xx"}}, 7);
  EXPECT_EQ(out, "m_total{route=\"a\\\\b\\\"c\\nd\",code=\"2xx\"} 7\n");
}

TEST(Exposition, SampleWithoutLabels) {
  std::string out;
  write_sample(out, "up", {}, 1);
  EXPECT_EQ(out, "up 1\n");
}

TEST(Exposition, HelpAndTypeLines) {
  std::string out;
  write_header(out, "m_total", "counter", "Things \\ counted\nhere.");
  EXPECT_EQ(out, "# HELP m_total Things \\\\ counted\\nhere.\n# TYPE m_total counter\n");
}

TEST(Exposition, HistogramIsCumulativeWithInfSumAndCount) {
  Histogram h;
  h.observe(std::chrono::milliseconds(3));      // le 0.005
  h.observe(std::chrono::milliseconds(5));      // le 0.005 (bounds are inclusive)
  h.observe(std::chrono::milliseconds(200));    // le 0.25
  h.observe(std::chrono::milliseconds(20000));  // +Inf only
  std::string out;
  write_histogram(out, "d_seconds", {{"route", "r"}}, h.snapshot());
  EXPECT_EQ(out,
            "d_seconds_bucket{route=\"r\",le=\"0.005\"} 2\n"
            "d_seconds_bucket{route=\"r\",le=\"0.01\"} 2\n"
            "d_seconds_bucket{route=\"r\",le=\"0.025\"} 2\n"
            "d_seconds_bucket{route=\"r\",le=\"0.05\"} 2\n"
            "d_seconds_bucket{route=\"r\",le=\"0.1\"} 2\n"
            "d_seconds_bucket{route=\"r\",le=\"0.25\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"0.5\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"1\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"2.5\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"5\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"10\"} 3\n"
            "d_seconds_bucket{route=\"r\",le=\"+Inf\"} 4\n"
            "d_seconds_sum{route=\"r\"} 20.208\n"
            "d_seconds_count{route=\"r\"} 4\n");
}

}  // namespace
}  // namespace rws::metrics
