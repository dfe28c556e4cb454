// Noisy search queries with their expected answers (see gen.h).
//
// The query mix is planned first (which queries are fuzzy, which noise, which search
// criteria), then the children CSV is read once, keeping only the children the queries
// will target: reservoir sampling per pool (all children; those with a hyphenated
// surname, a former surname, a day-month swappable date of birth), so a 12M-row file
// needs memory for the queries only. All randomness is a fixed xoshiro256** stream, so
// the same input and options give the same bytes.
#include <algorithm>
#include <array>
#include <bit>
#include <string>
#include <string_view>
#include <vector>

#include "tools/gen.h"
#include "tools/rng.h"
#include "util/csv.h"

namespace cp {
namespace {

// ---------------------------------------------------------------------------------------
// What a query looks like

// The minimum search criteria a query meets.
enum Criteria : uint8_t {
  kIdentifier = 1,  // NHS number or pupil number alone
  kNamesDob = 2,    // family + given (or initial) + dob or a dob range of <= 2 years
  kFamilyDobGenderPostcode = 4,
  kGivenDobGenderPostcode = 8,
};
constexpr std::array<std::pair<Criteria, int>, 4> kCriteriaWeights = {{
    {kIdentifier, 15},
    {kNamesDob, 60},
    {kFamilyDobGenderPostcode, 12},
    {kGivenDobGenderPostcode, 13},
}};

// Children a noise can apply to; each pool is sampled separately.
enum Pool : uint8_t { kAll, kHyphenated, kFormer, kDobSwappable, kPoolCount };

enum class Noise : uint8_t {
  kExact,
  kTypo,
  kNickname,
  kSwap,
  kInitial,
  kDoubleBarrelPart,
  kDobSwap,
  kDobDigit,
  kDobRange,
  kPhonetic,
  kFormerName,
};

struct NoiseSpec {
  Noise noise;
  std::string_view name;  // the `noise` column
  int weight;             // share among fuzzy queries
  uint8_t criteria;       // the Criteria it can be combined with
  Pool pool;
};

constexpr uint8_t kNameCriteria = kNamesDob | kFamilyDobGenderPostcode | kGivenDobGenderPostcode;
constexpr NoiseSpec kNoises[] = {
    {Noise::kExact, "exact", 0, kNameCriteria | kIdentifier, kAll},
    {Noise::kTypo, "typo", 25, kNameCriteria, kAll},
    {Noise::kNickname, "nickname", 10, kNamesDob | kGivenDobGenderPostcode, kAll},
    {Noise::kSwap, "swap", 8, kNamesDob, kAll},
    {Noise::kInitial, "initial", 8, kNamesDob, kAll},
    {Noise::kDoubleBarrelPart, "double_barrel_part", 5, kNamesDob | kFamilyDobGenderPostcode,
     kHyphenated},
    {Noise::kDobSwap, "dob_swap", 8, kNameCriteria, kDobSwappable},
    {Noise::kDobDigit, "dob_digit", 8, kNameCriteria, kAll},
    {Noise::kDobRange, "dob_range", 8, kNamesDob, kAll},
    {Noise::kPhonetic, "phonetic", 12, kNameCriteria, kAll},
    {Noise::kFormerName, "former_name", 5, kNamesDob | kFamilyDobGenderPostcode, kFormer},
};

const NoiseSpec& Spec(Noise noise) { return kNoises[static_cast<size_t>(noise)]; }

struct PlannedQuery {
  Noise noise;
  Criteria criteria;
};

Criteria PickCriteria(uint8_t allowed, Rng& rng) {
  int total = 0;
  for (const auto& [c, w] : kCriteriaWeights) total += (allowed & c) ? w : 0;
  int r = static_cast<int>(rng.Below(static_cast<uint64_t>(total)));
  for (const auto& [c, w] : kCriteriaWeights) {
    if (!(allowed & c)) continue;
    if (r < w) return c;
    r -= w;
  }
  return kNamesDob;
}

Noise PickNoise(Rng& rng) {
  int total = 0;
  for (const NoiseSpec& s : kNoises) total += s.weight;
  int r = static_cast<int>(rng.Below(static_cast<uint64_t>(total)));
  for (const NoiseSpec& s : kNoises) {
    if (r < s.weight) return s.noise;
    r -= s.weight;
  }
  return Noise::kTypo;
}

std::vector<PlannedQuery> PlanQueries(const QueryGenOptions& options, Rng& rng) {
  std::vector<PlannedQuery> plan(options.queries);
  for (PlannedQuery& q : plan) {
    q.noise = rng.Chance(options.fuzzy_share) ? PickNoise(rng) : Noise::kExact;
    q.criteria = PickCriteria(Spec(q.noise).criteria, rng);
  }
  return plan;
}

// ---------------------------------------------------------------------------------------
// Reading the children

struct Child {
  std::string key, given, family, former, dob, gender, postcode, nhs, upn;
  Date date;
};

enum Column { kKey, kGiven, kFamily, kFormerCol, kDob, kGender, kPostcode, kNhs, kUpn, kColumns };
constexpr std::string_view kColumnNames[kColumns] = {
    "source_key", "given_name", "family_name", "former_family_names", "date_of_birth",
    "gender",     "postcode",   "nhs_number",  "pupil_number"};
constexpr int kRequiredColumns = kDob + 1;  // key, names and date of birth

// Keeps a uniform sample without replacement of the members it is offered (Algorithm R).
class Reservoir {
 public:
  explicit Reservoir(size_t capacity) : capacity_(capacity) {}
  // Where the member just seen should be kept: a slot index, or -1 to drop it.
  int64_t SlotForNext(Rng& rng) {
    const uint64_t seen = seen_++;
    if (seen < capacity_) return static_cast<int64_t>(seen);
    const uint64_t slot = rng.Below(seen + 1);
    return slot < capacity_ ? static_cast<int64_t>(slot) : -1;
  }
  void Keep(int64_t slot, const Child& child) {
    if (static_cast<size_t>(slot) == children.size()) {
      children.push_back(child);
    } else {
      children[static_cast<size_t>(slot)] = child;
    }
  }
  // Slot order still leans towards reading order; queries should not.
  void Shuffle(Rng& rng) {
    for (size_t i = children.size(); i > 1; --i) std::swap(children[i - 1], children[rng.Below(i)]);
  }

