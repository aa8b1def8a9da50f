#pragma once
// Prometheus text exposition format 0.0.4: HELP/TYPE headers, samples with escaped label values,
// histograms as cumulative _bucket lines (le="+Inf" last) with _sum and _count.

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "metrics/histogram.hpp"

namespace rws::metrics {

inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

struct Label {
  std::string_view name;
  std::string_view value;
};
using Labels = std::initializer_list<Label>;

// Appends `value` with backslash, double quote and newline escaped (\\, \", \n).
void append_label_value(std::string& out, std::string_view value);
// "# HELP name help" (help with backslash and newline escaped) and "# TYPE name type".
void write_header(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help);
void write_sample(std::string& out, std::string_view name, Labels labels, std::uint64_t value);
// The histogram `name` (without suffix) under `labels`, to which le is added for the buckets.
void write_histogram(std::string& out, std::string_view name, Labels labels,
                     const HistogramSnapshot& histogram);

}  // namespace rws::metrics
