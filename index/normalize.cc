#include "index/normalize.h"

#include <unicode/stringpiece.h>
#include <unicode/translit.h>
#include <unicode/unistr.h>
#include <unicode/utypes.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cp {
namespace {

constexpr char kTransliteratorId[] = "Any-Latin; Latin-ASCII";

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

bool IsAsciiLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

// Created once and never destroyed: threads that outlive main() may still be cloning it.
// A missing transliterator means the ICU data is broken; folding without it would write
// wrong index keys, so stop rather than carry on.
const icu::Transliterator& Prototype() {
  static const icu::Transliterator* const prototype = [] {
    UErrorCode status = U_ZERO_ERROR;
    icu::Transliterator* t = icu::Transliterator::createInstance(
        icu::UnicodeString::fromUTF8(kTransliteratorId), UTRANS_FORWARD, status);
    if (U_FAILURE(status) || t == nullptr) {
      std::fprintf(stderr, "cp: cannot create ICU transliterator '%s': %s\n", kTransliteratorId,
                   u_errorName(status));
      std::abort();
    }
    return t;
  }();
  return *prototype;
}

// ICU transliterators keep mutable state, so each thread works on its own clone.
icu::Transliterator& ThreadTransliterator() {
  thread_local std::unique_ptr<icu::Transliterator> clone(Prototype().clone());
  return *clone;
}

// Invalid UTF-8 becomes U+FFFD in fromUTF8, which Latin-ASCII leaves alone and FoldAscii
// then drops: bad bytes vanish and the rest of the name still folds.
// ICU lengths are int32_t; anything past 2 GiB (never a name) is cut off rather than
// wrapped to a negative length, which ICU would read as NUL-terminated.
std::string TransliterateToAscii(std::string_view utf8) {
  const size_t length = std::min<size_t>(utf8.size(), std::numeric_limits<int32_t>::max());
  icu::UnicodeString text =
      icu::UnicodeString::fromUTF8(icu::StringPiece(utf8.data(), static_cast<int32_t>(length)));
  ThreadTransliterator().transliterate(text);
  std::string out;
  text.toUTF8String(out);
  return out;
}

// Lower-cases letters, keeps digits and hyphens, turns white space runs into one space and
// drops everything else (punctuation, control bytes, anything ICU left non-ASCII).
std::string FoldAscii(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  bool pending_space = false;
  for (char c : text) {
    if (IsAsciiSpace(c)) {
      pending_space = !out.empty();
      continue;
    }
    if (!IsAsciiLetter(c) && !IsAsciiDigit(c) && c != '-') continue;
    if (pending_space) out.push_back(' ');
    pending_space = false;
    out.push_back(IsAsciiLetter(c) ? static_cast<char>(c | 0x20) : c);
  }
  return out;
}

size_t LetterCount(std::string_view s) {
  size_t n = 0;
  for (char c : s) n += IsAsciiLetter(c) ? 1 : 0;
  return n;
}

std::vector<std::string_view> SplitParts(std::string_view folded) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= folded.size(); ++i) {
    if (i < folded.size() && folded[i] != ' ' && folded[i] != '-') continue;
    if (i > start) parts.push_back(folded.substr(start, i - start));
    start = i + 1;
  }
  return parts;
}

// Three letters after the particle, so that "Macy", "Mack" and initials ("O J") stay as
// written while "Mac Kenzie" and "O' Neill" join.
constexpr size_t kMinJoinedLetters = 3;

bool IsStandaloneParticle(std::string_view part) {
  return part == "mac" || part == "mc" || part == "o";
}

// "mac"/"mc" -> "mc"; "o" stays "o".
std::string_view ParticleSpelling(std::string_view particle) {
  return particle == "o" ? particle : std::string_view("mc");
}

// "macdonald" -> "mcdonald", so that Mac and Mc spellings give one part.
std::string SpellMacAsMc(std::string_view part) {
  if (part.starts_with("mac") && LetterCount(part.substr(3)) >= kMinJoinedLetters) {
    return "mc" + std::string(part.substr(3));
  }
  return std::string(part);
}

std::vector<std::string> JoinParticles(const std::vector<std::string_view>& parts) {
  std::vector<std::string> out;
  out.reserve(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) {
    const bool joins = IsStandaloneParticle(parts[i]) && i + 1 < parts.size() &&
                       LetterCount(parts[i + 1]) >= kMinJoinedLetters;
    if (joins) {
      out.push_back(std::string(ParticleSpelling(parts[i])) + SpellMacAsMc(parts[i + 1]));
      ++i;
    } else {
      out.push_back(SpellMacAsMc(parts[i]));
    }
  }
  return out;
}

}  // namespace

std::string FoldName(std::string_view utf8) {
  if (IsAscii(utf8)) return FoldAscii(utf8);
  return FoldAscii(TransliterateToAscii(utf8));
}

std::vector<std::string> NameParts(std::string_view utf8) {
  const std::string folded = FoldName(utf8);
  if (LetterCount(folded) == 0) return {};
  return JoinParticles(SplitParts(folded));
}

std::string CanonicalName(std::string_view utf8) {
  std::string out;
  for (const std::string& part : NameParts(utf8)) {
    if (!out.empty()) out.push_back(' ');
    out += part;
  }
  return out;
}

}  // namespace cp