  std::vector<Child> children;

 private:
  size_t capacity_;
  uint64_t seen_ = 0;
};

bool IsHyphenated(std::string_view family) {
  const size_t dash = family.find('-');
  return dash != std::string_view::npos && dash > 0 && dash + 1 < family.size();
}

Status MapColumns(const std::vector<std::string>& header, std::array<int, kColumns>* columns) {
  columns->fill(-1);
  for (size_t i = 0; i < header.size(); ++i) {
    for (int c = 0; c < kColumns; ++c) {
      if (header[i] == kColumnNames[c]) (*columns)[c] = static_cast<int>(i);
    }
  }
  for (int c = 0; c < kRequiredColumns; ++c) {
    if ((*columns)[c] < 0) {
      return Status::InvalidArgument("gen queries: the children CSV has no " +
                                     std::string(kColumnNames[c]) + " column");
    }
  }
  return Status::OK();
}

// Reads every child and offers each to the reservoirs of the pools it belongs to.
Status SampleChildren(std::istream& in, Rng& rng, std::array<Reservoir, kPoolCount>* pools) {
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  std::array<int, kColumns> columns{};
  bool header = true;
  Child child;
  const std::string empty;
  while (reader.Next(&fields, &error)) {
    if (!error.empty()) return Status::InvalidArgument("gen queries: " + error);
    if (header) {
      header = false;
      if (Status s = MapColumns(fields, &columns); !s.ok()) return s;
      continue;
    }
    const auto field = [&](Column c) -> const std::string& {
      const int i = columns[c];
      return i >= 0 && static_cast<size_t>(i) < fields.size() ? fields[i] : empty;
    };
    const Result<Date> date = ParseDate(field(kDob));
    // A child the generator cannot describe by names and date of birth is never a target.
    if (field(kKey).empty() || field(kGiven).empty() || field(kFamily).empty() || !date.ok()) {
      continue;
    }
    const bool member[kPoolCount] = {true, IsHyphenated(field(kFamily)), !field(kFormerCol).empty(),
                                     date->day <= 12 && date->day != date->month};
    bool loaded = false;
    for (int p = 0; p < kPoolCount; ++p) {
      if (!member[p]) continue;
      const int64_t slot = (*pools)[p].SlotForNext(rng);
      if (slot < 0) continue;
      if (!loaded) {
        child =
            Child{field(kKey),    field(kGiven),    field(kFamily), field(kFormerCol), field(kDob),
                  field(kGender), field(kPostcode), field(kNhs),    field(kUpn),       *date};
        loaded = true;
      }
      (*pools)[p].Keep(slot, child);
    }
  }
  return Status::OK();
}

// ---------------------------------------------------------------------------------------
// Noise

bool IsLetter(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }
char ToUpper(char c) { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c; }
bool IsVowel(char c) { return std::string_view("aeiouAEIOU").find(c) != std::string_view::npos; }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ToLower(c);
  return out;
}

// Letters, with single hyphens/apostrophes/spaces between them.
bool LooksLikeName(std::string_view s) {
  if (s.size() < 2 || !IsLetter(s.front()) || !IsLetter(s.back())) return false;
  for (size_t i = 1; i < s.size(); ++i) {
    if (!IsLetter(s[i]) && !IsLetter(s[i - 1])) return false;
  }
  return true;
}

char RandomLetterOtherThan(char avoid, Rng& rng) {
  char c = avoid;
  while (c == avoid) c = static_cast<char>('a' + rng.Below(26));
  return c;
}

// One substitution, deletion, insertion or adjacent transposition, keeping each
// position's capitalisation so "McDonald" stays readable.
void EditOnce(std::string* s, Rng& rng) {
  std::string& t = *s;
  const size_t pos = rng.Below(t.size());
  const uint64_t op = rng.Below(4);
  if (!IsLetter(t[pos])) return;
  const bool upper = IsUpper(t[pos]);
  if (op == 0) {
    const char c = RandomLetterOtherThan(ToLower(t[pos]), rng);
    t[pos] = upper ? ToUpper(c) : c;
  } else if (op == 1 && t.size() > 2) {
    t.erase(pos, 1);
    if (upper && pos < t.size()) t[pos] = ToUpper(t[pos]);
  } else if (op == 2) {
    t.insert(t.begin() + static_cast<std::ptrdiff_t>(pos) + 1, RandomLetterOtherThan(0, rng));
  } else if (op == 3 && pos + 1 < t.size() && IsLetter(t[pos + 1])) {
    const char a = ToLower(t[pos]), b = ToLower(t[pos + 1]);
    t[pos] = upper ? ToUpper(b) : b;
    t[pos + 1] = IsUpper(t[pos + 1]) ? ToUpper(a) : a;
  }
}

// One or two edits that leave something still shaped like a name, or nothing when the
// name is too short to edit.
std::string Typo(std::string_view name, Rng& rng) {
  const int edits = rng.Chance(0.25) ? 2 : 1;
  for (int attempt = 0; attempt < 32; ++attempt) {
    std::string s(name);
    for (int e = 0; e < edits; ++e) EditOnce(&s, rng);
    if (LooksLikeName(s) && Lower(s) != Lower(name)) return s;
  }
  return {};
}

// Common British given-name/nickname pairs; a child with either form is searched by the
// other. sex: 'M', 'F' or 'U' (either).
struct NicknamePair {
  std::string_view formal, nickname;
  char sex;
};
constexpr NicknamePair kNicknames[] = {
    {"William", "Bill", 'M'},     {"William", "Will", 'M'},      {"William", "Billy", 'M'},
    {"Robert", "Bob", 'M'},       {"Robert", "Rob", 'M'},        {"Richard", "Rich", 'M'},
    {"Richard", "Ricky", 'M'},    {"James", "Jim", 'M'},         {"James", "Jamie", 'M'},
    {"Thomas", "Tom", 'M'},       {"Thomas", "Tommy", 'M'},      {"Joseph", "Joe", 'M'},
    {"Daniel", "Dan", 'M'},       {"Daniel", "Danny", 'M'},      {"Samuel", "Sam", 'M'},
    {"Benjamin", "Ben", 'M'},     {"Alexander", "Alex", 'M'},    {"Christopher", "Chris", 'M'},
    {"Matthew", "Matt", 'M'},     {"Michael", "Mike", 'M'},      {"Michael", "Mikey", 'M'},
    {"Nicholas", "Nick", 'M'},    {"Anthony", "Tony", 'M'},      {"Edward", "Ed", 'M'},
    {"Edward", "Eddie", 'M'},     {"Edward", "Ted", 'M'},        {"Henry", "Harry", 'M'},
    {"Henry", "Hal", 'M'},        {"Jonathan", "Jon", 'M'},      {"Joshua", "Josh", 'M'},
    {"Oliver", "Ollie", 'M'},     {"Charles", "Charlie", 'M'},   {"Frederick", "Freddie", 'M'},
    {"Frederick", "Fred", 'M'},   {"Alfred", "Alfie", 'M'},      {"Archibald", "Archie", 'M'},
    {"Theodore", "Theo", 'M'},    {"Theodore", "Teddy", 'M'},    {"Zachary", "Zach", 'M'},
    {"Jacob", "Jake", 'M'},       {"Patrick", "Paddy", 'M'},     {"Andrew", "Andy", 'M'},
    {"Stephen", "Steve", 'M'},    {"Timothy", "Tim", 'M'},       {"Peter", "Pete", 'M'},
    {"Sebastian", "Seb", 'M'},    {"Nathaniel", "Nate", 'M'},    {"Gabriel", "Gabe", 'M'},
    {"Maximilian", "Max", 'M'},   {"Leonardo", "Leo", 'M'},      {"Stanley", "Stan", 'M'},
    {"Harrison", "Harry", 'M'},   {"Elizabeth", "Beth", 'F'},    {"Elizabeth", "Lizzie", 'F'},
    {"Elizabeth", "Liz", 'F'},    {"Margaret", "Maggie", 'F'},   {"Katherine", "Kate", 'F'},
    {"Katherine", "Katie", 'F'},  {"Catherine", "Cathy", 'F'},   {"Catherine", "Kate", 'F'},
    {"Charlotte", "Lottie", 'F'}, {"Charlotte", "Charlie", 'F'}, {"Isabella", "Bella", 'F'},
    {"Isabella", "Izzy", 'F'},    {"Isabelle", "Izzy", 'F'},     {"Jessica", "Jess", 'F'},
    {"Rebecca", "Becky", 'F'},    {"Victoria", "Vicky", 'F'},    {"Abigail", "Abbie", 'F'},
    {"Abigail", "Abi", 'F'},      {"Eleanor", "Ellie", 'F'},     {"Eleanor", "Nell", 'F'},
    {"Amelia", "Millie", 'F'},    {"Olivia", "Liv", 'F'},        {"Olivia", "Livvy", 'F'},
    {"Sophia", "Sophie", 'F'},    {"Matilda", "Tilly", 'F'},     {"Harriet", "Hattie", 'F'},
    {"Georgina", "Georgie", 'F'}, {"Josephine", "Josie", 'F'},   {"Florence", "Flo", 'F'},
    {"Penelope", "Penny", 'F'},   {"Evelyn", "Evie", 'F'},       {"Madeleine", "Maddie", 'F'},
    {"Samantha", "Sam", 'F'},     {"Natasha", "Tasha", 'F'},     {"Jennifer", "Jenny", 'F'},
    {"Alexandra", "Alex", 'F'},   {"Gabriella", "Gabby", 'F'},   {"Annabelle", "Annie", 'F'},
    {"Imogen", "Immy", 'F'},      {"Kimberley", "Kim", 'F'},     {"Mary", "Molly", 'F'},
};

// A nickname (or the formal name, for a child registered as "Alfie"), or empty.
std::string Nickname(const Child& child, Rng& rng) {
  std::vector<std::string_view> options;
  for (const NicknamePair& p : kNicknames) {
    if (p.sex != 'U' && !child.gender.empty() && child.gender[0] != p.sex) continue;
    if (child.given == p.formal) options.push_back(p.nickname);
    if (child.given == p.nickname) options.push_back(p.formal);
  }
  if (options.empty()) return {};
  return std::string(options[rng.Below(options.size())]);
}

// Respellings that sound the same, on the lower-case name.
bool PhoneticRuleApplies(std::string_view s, size_t i, std::string_view from) {
  if (s.substr(i, from.size()) != from) return false;
  const char before = i > 0 ? s[i - 1] : '\0';
  const char after = i + from.size() < s.size() ? s[i + from.size()] : '\0';
  if (from == "f") return before != 'f' && before != 'p' && after != 'f';
  if (from == "y" || from == "i") return i > 0 && !IsVowel(after) && IsLetter(before);
  if (from == "c" || from == "k") return i == 0 && (after == 'a' || after == 'o' || after == 'u');
  if (from == "s" || from == "z") return IsVowel(before) && IsVowel(after);
  if (from == "ie") return after == '\0' && i > 0;
  return true;
}

struct PhoneticRule {
  std::string_view from, to;
};
constexpr PhoneticRule kPhoneticRules[] = {
    {"ph", "f"},  {"f", "ph"},  {"ck", "k"}, {"y", "i"}, {"i", "y"},  {"c", "k"},  {"k", "c"},
    {"ee", "ea"}, {"ea", "ee"}, {"s", "z"},  {"z", "s"}, {"ie", "y"}, {"ay", "ae"}};

// A phonetic respelling ("Sophie" -> "Sofie", "Jackson" -> "Jakson", "Hannah" ->
// "Hanah"), or empty when no rule applies.
std::string Phonetic(std::string_view name, Rng& rng) {
  const std::string lower = Lower(name);
  struct Candidate {
    size_t pos, length;
    std::string_view to;
  };
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < lower.size(); ++i) {
    for (const PhoneticRule& r : kPhoneticRules) {
      if (PhoneticRuleApplies(lower, i, r.from)) candidates.push_back({i, r.from.size(), r.to});
    }
    // A doubled consonant written once ("Harriet" -> "Hariet").
    if (i + 1 < lower.size() && lower[i] == lower[i + 1] && IsLetter(lower[i]) && lower[i] != 'e' &&
        lower[i] != 'o') {
      candidates.push_back({i, 2, std::string_view(lower).substr(i, 1)});
    }
  }
  while (!candidates.empty()) {
    const size_t k = rng.Below(candidates.size());
    const Candidate c = candidates[k];
    std::string out(name.substr(0, c.pos));
    out += c.to;
    out += name.substr(c.pos + c.length);
    if (IsUpper(name[c.pos])) out[c.pos] = ToUpper(out[c.pos]);
    if (LooksLikeName(out) && Lower(out) != lower) return out;
    candidates.erase(candidates.begin() + static_cast<std::ptrdiff_t>(k));
  }
  return {};
}

