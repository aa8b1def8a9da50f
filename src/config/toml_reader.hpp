#pragma once
// Helpers for validating a parsed TOML document: every problem becomes "file:line:col: message",
// every key a table reader was asked about counts as known, and what is left over is reported
// as an unknown key with a "did you mean".

#include <toml++/toml.h>

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

namespace rws::config {

class Diagnostics {
 public:
  Diagnostics(std::string path, std::vector<std::string>& errors,
              std::vector<std::string>& warnings)
      : path_(std::move(path)), errors_(errors), warnings_(warnings) {}

  std::string position(const toml::source_region& where) const;
  void error(const toml::source_region& where, const std::string& message);
  void warn(const toml::source_region& where, const std::string& message);
  std::size_t error_count() const { return errors_.size(); }

 private:
  std::string path_;
  std::vector<std::string>& errors_;
  std::vector<std::string>& warnings_;
};

class TableReader {
 public:
  // `what` names the table in messages ("[[upstream]] 'api'").
  TableReader(const toml::table& table, std::string what, Diagnostics& diagnostics)
      : table_(table), what_(std::move(what)), d_(diagnostics) {}

  // Accepts `old_name` as a deprecated spelling of `name` (with one warning, however often the
  // key is read).
  void alias(std::string_view old_name, std::string_view name);

  const toml::node* node(std::string_view key);
  std::optional<std::string> string(std::string_view key);
  std::optional<std::int64_t> integer(std::string_view key, std::int64_t min, std::int64_t max);
  std::optional<bool> boolean(std::string_view key);
  // A string or an array of strings.
  std::optional<std::vector<std::string>> strings(std::string_view key);
  const toml::table* table(std::string_view key);
  // An error at `key`'s value (or at the table when the key is absent).
  void error(std::string_view key, const std::string& message);
  void error_here(const std::string& message);
  // Reports every key that no accessor asked about.
  void finish();

  const toml::table& raw() const { return table_; }
  const std::string& what() const { return what_; }

 private:
  const toml::node* lookup(std::string_view key);

  const toml::table& table_;
  std::string what_;
  Diagnostics& d_;
  std::set<std::string, std::less<>> known_;
  std::vector<std::pair<std::string, std::string>> aliases_;  // old → new
  std::set<std::string, std::less<>> warned_;                 // aliases already reported
};

}  // namespace rws::config
