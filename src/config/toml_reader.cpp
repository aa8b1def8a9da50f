#include "config/toml_reader.hpp"

#include "config/suggest.hpp"

namespace rws::config {

std::string Diagnostics::position(const toml::source_region& where) const {
  return path_ + ":" + std::to_string(where.begin.line) + ":" + std::to_string(where.begin.column);
}

void Diagnostics::error(const toml::source_region& where, const std::string& message) {
  errors_.push_back(position(where) + ": " + message);
}

void Diagnostics::warn(const toml::source_region& where, const std::string& message) {
  warnings_.push_back(position(where) + ": " + message);
}

void TableReader::alias(std::string_view old_name, std::string_view name) {
  known_.emplace(old_name);
  aliases_.emplace_back(old_name, name);
}

const toml::node* TableReader::lookup(std::string_view key) {
  known_.emplace(key);
  if (const toml::node* n = table_.get(key)) return n;
  for (const auto& [old_name, name] : aliases_) {
    if (name != key) continue;
    if (const toml::node* n = table_.get(old_name)) {
      if (warned_.insert(old_name).second) {
        d_.warn(n->source(), "'" + old_name + "' is deprecated; use '" + name + "'");
      }
      return n;
    }
  }
  return nullptr;
}

const toml::node* TableReader::node(std::string_view key) {
  return lookup(key);
}

std::optional<std::string> TableReader::string(std::string_view key) {
  const toml::node* n = lookup(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value_exact<std::string>()) return *v;
  d_.error(n->source(), what_ + ": " + std::string(key) + " must be a string");
  return std::nullopt;
}

std::optional<std::int64_t> TableReader::integer(std::string_view key, std::int64_t min,
                                                 std::int64_t max) {
  const toml::node* n = lookup(key);
  if (n == nullptr) return std::nullopt;
  auto v = n->value_exact<std::int64_t>();
  if (!v || *v < min || *v > max) {
    d_.error(n->source(), what_ + ": " + std::string(key) + " must be an integer between " +
                              std::to_string(min) + " and " + std::to_string(max));
    return std::nullopt;
  }
  return *v;
}

std::optional<bool> TableReader::boolean(std::string_view key) {
  const toml::node* n = lookup(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value_exact<bool>()) return *v;
  d_.error(n->source(), what_ + ": " + std::string(key) + " must be true or false");
  return std::nullopt;
}

std::optional<std::vector<std::string>> TableReader::strings(std::string_view key) {
  const toml::node* n = lookup(key);
  if (n == nullptr) return std::nullopt;
  if (auto v = n->value_exact<std::string>()) return std::vector<std::string>{*v};
  if (const toml::array* a = n->as_array()) {
    std::vector<std::string> out;
    for (const toml::node& item : *a) {
      auto s = item.value_exact<std::string>();
      if (!s) {
        d_.error(item.source(), what_ + ": " + std::string(key) + " must list strings");
        return std::nullopt;
      }
      out.push_back(*s);
    }
    return out;
  }
  d_.error(n->source(), what_ + ": " + std::string(key) + " must be a string or a list of strings");
  return std::nullopt;
}

const toml::table* TableReader::table(std::string_view key) {
  const toml::node* n = lookup(key);
  if (n == nullptr) return nullptr;
  if (const toml::table* t = n->as_table()) return t;
  d_.error(n->source(), what_ + ": " + std::string(key) + " must be a table");
  return nullptr;
}

void TableReader::error(std::string_view key, const std::string& message) {
  const toml::node* n = table_.get(key);
  d_.error(n != nullptr ? n->source() : table_.source(), what_ + ": " + message);
}

void TableReader::error_here(const std::string& message) {
  d_.error(table_.source(), what_ + ": " + message);
}

void TableReader::finish() {
  std::vector<std::string_view> candidates(known_.begin(), known_.end());
  for (auto&& [key, node] : table_) {
    if (known_.count(key.str()) > 0) continue;
    d_.error(key.source(), what_ + ": unknown key '" + std::string(key.str()) + "'" +
                               did_you_mean(key.str(), candidates));
  }
}

}  // namespace rws::config
