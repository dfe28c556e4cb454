// String similarity for scoring candidate names.
#pragma once

#include <cstddef>
#include <string_view>

namespace cp {

// Jaro–Winkler similarity in [0, 1] (prefix scale 0.1, at most 4 prefix characters;
// the Winkler boost applies when Jaro > 0.7). Both empty -> 1; one empty -> 0.
double JaroWinkler(std::string_view a, std::string_view b);

// Optimal string alignment distance (Damerau–Levenshtein with adjacent transpositions,
// each substring edited at most once), computed with an early stop: returns a value
// greater than `max_distance` as soon as the distance is known to exceed it.
size_t EditDistance(std::string_view a, std::string_view b, size_t max_distance = 3);

}  // namespace cp
