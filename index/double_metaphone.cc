// Double Metaphone, rule for rule as Apache commons-codec's DoubleMetaphone applies it, so
// that codes stored in the index match codes other systems compute with that library.
// The rule comments name the words the reference uses to justify each rule.
#include "index/double_metaphone.h"

#include <cstddef>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>

namespace cp {
namespace {

// Signed so that look-behind positions (index - 2 ...) can go negative, as in the reference.
using Pos = std::ptrdiff_t;

bool IsVowel(char c) {
  switch (c) {
    case 'A':
    case 'E':
    case 'I':
    case 'O':
    case 'U':
    case 'Y':
      return true;
    default:
      return false;
  }
}

// The reference trims with String.trim(), which drops every char <= U+0020 at either end,
// and uppercases in an English locale; only ASCII letters change case here, the input
// being ASCII-folded already.
std::string CleanInput(std::string_view word) {
  auto is_trimmed = [](char c) { return static_cast<unsigned char>(c) <= ' '; };
  while (!word.empty() && is_trimmed(word.front())) word.remove_prefix(1);
  while (!word.empty() && is_trimmed(word.back())) word.remove_suffix(1);
  std::string upper(word);
  for (char& c : upper) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return upper;
}

// Primary and alternate codes, each capped at the maximum length. Appends past the cap are
// cut rather than refused, so a two-letter code can contribute its first letter only.
class CodeBuilder {
 public:
  explicit CodeBuilder(size_t max_length) : max_length_(max_length) {}

  void Add(std::string_view both) { Add(both, both); }
  void Add(std::string_view primary, std::string_view alternate) {
    AddPrimary(primary);
    AddAlternate(alternate);
  }
  void AddPrimary(std::string_view code) { AppendCapped(code, &primary_); }
  void AddAlternate(std::string_view code) { AppendCapped(code, &alternate_); }

  bool Complete() const {
    return primary_.size() >= max_length_ && alternate_.size() >= max_length_;
  }
  PhoneticCodes Take() && { return {std::move(primary_), std::move(alternate_)}; }

 private:
  void AppendCapped(std::string_view code, std::string* out) const {
    if (out->size() >= max_length_) return;
    out->append(code.substr(0, max_length_ - out->size()));
  }

  size_t max_length_;
  std::string primary_;
  std::string alternate_;
};

// One encoding pass over a cleaned word. Each handler consumes the letter(s) at `i` and
// returns the position of the next letter to look at, exactly as the reference's handlers
// return the next index.
class Encoder {
 public:
  Encoder(std::string word, size_t max_length)
      : word_(std::move(word)), codes_(max_length), slavo_germanic_(IsSlavoGermanic()) {}

  PhoneticCodes Run() && {
    // GN, KN, PN, WR and PS open words with a silent first letter.
    Pos i = Matches(0, {"GN", "KN", "PN", "WR", "PS"}) ? 1 : 0;
    while (!codes_.Complete() && i < Size()) i = Step(i);
    return std::move(codes_).Take();
  }

 private:
  Pos Size() const { return static_cast<Pos>(word_.size()); }
  Pos Last() const { return Size() - 1; }

  // The reference reads past either end as U+0000, which matches no rule.
  char At(Pos i) const { return i < 0 || i >= Size() ? '\0' : word_[static_cast<size_t>(i)]; }

  // Whether one of `options` appears at `start`; never true when it would run off the word.
  bool Matches(Pos start, std::initializer_list<std::string_view> options) const {
    if (start < 0 || start > Size()) return false;
    std::string_view rest = std::string_view(word_).substr(static_cast<size_t>(start));
    for (std::string_view option : options) {
      if (rest.starts_with(option)) return true;
    }
    return false;
  }

  // W and K are rare in Romance spellings; CZ and WITZ mark Slavic names.
  bool IsSlavoGermanic() const {
    std::string_view w = word_;
    return w.find('W') != w.npos || w.find('K') != w.npos || w.find("CZ") != w.npos;
  }

  bool Germanic() const { return Matches(0, {"VAN ", "VON "}) || Matches(0, {"SCH"}); }

  // Letters coded the same way everywhere; a doubled letter is coded once.
  Pos Simple(Pos i, std::string_view code) {
    codes_.Add(code);
    return At(i + 1) == At(i) ? i + 2 : i + 1;
  }

