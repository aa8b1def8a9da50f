#pragma once
// "Did you mean …?" for misspelt keys and flags.

#include <span>
#include <string>
#include <string_view>

namespace rws::config {

// Edit distance (optimal string alignment: adjacent transpositions count once) between two
// strings, case-sensitive.
std::size_t edit_distance(std::string_view a, std::string_view b);

// The candidate closest to `word` if it is close enough to be a likely typo (at most 2 edits,
// and fewer than half of the word's length), else "".
std::string_view closest_match(std::string_view word, std::span<const std::string_view> candidates);

// " (did you mean 'x'?)" or "" — ready to append to an error message.
std::string did_you_mean(std::string_view word, std::span<const std::string_view> candidates);

}  // namespace rws::config
