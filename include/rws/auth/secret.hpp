#pragma once
// Comparisons of secrets whose timing does not depend on where they differ.

#include <string_view>

namespace rws::auth {

// Equal contents, in time independent of the contents and of the length of `expected`'s
// common prefix with `given`. Lengths are compared through SHA-256 digests, so neither length
// nor content leaks through timing.
bool secret_equal(std::string_view given, std::string_view expected);

}  // namespace rws::auth