// "YYYY-MM-DD" with one digit of the year's last digit, month or day changed, still a date.
std::string DobDigit(const std::string& dob, Rng& rng) {
  std::vector<std::string> options;
  for (size_t pos : {3, 5, 6, 8, 9}) {
    for (char d = '0'; d <= '9'; ++d) {
      if (d == dob[pos]) continue;
      std::string changed = dob;
      changed[pos] = d;
      if (ParseDate(changed).ok()) options.push_back(std::move(changed));
    }
  }
  return options.empty() ? dob : options[rng.Below(options.size())];
}

// Bytes of the first UTF-8 character, so that an initial of "Élodie" stays valid text.
size_t FirstCharacterBytes(std::string_view s) {
  size_t n = 1;
  while (n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) ++n;
  return n;
}

// ---------------------------------------------------------------------------------------
// Building queries

struct Query {
  std::string given, family, dob, dob_from, dob_to, gender, postcode, nhs, upn;
  std::string_view noise;
};

// The child's own fields for the criteria; falls back to names + dob when the child lacks
// an identifier, a gender or a postcode.
Criteria FillCriteria(const Child& child, Criteria criteria, Rng& rng, Query* q) {
  const bool has_ids = !child.nhs.empty() || !child.upn.empty();
  const bool has_place = !child.gender.empty() && !child.postcode.empty();
  if ((criteria == kIdentifier && !has_ids) ||
      ((criteria == kFamilyDobGenderPostcode || criteria == kGivenDobGenderPostcode) &&
       !has_place)) {
    criteria = kNamesDob;
  }
  if (criteria == kIdentifier) {
    if (!child.nhs.empty() && (child.upn.empty() || rng.Chance(0.7))) {
      q->nhs = child.nhs;
    } else {
      q->upn = child.upn;
    }
    return criteria;
  }
  q->dob = child.dob;
  if (criteria != kGivenDobGenderPostcode) q->family = child.family;
  if (criteria != kFamilyDobGenderPostcode) q->given = child.given;
  if (criteria != kNamesDob) {
    q->gender = child.gender;
    q->postcode = child.postcode;
  }
  return criteria;
}