  Pos Step(Pos i) {
    switch (At(i)) {
      case 'A':
      case 'E':
      case 'I':
      case 'O':
      case 'U':
      case 'Y':
        // Only an initial vowel is coded, and every vowel codes as A.
        if (i == 0) codes_.Add("A");
        return i + 1;
      case 'B':
        return Simple(i, "P");
      case 'C':
        return HandleC(i);
      case 'D':
        return HandleD(i);
      case 'F':
        return Simple(i, "F");
      case 'G':
        return HandleG(i);
      case 'H':
        return HandleH(i);
      case 'J':
        return HandleJ(i);
      case 'K':
        return Simple(i, "K");
      case 'L':
        return HandleL(i);
      case 'M':
        codes_.Add("M");
        return ConditionM0(i) ? i + 2 : i + 1;
      case 'N':
        return Simple(i, "N");
      case 'P':
        return HandleP(i);
      case 'Q':
        return Simple(i, "K");
      case 'R':
        return HandleR(i);
      case 'S':
        return HandleS(i);
      case 'T':
        return HandleT(i);
      case 'V':
        return Simple(i, "F");
      case 'W':
        return HandleW(i);
      case 'X':
        return HandleX(i);
      case 'Z':
        return HandleZ(i);
      default:
        return i + 1;
    }
  }

  // -ACH- sounds K in Germanic words ("Bacher", "Macher") but not before I/E, and CHIA
  // is always K ("Chianti").
  bool ConditionC0(Pos i) const {
    if (Matches(i, {"CHIA"})) return true;
    if (i <= 1 || IsVowel(At(i - 2)) || !Matches(i - 1, {"ACH"})) return false;
    char after = At(i + 2);
    return (after != 'I' && after != 'E') || Matches(i - 2, {"BACHER", "MACHER"});
  }

  Pos HandleC(Pos i) {
    if (ConditionC0(i)) {
      codes_.Add("K");
      return i + 2;
    }
    if (i == 0 && Matches(i, {"CAESAR"})) {
      codes_.Add("S");
      return i + 2;
    }
    if (Matches(i, {"CH"})) return HandleCH(i);
    if (Matches(i, {"CZ"}) && !Matches(i - 2, {"WICZ"})) {
      codes_.Add("S", "X");  // "Czerny"
      return i + 2;
    }
    if (Matches(i + 1, {"CIA"})) {
      codes_.Add("X");  // "focaccia"
      return i + 3;
    }
    if (Matches(i, {"CC"}) && !(i == 1 && At(0) == 'M')) return HandleCC(i);  // not "McClelland"
    if (Matches(i, {"CK", "CG", "CQ"})) {
      codes_.Add("K");
      return i + 2;
    }
    if (Matches(i, {"CI", "CE", "CY"})) {
      // Italian CIO/CIE/CIA may also be read the English way.
      if (Matches(i, {"CIO", "CIE", "CIA"})) {
        codes_.Add("S", "X");
      } else {
        codes_.Add("S");
      }
      return i + 2;
    }
    codes_.Add("K");
    if (Matches(i + 1, {" C", " Q", " G"})) return i + 3;  // "Mac Caffrey", "Mac Gregor"
    if (Matches(i + 1, {"C", "K", "Q"}) && !Matches(i + 1, {"CE", "CI"})) return i + 2;
    return i + 1;
  }

  Pos HandleCC(Pos i) {
    // "bellocchio" but not "bacchus".
    if (Matches(i + 2, {"I", "E", "H"}) && !Matches(i + 2, {"HU"})) {
      if ((i == 1 && At(i - 1) == 'A') || Matches(i - 1, {"UCCEE", "UCCES"})) {
        codes_.Add("KS");  // "accident", "accede", "succeed"
      } else {
        codes_.Add("X");  // "bacci", "bertucci"
      }
      return i + 3;
    }
    codes_.Add("K");  // Pierce's rule
    return i + 2;
  }

  // Greek roots at the start of a word: "chemistry", "chorus", "character", but not "chore".
  bool ConditionCH0(Pos i) const {
    if (i != 0) return false;
    if (!Matches(i + 1, {"HARAC", "HARIS"}) && !Matches(i + 1, {"HOR", "HYM", "HIA", "HEM"})) {
      return false;
    }
    return !Matches(0, {"CHORE"});
  }

