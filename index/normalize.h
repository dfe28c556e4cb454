// Name normalisation: the one place that decides when two spellings are "the same".
//
// Folding: Unicode text goes through ICU ("Any-Latin; Latin-ASCII"), so "Zoë" -> "zoe",
// "Łukasz" -> "lukasz", "Ólafsdóttir" -> "olafsdottir", Cyrillic and Greek are
// transliterated; then lower case. Pure ASCII input takes a fast path that never enters
// ICU (the common case on import).
//
// Name parts: a name field splits on spaces and hyphens into parts ("Smith-Jones" ->
// "smith", "jones"; "Mary Ann" -> "mary", "ann"). Apostrophes and other punctuation are
// dropped inside a part ("O'Brien" -> "obrien", "D'Arcy" -> "darcy"). Prefix particles
// are joined to what follows so that every spelling gives one part: "Mac Donald",
// "MacDonald", "McDonald" -> "mcdonald"; "O' Neill", "O'Neill", "ONeill" -> "oneill".
// ("Mac" alone followed by a part of at least three letters, e.g. "Mac Kenzie", is
// joined; "Macy" is not a prefix.)
//
// Thread safety: all functions may be called from many threads at once (ICU
// transliterators are cloned per thread).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cp {

// Folded, lower-case ASCII; punctuation other than spaces and hyphens removed, runs of
// white space collapsed, trimmed. "  Siobhán  O'Brien-Smith " -> "siobhan obrien-smith".
std::string FoldName(std::string_view utf8);

// The parts of a name field, folded, in order, with prefixes joined (see above). Parts
// of a name are never empty; an empty or letterless field gives no parts.
std::vector<std::string> NameParts(std::string_view utf8);

// The parts joined by single spaces: the form used to compare whole names.
// "McDonald-Smith" -> "mcdonald smith".
std::string CanonicalName(std::string_view utf8);

}  // namespace cp