// A typo or respelling in one of the names the query carries; false when none is possible.
bool NoiseOneName(Noise noise, Rng& rng, Query* q) {
  std::string* names[2] = {&q->given, &q->family};
  int first = q->given.empty() ? 1 : (q->family.empty() ? 0 : static_cast<int>(rng.Below(2)));
  for (int k = 0; k < 2; ++k) {
    std::string* name = names[(first + k) % 2];
    if (name->empty()) continue;
    std::string noisy = noise == Noise::kPhonetic ? Phonetic(*name, rng) : Typo(*name, rng);
    if (!noisy.empty()) {
      *name = std::move(noisy);
      return true;
    }
  }
  return false;
}

void DobRange(const Child& child, Rng& rng, Query* q) {
  const int32_t span = rng.Chance(0.5) ? 365 : 730;  // one or two years
  const int32_t from = child.date.ToDays() - static_cast<int32_t>(rng.Below(span + 1));
  q->dob.clear();
  q->dob_from = Date::FromDays(from).ToString();
  q->dob_to = Date::FromDays(from + span).ToString();
}

// Applies the noise and returns what was actually done: nickname and phonetic fall back
// to a typo when the name has no nickname or respelling.
Noise ApplyNoise(const Child& child, Noise noise, Rng& rng, Query* q) {
  switch (noise) {
    case Noise::kExact:
      return noise;
    case Noise::kNickname: {
      std::string nickname = Nickname(child, rng);
      if (nickname.empty())
        return NoiseOneName(Noise::kTypo, rng, q) ? Noise::kTypo : Noise::kExact;
      q->given = std::move(nickname);
      return noise;
    }
    case Noise::kTypo:
    case Noise::kPhonetic:
      if (NoiseOneName(noise, rng, q)) return noise;
      return noise == Noise::kPhonetic && NoiseOneName(Noise::kTypo, rng, q) ? Noise::kTypo
                                                                             : Noise::kExact;
    case Noise::kSwap:
      std::swap(q->given, q->family);
      return noise;
    case Noise::kInitial:
      q->given.resize(FirstCharacterBytes(q->given));
      return noise;
    case Noise::kDoubleBarrelPart: {
      const size_t dash = child.family.find('-');
      q->family = rng.Chance(0.5) ? child.family.substr(0, dash) : child.family.substr(dash + 1);
      return noise;
    }
    case Noise::kDobSwap:
      q->dob = Date{child.date.year, child.date.day, child.date.month}.ToString();
      return noise;
    case Noise::kDobDigit:
      q->dob = DobDigit(child.dob, rng);
      return noise;
    case Noise::kDobRange:
      DobRange(child, rng, q);
      return noise;
    case Noise::kFormerName:
      q->family = child.former;
      return noise;
  }
  return noise;
}