  // Germanic or Greek CH sounding KH: "orchestra", "architect", "orchid", CHT/CHS, or CH
  // before a consonant after a vowel or at the start ("Achtung", "Christ").
  bool ConditionCH1(Pos i) const {
    if (Germanic() || Matches(i - 2, {"ORCHES", "ARCHIT", "ORCHID"}) ||
        Matches(i + 2, {"T", "S"})) {
      return true;
    }
    bool vowel_before_or_start = Matches(i - 1, {"A", "O", "U", "E"}) || i == 0;
    bool consonant_after =
        Matches(i + 2, {"L", "R", "N", "M", "B", "H", "F", "V", "W", " "}) || i + 1 == Last();
    return vowel_before_or_start && consonant_after;
  }

  Pos HandleCH(Pos i) {
    if (i > 0 && Matches(i, {"CHAE"})) {
      codes_.Add("K", "X");  // "Michael"
    } else if (ConditionCH0(i) || ConditionCH1(i)) {
      codes_.Add("K");
    } else if (i == 0) {
      codes_.Add("X");
    } else if (Matches(0, {"MC"})) {
      codes_.Add("K");  // "McHugh"
    } else {
      codes_.Add("X", "K");
    }
    return i + 2;
  }

  Pos HandleD(Pos i) {
    if (Matches(i, {"DG"})) {
      if (Matches(i + 2, {"I", "E", "Y"})) {
        codes_.Add("J");  // "edge"
        return i + 3;
      }
      codes_.Add("TK");  // "Edgar"
      return i + 2;
    }
    codes_.Add("T");
    return Matches(i, {"DT", "DD"}) ? i + 2 : i + 1;
  }

  Pos HandleG(Pos i) {
    if (At(i + 1) == 'H') return HandleGH(i);
    if (At(i + 1) == 'N') return HandleGN(i);
    if (Matches(i + 1, {"LI"}) && !slavo_germanic_) {
      codes_.Add("KL", "L");  // "tagliaro"
      return i + 2;
    }
    // -GES-, -GEP-, -GEL-, -GIE- ... at the start: "Gerken", "Gibbs".
    if (i == 0 && (At(i + 1) == 'Y' || Matches(i + 1, {"ES", "EP", "EB", "EL", "EY", "IB", "IL",
                                                       "IN", "IE", "EI", "ER"}))) {
      codes_.Add("K", "J");
      return i + 2;
    }
    // -GER-, -GY-, but not "danger", "ranger", "manger", and not after E/I or in -RGY/-OGY.
    if ((Matches(i + 1, {"ER"}) || At(i + 1) == 'Y') &&
        !Matches(0, {"DANGER", "RANGER", "MANGER"}) && !Matches(i - 1, {"E", "I"}) &&
        !Matches(i - 1, {"RGY", "OGY"})) {
      codes_.Add("K", "J");
      return i + 2;
    }
    if (Matches(i + 1, {"E", "I", "Y"}) || Matches(i - 1, {"AGGI", "OGGI"})) {  // "biaggi"
      if (Germanic() || Matches(i + 1, {"ET"})) {
        codes_.Add("K");
      } else if (Matches(i + 1, {"IER"})) {
        codes_.Add("J");  // "rogier"
      } else {
        codes_.Add("J", "K");
      }
      return i + 2;
    }
    codes_.Add("K");
    return At(i + 1) == 'G' ? i + 2 : i + 1;
  }

  Pos HandleGN(Pos i) {
    if (i == 1 && IsVowel(At(0)) && !slavo_germanic_) {
      codes_.Add("KN", "N");
    } else if (!Matches(i + 2, {"EY"}) && !slavo_germanic_) {
      codes_.Add("N", "KN");  // "Magnus", "benign"
    } else {
      codes_.Add("KN");
    }
    return i + 2;
  }

  Pos HandleGH(Pos i) {
    if (i > 0 && !IsVowel(At(i - 1))) {
      codes_.Add("K");
    } else if (i == 0) {
      codes_.Add(At(i + 2) == 'I' ? "J" : "K");  // "ghislane" vs "ghandi"
    } else if ((i > 1 && Matches(i - 2, {"B", "H", "D"})) ||
               (i > 2 && Matches(i - 3, {"B", "H", "D"})) ||
               (i > 3 && Matches(i - 4, {"B", "H"}))) {
      // Parker's rule: silent in "hugh", "bough", "broughton".
    } else if (i > 2 && At(i - 1) == 'U' && Matches(i - 3, {"C", "G", "L", "R", "T"})) {
      codes_.Add("F");  // "laugh", "McLaughlin", "cough", "gough", "rough", "tough"
    } else if (At(i - 1) != 'I') {
      codes_.Add("K");
    }
    return i + 2;
  }

