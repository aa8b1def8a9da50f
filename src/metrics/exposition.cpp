#include "metrics/exposition.hpp"

#include <charconv>

namespace rws::metrics {
namespace {

void append_labels(std::string& out, Labels labels, std::string_view le = {}) {
  if (labels.size() == 0 && le.empty()) return;
  out += '{';
  bool first = true;
  for (const Label& l : labels) {
    if (!first) out += ',';
    first = false;
    out += l.name;
    out += "=\"";
    append_label_value(out, l.value);
    out += '"';
  }
  if (!le.empty()) {
    if (!first) out += ',';
    out += "le=\"";
    out += le;
    out += '"';
  }
  out += '}';
}

void append_double(std::string& out, double value) {
  char buffer[32];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, ec == std::errc() ? end : buffer);
}

void write_line(std::string& out, std::string_view name, std::string_view suffix, Labels labels,
                std::string_view le, std::uint64_t value) {
  out += name;
  out += suffix;
  append_labels(out, labels, le);
  out += ' ';
  out += std::to_string(value);
  out += '\n';
}

}  // namespace

void append_label_value(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\':
        out += "\\\\";
        break;
      case '"':
        out += "\\\"";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        out += c;
    }
  }
}

void write_header(std::string& out, std::string_view name, std::string_view type,
                  std::string_view help) {
  out += "# HELP ";
  out += name;
  out += ' ';
  for (char c : help) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  out += "\n# TYPE ";
  out += name;
  out += ' ';
  out += type;
  out += '\n';
}

void write_sample(std::string& out, std::string_view name, Labels labels, std::uint64_t value) {
  write_line(out, name, "", labels, {}, value);
}

void write_histogram(std::string& out, std::string_view name, Labels labels,
                     const HistogramSnapshot& histogram) {
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < histogram.buckets.size(); ++i) {
    cumulative += histogram.buckets[i];
    const std::string_view le = i < kBucketLabels.size() ? kBucketLabels[i] : "+Inf";
    write_line(out, name, "_bucket", labels, le, cumulative);
  }
  out += name;
  out += "_sum";
  append_labels(out, labels);
  out += ' ';
  append_double(out, histogram.sum_seconds);
  out += '\n';
  write_line(out, name, "_count", labels, {}, cumulative);
}

}  // namespace rws::metrics