void AppendRow(uint64_t id, const Query& q, const Child& child, std::string* out) {
  *out += "q-";
  *out += std::to_string(id);
  for (const std::string_view field :
       {std::string_view(q.given), std::string_view(q.family), std::string_view(q.dob),
        std::string_view(q.dob_from), std::string_view(q.dob_to), std::string_view(q.gender),
        std::string_view(q.postcode), std::string_view(q.nhs), std::string_view(q.upn),
        std::string_view(child.key), q.noise}) {
    *out += ',';
    AppendCsvField(field, out);
  }
  *out += '\n';
}

// The child a planned query targets: from its noise's pool when that pool has members,
// otherwise any child (and the noise becomes a typo).
const Child& Target(size_t index, PlannedQuery* plan,
                    const std::array<Reservoir, kPoolCount>& pools,
                    std::array<size_t, kPoolCount>* used) {
  const Pool pool = Spec(plan->noise).pool;
  if (pool != kAll) {
    const std::vector<Child>& members = pools[pool].children;
    if (!members.empty()) return members[(*used)[pool]++ % members.size()];
    plan->noise = Noise::kTypo;
  }
  const std::vector<Child>& all = pools[kAll].children;
  return all[index % all.size()];
}

}  // namespace

Status GenerateQueries(const QueryGenOptions& options, std::istream& children_csv,
                       std::ostream& out) {
  if (!(options.fuzzy_share >= 0.0 && options.fuzzy_share <= 1.0)) {
    return Status::InvalidArgument("gen queries: fuzzy_share must be between 0 and 1");
  }
  Rng plan_rng(options.seed), sample_rng(options.seed ^ 0x73616d706c65ULL),
      noise_rng(options.seed ^ 0x6e6f697365ULL);
  std::vector<PlannedQuery> plan = PlanQueries(options, plan_rng);

  std::array<size_t, kPoolCount> wanted{};
  for (const PlannedQuery& q : plan) {
    const Pool pool = Spec(q.noise).pool;
    if (pool != kAll) ++wanted[pool];
  }
  std::array<Reservoir, kPoolCount> pools = {Reservoir(options.queries), Reservoir(wanted[1]),
                                             Reservoir(wanted[2]), Reservoir(wanted[3])};
  if (Status s = SampleChildren(children_csv, sample_rng, &pools); !s.ok()) return s;
  if (pools[kAll].children.empty() && options.queries > 0) {
    return Status::InvalidArgument(
        "gen queries: no child in the CSV has a source key, names and a date of birth");
  }
  for (Reservoir& r : pools) r.Shuffle(sample_rng);

  std::string buffer =
      "query_id,given_name,family_name,date_of_birth,dob_from,dob_to,gender,postcode,"
      "nhs_number,pupil_number,expected_source_key,noise\n";
  std::array<size_t, kPoolCount> used{};
  for (size_t i = 0; i < plan.size(); ++i) {
    const Child& child = Target(i, &plan[i], pools, &used);
    Query q;
    FillCriteria(child, plan[i].criteria, noise_rng, &q);
    q.noise = Spec(ApplyNoise(child, plan[i].noise, noise_rng, &q)).name;
    AppendRow(i + 1, q, child, &buffer);
    if (buffer.size() >= (1 << 20)) {
      out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
      buffer.clear();
    }
  }
  out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
  if (!out) return Status::IOError("gen queries: writing the query file failed");
  return Status::OK();
}

}  // namespace cp
