#pragma once
// The table of server keys (CONFIG.md "Server"): each key's name, type, limits, short flag and
// how it is applied. Environment variables and command-line flags are derived from the names:
// max_body_size ↔ RWS_CONFIG_MAX_BODY_SIZE ↔ --max-body-size.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "config/server_config.hpp"

namespace rws::config {

enum class KeyType { kString, kInteger, kBool, kStringList };

using Value = std::variant<std::int64_t, bool, std::string, std::vector<std::string>>;

struct KeySpec {
  std::string_view name;
  KeyType type;
  std::string_view help;
  std::string_view short_flag = {};  // e.g. "-p"
  std::int64_t min = 0;              // kInteger bounds, inclusive
  std::int64_t max = INT64_MAX;
  // Stores the value; returns an error message when the value is unacceptable.
  std::optional<std::string> (*apply)(ServerConfig&, const Value&) = nullptr;
};

std::span<const KeySpec> server_keys();
const KeySpec* find_key(std::string_view name);
// Names of all keys, for "did you mean".
std::span<const std::string_view> server_key_names();

// Deprecated spellings accepted with a warning: {alias, canonical}.
struct KeyAlias {
  std::string_view alias;
  std::string_view canonical;
};
std::span<const KeyAlias> key_aliases();

// Converts command-line or environment text to the key's type; nullopt when it does not parse.
std::optional<Value> parse_text(const KeySpec& key, std::string_view text);
// "an integer between 0 and 65535", "true or false", ...
std::string expected_description(const KeySpec& key);
// Checks bounds and applies; returns the error message (without the source prefix).
std::optional<std::string> apply_value(ServerConfig& config, const KeySpec& key, const Value& v);

// RWS_CONFIG_MAX_BODY_SIZE for max_body_size; --max-body-size likewise.
std::string env_name(std::string_view key);
std::string flag_name(std::string_view key);

}  // namespace rws::config
