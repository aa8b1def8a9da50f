#pragma once
// Shared by the configuration loader tests: what a loader reported, and a document parsed from a
// test's raw string.

#include <toml++/toml.h>

#include <string>
#include <string_view>
#include <vector>

namespace rws::config {

// The errors and warnings a loader reported; all() lists both for a failure message.
struct Reported {
  std::vector<std::string> errors;
  std::vector<std::string> warnings;

  std::string all() const {
    std::string out;
    for (const std::string& e : errors)
      out += "error: " + e + "\n";
    for (const std::string& w : warnings)
      out += "warning: " + w + "\n";
    return out;
  }
};

// `text` parsed as the file `name`. Documents are raw strings starting with a newline for
// readability; it is dropped so that line 1 is the first line shown.
inline toml::table parse_document(std::string_view text, std::string_view name) {
  if (!text.empty() && text.front() == '\n') text.remove_prefix(1);
  return toml::parse(text, name);
}

}  // namespace rws::config