  // H is kept only when it starts the word or follows a vowel, and precedes a vowel.
  Pos HandleH(Pos i) {
    if ((i == 0 || IsVowel(At(i - 1))) && IsVowel(At(i + 1))) {
      codes_.Add("H");
      return i + 2;
    }
    return i + 1;
  }

  Pos HandleJ(Pos i) {
    // Spanish: "Jose", "San Jacinto".
    if (Matches(i, {"JOSE"}) || Matches(0, {"SAN "})) {
      if ((i == 0 && At(i + 4) == ' ') || Size() == 4 || Matches(0, {"SAN "})) {
        codes_.Add("H");
      } else {
        codes_.Add("J", "H");
      }
      return i + 1;
    }
    if (i == 0) {
      codes_.Add("J", "A");  // "Jankelowicz" ~ "Yankelovich"
    } else if (IsVowel(At(i - 1)) && !slavo_germanic_ && (At(i + 1) == 'A' || At(i + 1) == 'O')) {
      codes_.Add("J", "H");  // "bajador"
    } else if (i == Last()) {
      // The reference appends a space, not nothing, to the alternate here; kept for fidelity.
      codes_.Add("J", " ");
    } else if (!Matches(i + 1, {"L", "T", "K", "S", "N", "M", "B", "Z"}) &&
               !Matches(i - 1, {"S", "K", "L"})) {
      codes_.Add("J");
    }
    return At(i + 1) == 'J' ? i + 2 : i + 1;
  }

  // Spanish -LL- is silent in the alternate: "cabrillo", "gallegos".
  bool ConditionL0(Pos i) const {
    if (i == Size() - 3 && Matches(i - 1, {"ILLO", "ILLA", "ALLE"})) return true;
    return (Matches(Size() - 2, {"AS", "OS"}) || Matches(Last(), {"A", "O"})) &&
           Matches(i - 1, {"ALLE"});
  }

  Pos HandleL(Pos i) {
    if (At(i + 1) != 'L') {
      codes_.Add("L");
      return i + 1;
    }
    if (ConditionL0(i)) {
      codes_.AddPrimary("L");
    } else {
      codes_.Add("L");
    }
    return i + 2;
  }

  // MM, and the silent B of "dumb", "thumb", "umbrella"-like -UMB-/-UMBER.
  bool ConditionM0(Pos i) const {
    if (At(i + 1) == 'M') return true;
    return Matches(i - 1, {"UMB"}) && (i + 1 == Last() || Matches(i + 2, {"ER"}));
  }

  Pos HandleP(Pos i) {
    if (At(i + 1) == 'H') {
      codes_.Add("F");
      return i + 2;
    }
    codes_.Add("P");  // "campbell", "raspberry" drop the B
    return Matches(i + 1, {"P", "B"}) ? i + 2 : i + 1;
  }

  // French final -IER is silent in the primary ("Rogier"), except -MEIER/-MAIER.
  Pos HandleR(Pos i) {
    if (i == Last() && !slavo_germanic_ && Matches(i - 2, {"IE"}) &&
        !Matches(i - 4, {"ME", "MA"})) {
      codes_.AddAlternate("R");
    } else {
      codes_.Add("R");
    }
    return At(i + 1) == 'R' ? i + 2 : i + 1;
  }

  Pos HandleS(Pos i) {
    if (Matches(i - 1, {"ISL", "YSL"})) return i + 1;  // "island", "isle", "carlisle"
    if (i == 0 && Matches(i, {"SUGAR"})) {
      codes_.Add("X", "S");
      return i + 1;
    }
    if (Matches(i, {"SH"})) {
      // Germanic compounds keep S: "-sheim", "-shoek", "-sholm", "-sholz".
      codes_.Add(Matches(i + 1, {"HEIM", "HOEK", "HOLM", "HOLZ"}) ? "S" : "X");
      return i + 2;
    }
    if (Matches(i, {"SIO", "SIA"})) {  // Italian and Armenian
      if (slavo_germanic_) {
        codes_.Add("S");
      } else {
        codes_.Add("S", "X");
      }
      return i + 3;
    }
    // "Smith" ~ "Schmidt", "Snider" ~ "Schneider"; Slavic -SZ-.
    if ((i == 0 && Matches(i + 1, {"M", "N", "L", "W"})) || Matches(i + 1, {"Z"})) {
      codes_.Add("S", "X");
      return Matches(i + 1, {"Z"}) ? i + 2 : i + 1;
    }
    if (Matches(i, {"SC"})) return HandleSC(i);
    if (i == Last() && Matches(i - 2, {"AI", "OI"})) {
      codes_.AddAlternate("S");  // French: "resnais", "artois"
    } else {
      codes_.Add("S");
    }
    return Matches(i + 1, {"S", "Z"}) ? i + 2 : i + 1;
  }

