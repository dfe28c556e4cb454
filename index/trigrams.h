// Character trigrams of a name part, for typo-tolerant candidate generation.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cp {

// Trigrams of a folded name part padded with one '$' at each end, in order, without
// duplicates: "smith" -> "$sm", "smi", "mit", "ith", "th$". A part of one character gives
// "$a$". Empty input gives nothing.
std::vector<std::string> Trigrams(std::string_view part);

// Dice coefficient over the two parts' trigram sets, in [0, 1].
double TrigramSimilarity(std::string_view a, std::string_view b);

}  // namespace cp