  Pos HandleSC(Pos i) {
    if (At(i + 2) == 'H') {
      // Schlesinger's rule.
      if (Matches(i + 3, {"ER", "EN"})) {
        codes_.Add("X", "SK");  // "schermerhorn", "schenker"
      } else if (Matches(i + 3, {"OO", "UY", "ED", "EM"})) {
        codes_.Add("SK");  // Dutch: "school", "schooner"
      } else if (i == 0 && !IsVowel(At(3)) && At(3) != 'W') {
        codes_.Add("X", "S");  // "schmidt", "schneider"
      } else {
        codes_.Add("X");
      }
    } else if (Matches(i + 2, {"I", "E", "Y"})) {
      codes_.Add("S");
    } else {
      codes_.Add("SK");
    }
    return i + 3;
  }

  Pos HandleT(Pos i) {
    if (Matches(i, {"TION"}) || Matches(i, {"TIA", "TCH"})) {
      codes_.Add("X");
      return i + 3;
    }
    if (Matches(i, {"TH"}) || Matches(i, {"TTH"})) {
      // "Thomas", "Thames" and Germanic names keep a plain T.
      if (Matches(i + 2, {"OM", "AM"}) || Germanic()) {
        codes_.Add("T");
      } else {
        codes_.Add("0", "T");
      }
      return i + 2;
    }
    codes_.Add("T");
    return Matches(i + 1, {"T", "D"}) ? i + 2 : i + 1;
  }

  Pos HandleW(Pos i) {
    if (Matches(i, {"WR"})) {
      codes_.Add("R");  // also mid-word
      return i + 2;
    }
    if (i == 0 && (IsVowel(At(i + 1)) || Matches(i, {"WH"}))) {
      // "Wasserman" ~ "Vasserman"; "Womo" ~ "Uomo".
      if (IsVowel(At(i + 1))) {
        codes_.Add("A", "F");
      } else {
        codes_.Add("A");
      }
      return i + 1;
    }
    if ((i == Last() && IsVowel(At(i - 1))) ||
        Matches(i - 1, {"EWSKI", "EWSKY", "OWSKI", "OWSKY"}) || Matches(0, {"SCH"})) {
      codes_.AddAlternate("F");  // "Arnow" ~ "Arnoff"
      return i + 1;
    }
    if (Matches(i, {"WICZ", "WITZ"})) {
      codes_.Add("TS", "FX");  // Polish: "filipowicz"
      return i + 4;
    }
    return i + 1;
  }

  Pos HandleX(Pos i) {
    if (i == 0) {
      codes_.Add("S");  // "Xavier", "xenophobia"
      return i + 1;
    }
    // Silent in French finals: "breaux", "-iaux", "-eaux", "-oux".
    bool french_final =
        i == Last() && (Matches(i - 3, {"IAU", "EAU"}) || Matches(i - 2, {"AU", "OU"}));
    if (!french_final) codes_.Add("KS");
    return Matches(i + 1, {"C", "X"}) ? i + 2 : i + 1;
  }

  Pos HandleZ(Pos i) {
    if (At(i + 1) == 'H') {
      codes_.Add("J");  // Chinese pinyin: "Zhao"
      return i + 2;
    }
    if (Matches(i + 1, {"ZO", "ZI", "ZA"}) || (slavo_germanic_ && i > 0 && At(i - 1) != 'T')) {
      codes_.Add("S", "TS");
    } else {
      codes_.Add("S");
    }
    return At(i + 1) == 'Z' ? i + 2 : i + 1;
  }

  const std::string word_;
  CodeBuilder codes_;
  const bool slavo_germanic_;
};

}  // namespace

PhoneticCodes DoubleMetaphone(std::string_view word, size_t max_length) {
  return Encoder(CleanInput(word), max_length).Run();
}

}  // namespace cp
