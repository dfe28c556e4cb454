#include "ingest/matcher.h"

#include <algorithm>
#include <array>
#include <atomic>
#include <bit>
#include <cmath>
#include <cstring>
#include <forward_list>
#include <limits>
#include <memory>
#include <mutex>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <xxhash.h>

#include "index/double_metaphone.h"
#include "index/features.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/similarity.h"
#include "storage/keys.h"
#include "util/postcode.h"

extern "C" const char cp_data_surnames_begin[], cp_data_surnames_end[];

namespace cp {
namespace {

// A name field prepared for comparison.
struct Name {
  std::string canonical;
  std::vector<std::string> parts;
  std::vector<std::string> codes;  // primary and alternate codes of every part
  std::vector<uint32_t> groups;    // nickname groups of every part (NameVariants::GroupIds)
  bool empty() const { return parts.empty(); }
};

Name Prepare(std::string_view raw) {
  Name n;
  n.parts = NameParts(raw);
  for (const auto& p : n.parts) {
    n.canonical += (n.canonical.empty() ? "" : " ") + p;
    PhoneticCodes c = DoubleMetaphone(p);
    if (!c.primary.empty()) n.codes.push_back(c.primary);
    if (!c.alternate.empty() && c.alternate != c.primary) n.codes.push_back(c.alternate);
    for (uint32_t g : NameVariants::Default().GroupIds(p)) n.groups.push_back(g);
  }
  std::sort(n.groups.begin(), n.groups.end());
  n.groups.erase(std::unique(n.groups.begin(), n.groups.end()), n.groups.end());
  return n;
}

}  // namespace

// Prepared names by spelling, shared by every match: a feed meets the same few thousand
// names again and again, and Double Metaphone is the dearest part of preparing one.
// Entries are never removed, so a returned pointer stays valid; past kMaxEntries a name is
// prepared into the caller's scratch instead.
//
// In front of the shared shards each thread keeps a direct-mapped table of the names it
// met last (spelling, kept inline, and the shared entry's address; 32,768 entries, 1.25 MB
// a thread): blocking looks up the names of ~50 postings a record, and the shard's lock
// and hash-map walk (three cache misses) were 8% of a new feed record's CPU at 1M
// children, 4.7% with this table (4,096 entries missed too often to help).
class NameCache {
 public:
  static constexpr size_t kMaxEntries = 500000;

  NameCache() : id_(next_id_.fetch_add(1, std::memory_order_relaxed)) {}

  const Name* Get(std::string_view spelling, Name* scratch) {
    const uint64_t hash = XXH3_64bits(spelling.data(), spelling.size());
    Front& front = ThreadFront();
    Front::Entry* e = nullptr;
    if (spelling.size() <= Front::kMaxSpelling) {
      e = &front.entries[hash & (Front::kEntries - 1)];
      if (e->name != nullptr && e->hash == hash && e->length == spelling.size() &&
          std::memcmp(e->spelling, spelling.data(), spelling.size()) == 0) {
        return e->name;
      }
    }
    const Name* name = GetShared(hash, spelling, scratch);
    if (e != nullptr && name != scratch) {
      e->hash = hash;
      e->length = static_cast<uint8_t>(spelling.size());
      std::memcpy(e->spelling, spelling.data(), spelling.size());
      e->name = name;
    }
    return name;
  }

 private:
  static constexpr size_t kShards = 16;  // matching threads seldom wait on one another
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view v) const { return XXH3_64bits(v.data(), v.size()); }
  };
  struct Shard {
    std::mutex mu;
    std::unordered_map<std::string, Name, Hash, std::equal_to<>> names;
  };
  // One thread's table, for one cache at a time (`owner`, a cache's id: never reused, so
  // a table left by a cache since destroyed is cleared, not read).
  struct Front {
    static constexpr size_t kEntries = 32768;
    static constexpr size_t kMaxSpelling = 22;
    struct Entry {
      uint64_t hash = 0;
      const Name* name = nullptr;
      uint8_t length = 0;
      char spelling[kMaxSpelling];
    };
    uint64_t owner = 0;
    std::array<Entry, kEntries> entries;
  };

  Front& ThreadFront() const {
    thread_local std::unique_ptr<Front> front = std::make_unique<Front>();
    if (front->owner != id_) {
      front->entries.fill(Front::Entry{});
      front->owner = id_;
    }
    return *front;
  }

  const Name* GetShared(uint64_t hash, std::string_view spelling, Name* scratch) {
    Shard& shard = shards_[hash % kShards];
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.names.find(spelling);
    if (it != shard.names.end()) return &it->second;
    if (shard.names.size() >= kMaxEntries / kShards) {
      *scratch = Prepare(spelling);
      return scratch;
    }
    return &shard.names.emplace(std::string(spelling), Prepare(spelling)).first->second;
  }

  static inline std::atomic<uint64_t> next_id_{1};
  const uint64_t id_;
  Shard shards_[kShards];
};

namespace {

bool SharesCode(const Name& a, const Name& b) {
  for (const auto& x : a.codes) {
    if (std::find(b.codes.begin(), b.codes.end(), x) != b.codes.end()) return true;
  }
  return false;
}

bool SharesPart(const Name& a, const Name& b) {
  for (const auto& x : a.parts) {
    if (std::find(b.parts.begin(), b.parts.end(), x) != b.parts.end()) return true;
  }
  return false;
}

// SharesPart of two names known to differ: two names of one part each then share none
// (a one-part name is its canonical form), which is told without reading the parts.
bool DifferentNamesSharePart(const Name& a, const Name& b) {
  if (a.parts.size() == 1 && b.parts.size() == 1) return false;
  return SharesPart(a, b);
}

// One or two typing slips: an edit distance of 1 for short names, 2 for longer ones.
bool IsTypo(const std::string& a, const std::string& b) {
  const size_t allowed = std::min(a.size(), b.size()) >= 6 ? 2 : 1;
  return EditDistance(a, b, allowed) <= allowed && JaroWinkler(a, b) >= 0.85;
}

// Some part of each is in one nickname group: their parts' groups, prepared once a name
// (Prepare), meet.
bool AreNicknames(const Name& a, const Name& b) {
  for (size_t i = 0, j = 0; i < a.groups.size() && j < b.groups.size();) {
    if (a.groups[i] == b.groups[j]) return true;
    if (a.groups[i] < b.groups[j]) {
      ++i;
    } else {
      ++j;
    }
  }
  return false;
}

struct Level {
  const char* name;
  double weight;
};

// The best agreement of two family names; `frequency_weight` is the weight of an exact
// agreement on this surname.
Level CompareFamily(const Name& a, const Name& b, double exact_weight, const MatchWeights& w) {
  if (a.canonical == b.canonical) return {"exact", exact_weight};
  if (DifferentNamesSharePart(a, b)) return {"part", w.family_part};
  if (IsTypo(a.canonical, b.canonical)) return {"typo", w.family_typo};
  if (SharesCode(a, b)) return {"phonetic", w.family_phonetic};
  return {"disagree", w.family_disagree};
}

Level CompareGiven(const Name& a, const Name& b, const MatchWeights& w) {
  if (a.canonical == b.canonical) return {"exact", w.given_exact};
  const bool a_initial = a.canonical.size() == 1, b_initial = b.canonical.size() == 1;
  if (a_initial || b_initial) {
    return a.canonical[0] == b.canonical[0] ? Level{"initial", w.given_initial}
                                            : Level{"disagree", w.given_disagree};
  }
  Level best{"disagree", w.given_disagree};
  auto take = [&best](Level l) {
    if (l.weight > best.weight) best = l;
  };
  if (DifferentNamesSharePart(a, b)) take({"part", w.given_typo});
  if (IsTypo(a.canonical, b.canonical)) take({"typo", w.given_typo});
  if (AreNicknames(a, b)) take({"nickname", w.given_nickname});
  if (SharesCode(a, b)) take({"phonetic", w.given_phonetic});
  return best;
}

// The eight digits of YYYYMMDD.
void DateDigits(const Date& d, char out[8]) {
  int v = d.year * 10000 + d.month * 100 + d.day;
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}

// OneDigitApart for any date, digit by digit.
bool OneDigitApartSlow(const Date& a, const Date& b) {
  char x[8], y[8];
  DateDigits(a, x);
  DateDigits(b, y);
  int diff = 0, first = -1;
  for (int i = 0; i < 8; ++i) {
    if (x[i] != y[i]) {
      if (first < 0) first = i;
      ++diff;
    }
  }
  if (diff == 1) return true;
  return diff == 2 && first < 7 && x[first] == y[first + 1] && x[first + 1] == y[first];
}

// 0..99 as two decimal digits, one a nibble.
constexpr std::array<uint8_t, 100> kTwoDigits = [] {
  std::array<uint8_t, 100> t{};
  for (int i = 0; i < 100; ++i) t[i] = static_cast<uint8_t>((i / 10) << 4 | (i % 10));
  return t;
}();

// The digits of YYYYMMDD as eight nibbles, the last digit lowest; false for a date that
// is not eight digits (a year outside 0..9999).
bool DateNibbles(const Date& d, uint32_t* out) {
  if (d.year < 0 || d.year > 9999 || d.month > 99 || d.day > 99) return false;
  const unsigned y = static_cast<unsigned>(d.year);
  *out = uint32_t{kTwoDigits[y / 100]} << 24 | uint32_t{kTwoDigits[y % 100]} << 16 |
         uint32_t{kTwoDigits[d.month]} << 8 | kTwoDigits[d.day];
  return true;
}

// Hamming distance 1 over YYYYMMDD, or two adjacent digits transposed. Blocking asks this
// of every posting it reads: compared as nibbles, not as strings of digits.
bool OneDigitApart(const Date& a, const Date& b) {
  uint32_t x, y;
  if (!DateNibbles(a, &x) || !DateNibbles(b, &y)) return OneDigitApartSlow(a, b);
  uint32_t t = x ^ y;
  t = (t | t >> 1 | t >> 2 | t >> 3) & 0x11111111u;  // one bit per digit that differs
  const int diff = std::popcount(t);
  if (diff == 1) return true;
  if (diff != 2) return false;
  // Two digits differ: they must be neighbours holding each other's value.
  const int low = std::countr_zero(t);  // 4 * the lower digit's place; the other is higher
  if (((t >> (low + 4)) & 1u) == 0) return false;
  const uint32_t x_low = (x >> low) & 0xF, x_high = (x >> (low + 4)) & 0xF;
  const uint32_t y_low = (y >> low) & 0xF, y_high = (y >> (low + 4)) & 0xF;
  return x_low == y_high && x_high == y_low;
}

bool DatesSwapped(const Date& a, const Date& b) {
  return a.year == b.year && a.month == b.day && a.day == b.month;
}

Level CompareDob(const Date& a, const Date& b, const MatchWeights& w) {
  if (a.empty() || b.empty()) return {"missing", 0};
  if (a == b) return {"exact", w.dob_exact};
  if (DatesSwapped(a, b)) return {"swapped", w.dob_swapped};
  if (OneDigitApart(a, b)) return {"one_digit", w.dob_one_digit};
  return {"disagree", w.dob_disagree};
}

// CompareDob's level is anything but "disagree".
bool DobPlausible(const Date& a, const Date& b) {
  return a.empty() || b.empty() || a == b || DatesSwapped(a, b) || OneDigitApart(a, b);
}

}  // namespace

std::vector<std::pair<uint8_t, uint8_t>> PlausibleDays(const Date& d) {
  std::vector<std::pair<uint8_t, uint8_t>> out;
  if (d.empty()) return out;
  auto consider = [&](int month, int day) {
    if (month >= 1 && month <= 12 && day >= 1 && day <= 31 &&
        DobPlausible(d, Date{d.year, static_cast<uint8_t>(month), static_cast<uint8_t>(day)})) {
      out.emplace_back(static_cast<uint8_t>(month), static_cast<uint8_t>(day));
    }
  };
  // In the same year a plausible date is the date itself, day and month swapped, or a slip
  // in the four digits MMDD: one digit changed, or two neighbours swapped (a swap across
  // the year's last digit changes the year).
  consider(d.month, d.day);
  consider(d.day, d.month);
  const int digits[4] = {d.month / 10, d.month % 10, d.day / 10, d.day % 10};
  auto consider_digits = [&](const int(&x)[4]) { consider(x[0] * 10 + x[1], x[2] * 10 + x[3]); };
  for (int pos = 0; pos < 4; ++pos) {
    for (int v = 0; v <= 9; ++v) {
      if (v == digits[pos]) continue;
      int x[4] = {digits[0], digits[1], digits[2], digits[3]};
      x[pos] = v;
      consider_digits(x);
    }
  }
  for (int pos = 0; pos < 3; ++pos) {
    int x[4] = {digits[0], digits[1], digits[2], digits[3]};
    std::swap(x[pos], x[pos + 1]);
    consider_digits(x);
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

namespace {

// The months of a dated record's birth year holding a day that is a plausible date of
// birth for it (`days`: its PlausibleDays): its own month, those one digit away, the month
// its day names (day and month swapped), and any a transposition across month and day
// gives.
std::vector<uint8_t> PlausibleMonths(const std::vector<std::pair<uint8_t, uint8_t>>& days) {
  std::vector<uint8_t> months;
  for (const auto& day : days) {  // in order: a month's days are together
    if (months.empty() || months.back() != day.first) months.push_back(day.first);
  }
  return months;
}

class SurnameTable {
 public:
  SurnameTable() {
    std::string_view rest(cp_data_surnames_begin,
                          static_cast<size_t>(cp_data_surnames_end - cp_data_surnames_begin));
    bool header = true;
    while (!rest.empty()) {
      size_t eol = rest.find('\n');
      std::string_view line = rest.substr(0, eol);
      rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (header || line.empty()) {
        header = false;
        continue;
      }
      size_t comma = line.find(',');
      if (comma == std::string_view::npos) continue;
      freq_[std::string(line.substr(0, comma))] = std::atof(std::string(line.substr(comma + 1)).c_str());
    }
  }
  double Get(std::string_view name) const {
    auto it = freq_.find(std::string(name));
    return it == freq_.end() ? 0 : it->second;
  }

 private:
  std::unordered_map<std::string, double> freq_;
};

// The record's side of every comparison, prepared once per match.
struct PreparedRecord {
  explicit PreparedRecord(const ChildRecord& r, const MatchWeights& w)
      : given(Prepare(r.given_name)), family(Prepare(r.family_name)) {
    for (const auto& f : r.former_family_names) former.push_back(Prepare(f));
    double u = SurnameFrequency(family.canonical);
    if (u <= 0) u = w.family_rare_floor;
    family_exact = std::min(w.family_exact_cap, std::log2(w.family_exact_m / u));
  }
  Name given, family;
  std::vector<Name> former;
  double family_exact = 0;  // the weight of agreeing exactly on this family name
};

// A candidate's names, prepared (through the cache when there is one). Holds scratch
// space the pointers may point into: neither copied nor moved.
struct CandidateNames {
  CandidateNames() = default;
  CandidateNames(const CandidateNames&) = delete;
  CandidateNames& operator=(const CandidateNames&) = delete;

  const Name* given = &scratch[0];
  const Name* middle = &scratch[1];
  const Name* family = &scratch[2];
  std::vector<const Name*> former;
  // A posting's middle names, as it carries them (canonical: parts joined by single
  // spaces), instead of `middle`. Comparing asks only whether they share a part with a
  // given name, which the spelling answers. Preparing them cost a lookup in the name cache
  // per posting, mostly a miss: middle names are many spellings (89,062 among 1M generated
  // children, against 17,830 given names), and a miss reached the shared shards.
  std::string_view middle_canonical;

  void Set(NameCache* cache, const Name** slot, Name* space, std::string_view spelling) {
    if (cache == nullptr) {
      *space = Prepare(spelling);
      *slot = space;
    } else {
      *slot = cache->Get(spelling, space);
    }
  }
  void SetGiven(NameCache* cache, std::string_view v) { Set(cache, &given, &scratch[0], v); }
  void SetMiddle(NameCache* cache, std::string_view v) { Set(cache, &middle, &scratch[1], v); }
  void SetMiddleCanonical(std::string_view canonical) { middle_canonical = canonical; }
  bool HasMiddle() const { return !middle->empty() || !middle_canonical.empty(); }
  // Some part of `a` is one of the middle names' parts.
  bool MiddleSharesPart(const Name& a) const {
    if (!middle->empty()) return SharesPart(a, *middle);
    for (std::string_view rest = middle_canonical; !rest.empty();) {
      const size_t space = rest.find(' ');
      const std::string_view part = rest.substr(0, space);
      if (std::find(a.parts.begin(), a.parts.end(), part) != a.parts.end()) return true;
      rest = space == std::string_view::npos ? std::string_view() : rest.substr(space + 1);
    }
    return false;
  }
  void SetFamily(NameCache* cache, std::string_view v) { Set(cache, &family, &scratch[2], v); }
  void AddFormer(NameCache* cache, std::string_view v) {
    former_scratch.emplace_front();
    former.push_back(nullptr);
    Set(cache, &former.back(), &former_scratch.front(), v);
  }
  void SetAll(NameCache* cache, const ChildRecord& c) {
    SetGiven(cache, c.given_name);
    SetMiddle(cache, c.middle_names);
    SetFamily(cache, c.family_name);
    for (const auto& f : c.former_family_names) AddFormer(cache, f);
  }

  Name scratch[3];
  std::forward_list<Name> former_scratch;  // stable addresses; allocates only when used
};

// `detail`: list each field's level and weight in the result (explain, review, the final
// decision); without it only the total and the flags, for pre-ranking many postings.
ScoredCandidate CompareWith(const MatchWeights& w, const PreparedRecord& p, const ChildRecord& r,
                            const HiddenFields& h, const ChildView& candidate,
                            const CandidateNames& names, bool detail = true) {
  const ChildRecord& c = candidate.record;
  ScoredCandidate out;
  out.child = c.id;
  out.shielded = c.shield.shielded;
  auto add = [&out, detail](const char* field, Level l) {
    if (detail) out.fields.push_back({field, l.name, l.weight});
    out.total += l.weight;
  };

  // Names, read both ways round (given and family swapped); the better reading counts.
  const Name& rg = p.given;
  const Name& rf = p.family;
  const std::vector<Name>& r_former = p.former;
  const double family_exact = p.family_exact;
  const Name& cg = *names.given;
  const Name& cf = *names.family;

  auto family_level = [&](const Name& a, const Name& b) -> Level {
    if (a.empty() || b.empty()) return {"missing", 0};
    Level best = CompareFamily(a, b, family_exact, w);
    // A former family name of either side (a birth surname after adoption) agreeing.
    for (const Name* f : names.former) {
      if (f->canonical == a.canonical && w.family_part > best.weight) best = {"former", w.family_part};
    }
    for (const auto& f : r_former) {
      if (f.canonical == b.canonical && w.family_part > best.weight) best = {"former", w.family_part};
    }
    return best;
  };
  auto given_level = [&](const Name& a, const Name& b) -> Level {
    if (a.empty() || b.empty()) return {"missing", 0};
    Level best = CompareGiven(a, b, w);
    if (names.HasMiddle() && best.weight < w.given_middle && a.canonical.size() > 1 &&
        names.MiddleSharesPart(a)) {
      best = {"middle", w.given_middle};
    }
    return best;
  };
  Level straight_g = given_level(rg, cg), straight_f = family_level(rf, cf);
  Level swapped_g = given_level(rf, cg), swapped_f = family_level(rg, cf);
  const bool swapped = swapped_g.weight + swapped_f.weight - w.swapped_penalty >
                       straight_g.weight + straight_f.weight;
  Level g = swapped ? swapped_g : straight_g, f = swapped ? swapped_f : straight_f;
  if (swapped) {
    g.name = "swapped";
    g.weight -= w.swapped_penalty;
  }
  add("given_name", g);
  add("family_name", f);
  out.given_disagrees = std::string_view(g.name) == "disagree";
  out.names_disagree = out.given_disagrees || std::string_view(f.name) == "disagree";

  Level dob = CompareDob(r.date_of_birth, c.date_of_birth, w);
  out.dob_disagrees = std::string_view(dob.name) == "disagree";
  add("date_of_birth", dob);
  if (r.gender != Gender::kUnknown && c.gender != Gender::kUnknown) {
    add("gender", r.gender == c.gender ? Level{"agree", w.gender_agree} : Level{"disagree", w.gender_disagree});
  }
  if (candidate.hidden && !h.postcode.empty() && !candidate.hidden->postcode.empty()) {
    const std::string& cp = candidate.hidden->postcode;
    if (cp == h.postcode) {
      add("postcode", {"exact", w.postcode_exact});
    } else if (PostcodeOutward(cp) == PostcodeOutward(h.postcode)) {
      add("postcode", {"district", w.postcode_district});
    } else {
      add("postcode", {"disagree", w.postcode_disagree});
    }
  }
  if (candidate.hidden && !h.address.empty() && !candidate.hidden->address.empty()) {
    const std::string a = CanonicalName(h.address), b = CanonicalName(candidate.hidden->address);
    if (a == b) {
      add("address", {"exact", w.address_exact});
    } else if (JaroWinkler(a, b) >= 0.9) {
      add("address", {"close", w.address_close});
    }
  }
  if (!r.nhs_number.empty() && !c.nhs_number.empty()) {
    bool agree = r.nhs_number == c.nhs_number;
    out.identifier_agrees |= agree;
    add("nhs_number", agree ? Level{"agree", w.nhs_agree} : Level{"disagree", w.nhs_disagree});
  }
  if (!r.pupil_number.empty() && !c.pupil_number.empty()) {
    bool agree = r.pupil_number == c.pupil_number;
    out.identifier_agrees |= agree;
    add("pupil_number", agree ? Level{"agree", w.upn_agree} : Level{"disagree", w.upn_disagree});
  }
  return out;
}

// The light score of a candidate that is read whatever it scores (Matcher::Block).
constexpr double kMustRead = std::numeric_limits<double>::infinity();

// What blocking knows of where a candidate lives, against the record's postcode.
enum class Whereabouts {
  kUnknown,
  kNotAtPostcode,  // not at the record's postcode (its complete place scan)
  kOtherDistrict,  // in another district (a shielded child's district digest)
};

// The most a candidate's hidden fields can add to its total against a record with these:
// the best postcode level it can still have (at most the district's for one not at the
// record's postcode; only disagreeing for one in another district) and the best address
// level (CompareWith compares the two only where both sides have them).
double HiddenFieldsBound(const MatchWeights& w, const HiddenFields& h,
                         Whereabouts where = Whereabouts::kUnknown) {
  double bound = 0;
  if (!h.postcode.empty()) {
    double postcode = std::max(0.0, w.postcode_disagree);
    if (where != Whereabouts::kOtherDistrict) postcode = std::max(postcode, w.postcode_district);
    if (where == Whereabouts::kUnknown) postcode = std::max(postcode, w.postcode_exact);
    bound += postcode;
  }
  if (!h.address.empty()) bound += std::max({0.0, w.address_exact, w.address_close});
  return bound;
}

// A posting's light score: the record compared with what the posting carries (names,
// date, gender, and an identifier whose digest disagrees), exactly as with the child's
// record. A child with a name of 255 bytes or
// more, which a posting may have cut, goes into `always_read`.
double PostingScore(const MatchWeights& w, NameCache* cache, const PreparedRecord& prepared,
                    const ChildRecord& r, ChildId id, const FeatureView& fv, ChildView* scratch,
                    std::unordered_set<ChildId>* always_read, std::unordered_set<ChildId>* unsettled) {
  // The posting's canonical names prepare as the record's own would (NameParts of a
  // canonical name is that name's parts).
  scratch->record.id = id;  // only id, gender and date of birth are set
  scratch->record.gender = fv.gender();
  scratch->record.date_of_birth = fv.date_of_birth();
  CandidateNames names;
  size_t pos = 0;
  FeatureView::NameField nf;
  while (fv.NextName(&pos, &nf)) {
    if (nf.name.size() >= 255) always_read->insert(id);
    switch (nf.role) {
      case NameRole::kGiven: names.SetGiven(cache, nf.name); break;
      case NameRole::kMiddle:
        names.SetMiddleCanonical(nf.name);
        break;
      case NameRole::kFamily: names.SetFamily(cache, nf.name); break;
      case NameRole::kFormerFamily: names.AddFormer(cache, nf.name); break;
    }
  }
  static const HiddenFields no_hidden;
  double total = CompareWith(w, prepared, r, no_hidden, *scratch, names, false).total;
  // An identifier the posting shows to disagree counts as the record's would; one whose
  // digest agrees may still disagree, so it counts nothing (an upper bound: an agreeing one
  // was found through the identifier index, and that candidate is read whatever it scores).
  // Where the posting settles every identifier the record carries (the child holds none,
  // or its digest differs), the total is exactly the record's without the hidden fields;
  // otherwise the record may score less, and is worth reading before the hidden fields.
  auto settles = [&](const std::string& number, const std::optional<uint8_t>& digest, double disagree) {
    if (number.empty()) return true;
    if (!fv.carries_identifiers()) return false;
    if (!digest) return true;
    if (*digest == IdentifierDigest(number)) return false;
    total += disagree;
    return true;
  };
  const bool nhs_settled = settles(r.nhs_number, fv.nhs_digest(), w.nhs_disagree);
  const bool upn_settled = settles(r.pupil_number, fv.upn_digest(), w.upn_disagree);
  if (!nhs_settled || !upn_settled) unsettled->insert(id);
  return total;
}

}  // namespace

BlockingProfile MakeBlockingProfile(const ChildRecord& r, const HiddenFields& h) {
  BlockingProfile p;
  auto add = [](std::vector<std::string>* codes, std::string_view raw) {
    for (auto& code : Prepare(raw).codes) {
      if (std::find(codes->begin(), codes->end(), code) == codes->end()) codes->push_back(std::move(code));
    }
  };
  add(&p.given, r.given_name);
  add(&p.middle, r.middle_names);
  add(&p.family, r.family_name);
  for (const auto& f : r.former_family_names) add(&p.family, f);
  p.nhs = r.nhs_number;
  p.upn = r.pupil_number;
  p.postcode = h.postcode;
  p.date_of_birth = r.date_of_birth;
  p.shielded = r.shield.shielded;
  return p;
}

AddedChild MakeAddedChild(ChildId id, const ChildRecord& r, const HiddenFields& h) {
  AddedChild a;
  a.id = id;
  a.profile = MakeBlockingProfile(r, h);
  EncodeCandidateFeatures(r, &a.features);
  a.archived = r.lifecycle.archived();
  return a;
}

bool CouldBeCandidate(const BlockingProfile& record, const BlockingProfile& child) {
  if (!record.nhs.empty() && record.nhs == child.nhs) return true;
  if (!record.upn.empty() && record.upn == child.upn) return true;
  auto meet = [](const std::vector<std::string>& a, const std::vector<std::string>& b) {
    for (const auto& x : a) {
      if (std::find(b.begin(), b.end(), x) != b.end()) return true;
    }
    return false;
  };
  const std::vector<std::string>* fields[] = {&record.given, &record.family, &record.middle};
  const std::vector<std::string>* theirs[] = {&child.given, &child.family, &child.middle};
  bool code = false;
  for (const auto* a : fields) {
    for (const auto* b : theirs) code = code || meet(*a, *b);
  }
  const bool place = !record.postcode.empty() && record.postcode == child.postcode;
  if (child.shielded && code) return true;
  // A shielded child's birth posting reaches every record with a plausible date.
  if (child.shielded && !record.date_of_birth.empty() && !child.date_of_birth.empty() &&
      DobPlausible(record.date_of_birth, child.date_of_birth)) {
    return true;
  }
  if (!code && !place) return false;
  if (DobPlausible(record.date_of_birth, child.date_of_birth)) return true;
  // As blocking's names_agree: the child's middle names count with its given name.
  const bool given_given = meet(record.given, child.given) || meet(record.given, child.middle);
  const bool family_given = meet(record.family, child.given) || meet(record.family, child.middle);
  const bool both = (given_given && meet(record.family, child.family)) ||
                    (family_given && meet(record.given, child.family));
  return both || (place && code);
}

double SurnameFrequency(std::string_view folded) {
  static const SurnameTable table;
  return table.Get(folded);
}

Result<MatchWeights> ParseMatchWeights(std::string_view text) {
  static const std::pair<const char*, double MatchWeights::*> kNames[] = {
      {"upper", &MatchWeights::upper}, {"lower", &MatchWeights::lower},
      {"shield_lower", &MatchWeights::shield_lower},
      {"strong_margin", &MatchWeights::strong_margin},
      {"family_exact_m", &MatchWeights::family_exact_m}, {"family_rare_floor", &MatchWeights::family_rare_floor},
      {"family_exact_cap", &MatchWeights::family_exact_cap}, {"family_part", &MatchWeights::family_part},
      {"family_typo", &MatchWeights::family_typo}, {"family_phonetic", &MatchWeights::family_phonetic},
      {"family_disagree", &MatchWeights::family_disagree}, {"given_exact", &MatchWeights::given_exact},
      {"given_nickname", &MatchWeights::given_nickname}, {"given_typo", &MatchWeights::given_typo},
      {"given_phonetic", &MatchWeights::given_phonetic}, {"given_initial", &MatchWeights::given_initial},
      {"given_middle", &MatchWeights::given_middle}, {"given_disagree", &MatchWeights::given_disagree},
      {"swapped_penalty", &MatchWeights::swapped_penalty}, {"dob_exact", &MatchWeights::dob_exact},
      {"dob_swapped", &MatchWeights::dob_swapped}, {"dob_one_digit", &MatchWeights::dob_one_digit},
      {"dob_disagree", &MatchWeights::dob_disagree}, {"gender_agree", &MatchWeights::gender_agree},
      {"gender_disagree", &MatchWeights::gender_disagree}, {"postcode_exact", &MatchWeights::postcode_exact},
      {"postcode_district", &MatchWeights::postcode_district},
      {"postcode_disagree", &MatchWeights::postcode_disagree}, {"address_exact", &MatchWeights::address_exact},
      {"address_close", &MatchWeights::address_close}, {"nhs_agree", &MatchWeights::nhs_agree},
      {"nhs_disagree", &MatchWeights::nhs_disagree}, {"upn_agree", &MatchWeights::upn_agree},
      {"upn_disagree", &MatchWeights::upn_disagree},
  };
  MatchWeights w;
  bool shield_lower_given = false;
  size_t line_no = 0;
  while (!text.empty()) {
    ++line_no;
    size_t eol = text.find('\n');
    std::string line(text.substr(0, eol));
    text = eol == std::string_view::npos ? std::string_view() : text.substr(eol + 1);
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = "weights line " + std::to_string(line_no) + ": ";
    size_t eq = line.find('=');
    if (eq == std::string::npos) return Status::InvalidArgument(where + "expected 'name = number'");
    std::string name = line.substr(0, eq);
    name.erase(0, name.find_first_not_of(" \t"));
    name.erase(name.find_last_not_of(" \t") + 1);
    double MatchWeights::*member = nullptr;
    for (const auto& [n, m] : kNames) {
      if (name == n) member = m;
    }
    if (member == nullptr) return Status::InvalidArgument(where + "unknown weight '" + name + "'");
    std::string value = line.substr(eq + 1);
    char* end = nullptr;
    double v = std::strtod(value.c_str(), &end);
    while (end != nullptr && (*end == ' ' || *end == '\t' || *end == '\r')) ++end;
    if (end == value.c_str() || end == nullptr || *end != '\0' || !std::isfinite(v)) {
      return Status::InvalidArgument(where + "'" + name + "' needs a number");
    }
    w.*member = v;
    shield_lower_given = shield_lower_given || member == &MatchWeights::shield_lower;
  }
  if (w.lower > w.upper) return Status::InvalidArgument("weights: lower is above upper");
  // A `lower` set below the default shielded threshold takes it along, unless that is set too.
  if (!shield_lower_given) w.shield_lower = std::min(w.shield_lower, w.lower);
  if (w.shield_lower > w.lower) return Status::InvalidArgument("weights: shield_lower is above lower");
  return w;
}

const char* MatchDecisionName(MatchDecision d) {
  switch (d) {
    case MatchDecision::kLink: return "link";
    case MatchDecision::kNew: return "new";
    case MatchDecision::kReview: return "review";
  }
  return "?";
}

Matcher::Matcher(const ChildStore* store, MatchWeights weights, size_t posting_limit)
    : store_(store),
      weights_(weights),
      posting_limit_(posting_limit),
      names_(std::make_shared<NameCache>()) {}

ScoredCandidate Matcher::Compare(const ChildRecord& record, const HiddenFields& hidden,
                                 const ChildView& candidate) const {
  CandidateNames names;
  names.SetAll(names_.get(), candidate.record);
  return CompareWith(weights_, PreparedRecord(record, weights_), record, hidden, candidate, names);
}

// What blocking planned and found for one record: the scans' plan (which codes, years and
// months), and every child a scan admitted with its light score, before the best
// kMaxCandidates were taken. Matcher::MatchWithAdded tests children written since against
// the same plan and filter.
struct BlockingState {
  ChildRecord record;
  std::string postcode;  // the record's
  std::optional<uint8_t> district;  // its district's digest (ChildStore::DistrictDigest)
  std::vector<std::string> given_codes, family_codes;
  std::set<std::string> codes;  // every code scanned, in scan order
  std::set<uint16_t> years;
  std::vector<uint8_t> narrow_months;  // given and middle codes in the birth year
  bool dated = false;
  // The other years under a family code are read from the birthday postings: the
  // children whose given, family or former family names have the code and who were born
  // on the record's month and day (ChildStore::HasBirthdayPostings).
  bool birthdays = false;
  // The birth day postings are TermKind::kBirthDay, with name pairs beside them
  // (ChildStore::HasDayPostings): a wide code's own birth year is read as the days a slip
  // in the date could give, and the children whose names both agree from the pairs.
  bool day_postings = false;

  std::vector<ChildId> by_id;     // sharing an identifier
  std::vector<ChildId> shielded;  // sharing a code or a plausible date of birth, shielded
  std::unordered_map<ChildId, double> shielded_light;  // each one's light score
  // Shielded, and a posting of theirs shows they live in another district than the record
  // (Posting::district): their postcode can only disagree.
  std::unordered_set<ChildId> shielded_elsewhere;
  std::vector<std::pair<double, ChildId>> ranked;  // admitted by a scan, light score
  std::unordered_set<ChildId> visited;             // by_id and ranked
  // Read whatever their posting scores: children with a name that may have been cut to
  // the 255 bytes a posting keeps (its score is not the record's).
  std::unordered_set<ChildId> always_read;
  // Whose light score may be above their record's (an identifier of the record's that the
  // posting cannot show to disagree): their record is read before their hidden fields.
  std::unordered_set<ChildId> unsettled;
  std::unordered_set<ChildId> at_postcode;  // every place posting at the record's postcode
  bool place_complete = false;
  size_t fullest_scan = 0;  // the most postings one limited scan visited

  bool Has(const std::vector<std::string>& v, std::string_view c) const {
    for (const auto& x : v) {
      if (x == c) return true;
    }
    return false;
  }
  bool Wide(const std::string& code) const {
    return !dated || Has(family_codes, code) || family_codes.empty();
  }
  // Whether the name scans reach a child with `code` born on `dob` (year 0: no date);
  // `middle` says the code is of the child's middle names only (no kBirthday posting;
  // kBirthDay postings have them).
  bool Scans(const std::string& code, const Date& dob, bool middle) const {
    const auto year = static_cast<uint16_t>(dob.year);
    const uint8_t month = dob.month;
    if (codes.count(code) == 0 || years.count(year) == 0) return false;
    const bool own_year = !dated || year == record.date_of_birth.year || year == 0;
    if (Wide(code)) {
      if (own_year) return true;
      if (birthdays && Has(family_codes, code)) {
        return (!middle || day_postings) && month == record.date_of_birth.month &&
               dob.day == record.date_of_birth.day;
      }
      return month == record.date_of_birth.month;
    }
    if (year == 0) return true;
    if (year != record.date_of_birth.year) return false;
    return std::find(narrow_months.begin(), narrow_months.end(), month) != narrow_months.end();
  }
  // Whether a posting's names agree with the record's by a shared primary code: given and
  // family both (`both`), or either, either way round.
  bool NamesAgree(const FeatureView& fv, bool both) const {
    bool g_given = false, g_family = false, f_given = false, f_family = false;
    size_t pos = 0;
    FeatureView::NameField nf;
    while (fv.NextName(&pos, &nf)) {
      const bool family_role = nf.role == NameRole::kFamily || nf.role == NameRole::kFormerFamily;
      size_t cpos = 0;
      std::string_view code;
      while (FeatureView::NextCode(nf.codes, &cpos, &code)) {
        const bool in_given = Has(given_codes, code), in_family = Has(family_codes, code);
        if (family_role) {
          g_family |= in_family;
          f_family |= in_given;
        } else {
          g_given |= in_given;
          f_given |= in_family;
        }
      }
    }
    if (!both) return g_given || g_family || f_given || f_family;
    return (g_given && g_family) || (f_given && f_family);
  }
  // Whether a scan admits a posting with these features. `from_place`: the posting came
  // from the record's postcode, which says nothing about the names; one name or the date
  // must then agree. `family_code`: it came from one of the record's family name codes. A
  // child whose names both agree with the record's (either way round) has a posting under
  // one of those, so other scans need only look for a plausible date.
  bool Admits(const FeatureView& fv, bool from_place, bool family_code) const {
    const Date& dob = record.date_of_birth;
    const bool dob_plausible = DobPlausible(dob, fv.date_of_birth());
    if (from_place) return (dob_plausible && !dob.empty()) || NamesAgree(fv, false);
    return dob_plausible || (family_code && NamesAgree(fv, true));
  }
};

// Candidate ids: children sharing an identifier, every shielded child sharing a Double
// Metaphone code, then the best-ranked children whose name postings share a code with the
// record in a plausible birth year, or who live at its postcode.
Status Matcher::Block(const ChildRecord& r, const HiddenFields& hidden, BlockingState* st) const {
  st->record = r;
  st->postcode = hidden.postcode;
  if (!hidden.postcode.empty()) st->district = store_->DistrictDigest(hidden.postcode);
  if (!r.nhs_number.empty()) {
    Status s = store_->FindByIdentifier(keys::IdKind::kNhsNumber, r.nhs_number, &st->by_id);
    if (!s.ok()) return s;
  }
  if (!r.pupil_number.empty()) {
    Status s = store_->FindByIdentifier(keys::IdKind::kPupilNumber, r.pupil_number, &st->by_id);
    if (!s.ok()) return s;
  }
  st->visited.insert(st->by_id.begin(), st->by_id.end());

  const PreparedRecord prepared(r, weights_);
  auto add_code = [](std::vector<std::string>* v, const std::string& c) {
    if (std::find(v->begin(), v->end(), c) == v->end()) v->push_back(c);
  };
  for (const auto& c : prepared.given.codes) add_code(&st->given_codes, c);
  for (const auto& c : prepared.family.codes) add_code(&st->family_codes, c);
  for (const auto& f : prepared.former) {
    for (const auto& c : f.codes) add_code(&st->family_codes, c);
  }
  st->codes.insert(st->given_codes.begin(), st->given_codes.end());
  for (const auto& c : Prepare(r.middle_names).codes) st->codes.insert(c);
  st->codes.insert(st->family_codes.begin(), st->family_codes.end());
  // Years: the record's, and every year one digit away (a mistyped year), within the ages
  // a child can have; no date: every year a child can be born in, and "unknown".
  const int this_year = TodayUtc().year;
  if (!r.date_of_birth.empty()) {
    const int y = r.date_of_birth.year;
    st->years.insert(static_cast<uint16_t>(y));
    for (int other = std::max(1800, y - 90); other <= std::min(this_year, y + 90); ++other) {
      if (OneDigitApart(Date{static_cast<int16_t>(y), 1, 1}, Date{static_cast<int16_t>(other), 1, 1})) {
        st->years.insert(static_cast<uint16_t>(other));
      }
    }
  } else {
    for (int y = this_year - 25; y <= this_year; ++y) st->years.insert(static_cast<uint16_t>(y));
  }
  st->years.insert(0);

  // Pre-rank by a comparison on what the postings carry (names, date, gender).
  PostingScanner scanner(store_);
  ChildView light;  // reused by PostingScore
  // Most postings fail these filters: they run before the duplicate check.
  auto admit = [&](ChildId id, const FeatureView& fv, bool from_place, bool family_code) {
    if (!st->Admits(fv, from_place, family_code)) return;
    if (!st->visited.insert(id).second) return;
    st->ranked.emplace_back(
        PostingScore(weights_, names_.get(), prepared, r, id, fv, &light, &st->always_read, &st->unsettled), id);
  };
  auto visit = [&](const Posting& p, bool from_place, bool family_code) {
    FeatureView fv;
    if (fv.Parse(p.features)) admit(p.id, fv, from_place, family_code);
  };
  // Under the record's family codes (`wide`): the birth year whole (a wrong month or day,
  // or a wrong date with agreeing names; with birth day postings, what it would admit, read
  // as the month, the plausible days and the name pairs), and a year one digit away in the record's
  // month, since the year digit was the one wrong — where the database has birthday postings, only
  // the children born on the record's month and day whose given or family names have the code, all
  // years in one scan (a dozen seeks and ~230 postings a match at 1M children became one seek and a
  // few dozen). Every child whose names both agree with the record's, either way round, has a
  // posting under a family code, so these scans alone find them. Under the given and middle codes
  // (`narrow`) only the postings whose date can agree without a slip in the month or year digits
  // are read: the record's own month (any day: a wrong day digit) and the month its day would be
  // were day and month swapped. A child sharing only a given-name code whose month or year is one
  // digit wrong is no longer reached (docs/matching.md, "Blocking"); reading a common given name's
  // whole year, and its month in ten other years, was most of blocking's cost. Without a family
  // name, or without a date, every code is wide. (BlockingState::Scans says the same of one
  // posting.)
  st->dated = !r.date_of_birth.empty();
  st->birthdays = store_->HasBirthdayPostings();
  st->day_postings = st->birthdays && store_->HasDayPostings();
  const TermKind birthday_kind = st->day_postings ? TermKind::kBirthDay : TermKind::kBirthday;
  // The dates of the record's birth year that plausibly are its own, (month, day), and
  // those of them in other months. With birth day postings, a wide code's own year is its
  // month whole (a slip in the day), then each of the other days, from the birth day lists;
  // the children whose names both agree come from the name pairs, after the loop. The
  // shielded children's birth postings are read day by day too.
  std::vector<std::pair<uint8_t, uint8_t>> plausible_days, other_days;
  if (st->dated) {
    plausible_days = PlausibleDays(r.date_of_birth);
    for (const auto& [m, day] : plausible_days) {
      if (m != r.date_of_birth.month) other_days.emplace_back(m, day);
    }
  }
  if (st->dated) {
    st->narrow_months.push_back(r.date_of_birth.month);
    const int day = r.date_of_birth.day;
    if (day >= 1 && day <= 12 && day != r.date_of_birth.month) st->narrow_months.push_back(static_cast<uint8_t>(day));
  }
  for (const auto& code : st->codes) {
    const bool family_code = st->Has(st->family_codes, code);
    const bool wide = st->Wide(code);
    bool complete = false;  // of the last scan
    auto scan = [&](uint16_t year, std::optional<uint8_t> month) {
      size_t count = 0;
      Status s = scanner.ScanName(TermKind::kPhonetic, code, year, month, posting_limit_,
                                  [&](const Posting& p) {
                                    ++count;
                                    visit(p, false, family_code);
                                  },
                                  &complete);
      st->fullest_scan = std::max(st->fullest_scan, count);
      return s;
    };
    // A birthday list: the children with this code born on `month` and `day`, in the year
    // `year_byte` files (none: every year), admitted when `keep` accepts their birth year.
    auto scan_day = [&](uint8_t month, uint8_t day, std::optional<uint8_t> year_byte,
                        const auto& keep) {
      size_t count = 0;
      Status s = scanner.ScanName(
          birthday_kind, code, keys::MonthDaySlot(month, day), year_byte, posting_limit_,
          [&](const Posting& p) {
            ++count;
            FeatureView fv;
            if (fv.Parse(p.features) && keep(fv.date_of_birth().year)) {
              admit(p.id, fv, false, family_code);
            }
          },
          &complete);
      st->fullest_scan = std::max(st->fullest_scan, count);
      return s;
    };
    for (uint16_t year : st->years) {
      const bool own_year = !st->dated || year == r.date_of_birth.year || year == 0;
      Status s;
      if (wide && !own_year && st->birthdays && family_code) {
        continue;  // the birthday scan below
      } else if (wide && st->dated && st->day_postings && year == r.date_of_birth.year) {
        // What the whole year would admit (Admits): a plausible date, or under a family
        // code both names agreeing (the pair scans below).
        const Date& dob = r.date_of_birth;
        s = scan(year, dob.month);
        for (const auto& [month, day] : other_days) {
          if (!s.ok()) break;
          s = scan_day(month, day, keys::BirthYearByte(year),
                       [&](int16_t born) { return born == dob.year; });
        }
      } else if (wide) {
        s = scan(year, own_year ? std::nullopt : std::optional<uint8_t>(r.date_of_birth.month));
        // A birth year longer than a scan reads (a common surname at England's scale: one
        // year of Smiths is ~8,700 at 12M children) is cut short in month order. Its months
        // a slip in the date could give are then read one by one, so that every child under
        // the code whose date plausibly is the record's is still reached; what the cut
        // loses is children whose names both agree and whose date no slip explains.
        if (s.ok() && !complete && st->dated && year == r.date_of_birth.year) {
          for (uint8_t month : PlausibleMonths(plausible_days)) {
            if (s.ok()) s = scan(year, month);
          }
        }
      } else if (year == 0) {
        s = scan(year, std::nullopt);
      } else if (year == r.date_of_birth.year) {
        for (uint8_t month : st->narrow_months) {
          if (s.ok()) s = scan(year, month);
        }
      }
      if (!s.ok()) return s;
    }
    if (!st->dated || !st->birthdays || !family_code) continue;
    // The other years, one scan: every child with this code born on the record's month and
    // day, in any year; those of the years one digit away are kept.
    const Date& dob = r.date_of_birth;
    Status s = scan_day(dob.month, dob.day, std::nullopt, [&](int16_t born) {
      return born != dob.year && st->years.count(static_cast<uint16_t>(born)) > 0;
    });
    if (!s.ok()) return s;
  }
  // The children born in the record's year whose given and family names both agree with
  // its own by a code, either way round (BlockingState::NamesAgree): what a family code's
  // whole year admitted besides plausible dates, from the name pairs.
  if (st->dated && st->day_postings) {
    const auto year = static_cast<uint16_t>(r.date_of_birth.year);
    for (const auto& g : st->given_codes) {
      for (const auto& f : st->family_codes) {
        bool complete = false;
        size_t count = 0;
        Status s = scanner.ScanName(
            TermKind::kNamePair, keys::NamePairToken(g, f), year, std::nullopt, posting_limit_,
            [&](const Posting& p) {
              ++count;
              visit(p, false, true);
            },
            &complete);
        st->fullest_scan = std::max(st->fullest_scan, count);
        if (!s.ok()) return s;
      }
    }
  }
  // A shielded child found by the scans below is a candidate however it ranks, with the
  // light score its posting gives (a posting that does not parse: read whatever it scores).
  auto add_shielded = [&](const Posting& p, const FeatureView* fv) {
    if (st->district && p.district && *p.district != *st->district)
      st->shielded_elsewhere.insert(p.id);
    auto [slot, fresh] = st->shielded_light.emplace(p.id, kMustRead);
    if (!fresh) return;
    st->shielded.push_back(p.id);
    if (fv != nullptr) {
      slot->second =
          PostingScore(weights_, names_.get(), prepared, r, p.id, *fv, &light, &st->always_read, &st->unsettled);
    }
  };
  // Every shielded child sharing a code with the record, whatever its date of birth (their
  // year-free postings): each is a candidate, however it ranks. Missing an unshielded
  // match makes a duplicate; missing a shielded one would make an unshielded duplicate.
  // These scans and the next are never cut short: a shielded child past a limit would be
  // a shielded child not compared.
  constexpr size_t kEveryPosting = std::numeric_limits<size_t>::max();
  for (const auto& code : st->codes) {
    bool complete = false;
    Status s = scanner.ScanName(TermKind::kShieldedPhonetic, code, 0, 0, kEveryPosting,
                                [&](const Posting& p) {
                                  FeatureView fv;
                                  add_shielded(p, fv.Parse(p.features) ? &fv : nullptr);
                                },
                                &complete);
    if (!s.ok()) return s;
  }
  // Every shielded child whose date of birth plausibly is the record's, whatever the names
  // (their birth postings, keys::kShieldedBirthDayToken): a typo that moves a letter changes
  // a name's codes ("Walsh" ALX/FLX, "Wlash" LX), and a variant name has others ("Noah" N,
  // its group's "Manoah" MN), so a record of a shielded child with both slips shares no code
  // with it. Candidates like those above. In the record's birth year, every date that
  // plausibly is its own (a slip in the day or month, or the two swapped), one seek each;
  // in the years one digit away, the record's month and day (one list, all years: a slip
  // in the year leaves the rest of the date as it is).
  if (st->dated) {
    const Date& dob = r.date_of_birth;
    auto shielded_born = [&](uint8_t month, uint8_t day, std::optional<uint8_t> year_byte,
                             const auto& keep) {
      bool complete = false;
      return scanner.ScanName(
          TermKind::kShieldedPhonetic, keys::kShieldedBirthDayToken, keys::MonthDaySlot(month, day),
          year_byte, kEveryPosting,
          [&](const Posting& p) {
            FeatureView fv;
            if (!fv.Parse(p.features)) return;
            const Date born = fv.date_of_birth();
            if (keep(born) && DobPlausible(dob, born)) add_shielded(p, &fv);
          },
          &complete);
    };
    for (const auto& [month, day] : plausible_days) {
      Status s = shielded_born(month, day, keys::BirthYearByte(dob.year),
                               [&](const Date& born) { return born.year == dob.year; });
      if (!s.ok()) return s;
    }
    Status s = shielded_born(dob.month, dob.day, std::nullopt, [&](const Date& born) {
      return born.year != dob.year && st->years.count(static_cast<uint16_t>(born.year)) > 0;
    });
    if (!s.ok()) return s;
  }
  // Children at the record's postcode (never a shielded child: they have no place posting,
  // and are found by name above). Every unshielded, unarchived child whose postcode is the
  // record's has a posting here, so when the scan is complete a ranked candidate not among
  // them can agree at most on the postcode's district: its hidden fields can add less.
  if (!hidden.postcode.empty()) {
    Status s = scanner.ScanPlace(hidden.postcode, posting_limit_,
                                 [&](const Posting& p) {
                                   st->at_postcode.insert(p.id);
                                   visit(p, true, false);
                                 },
                                 &st->place_complete);
    st->fullest_scan = std::max(st->fullest_scan, st->at_postcode.size());
    if (!s.ok()) return s;
  }
  return Status::OK();
}

void Matcher::Cut(const BlockingState& st, const HiddenFields& hidden, std::vector<CutCandidate>* out) const {
  const double full_bound = HiddenFieldsBound(weights_, hidden);
  const double elsewhere_bound =
      st.place_complete ? HiddenFieldsBound(weights_, hidden, Whereabouts::kNotAtPostcode)
                        : full_bound;
  std::unordered_set<ChildId> seen;
  auto add_id = [&](ChildId id, double light_score, double hidden_bound) {
    if (seen.insert(id).second) {
      out->push_back({id, light_score, hidden_bound, st.shielded_light.count(id) > 0,
                      light_score != kMustRead && st.unsettled.count(id) == 0});
    }
  };
  for (ChildId id : st.by_id) add_id(id, kMustRead, full_bound);
  std::vector<std::pair<double, ChildId>> ranked = st.ranked;
  std::sort(ranked.begin(), ranked.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  // A shielded child has no place posting wherever it lives: the full bound, unless its
  // postings show it lives in another district than the record.
  const double other_district_bound =
      HiddenFieldsBound(weights_, hidden, Whereabouts::kOtherDistrict);
  for (ChildId id : st.shielded) {
    add_id(id, st.always_read.count(id) > 0 ? kMustRead : st.shielded_light.at(id),
           st.shielded_elsewhere.count(id) > 0 ? other_district_bound : full_bound);
  }
  const size_t cap = out->size() + kMaxCandidates;
  for (const auto& [score, id] : ranked) {
    if (out->size() >= cap) break;
    const bool must_read = st.always_read.count(id) > 0;
    add_id(id, must_read ? kMustRead : score, must_read || st.at_postcode.count(id) ? full_bound : elsewhere_bound);
  }
}

namespace {

// Decide's order: best total first, then lower child id.
bool Before(const ScoredCandidate& a, const ScoredCandidate& b) {
  return a.total != b.total ? a.total > b.total : a.child < b.child;
}

}  // namespace

Matcher::Verdict Matcher::Judge(const ScoredCandidate* best, const ScoredCandidate* second,
                                bool shielded, bool plausible) const {
  const MatchWeights& w = weights_;
  Verdict v;
  v.shielded = shielded;
  auto review = [&v](const char* why) {
    v.decision = MatchDecision::kReview;
    v.reason = why;
    return v;
  };
  if (best == nullptr || (best->total < w.lower && !shielded)) {
    if (plausible) {
      v.shielded = true;
      return review("plausibly a shielded child (at or above the shielded threshold)");
    }
    v.decision = MatchDecision::kNew;
    v.reason = best == nullptr ? "no candidate" : "every candidate below the lower threshold";
    return v;
  }
  if (best->total < w.upper) {
    return review(shielded && best->total < w.lower ? "shares an identifier with a shielded child"
                                                    : "best candidate between the thresholds");
  }
  if (second != nullptr && second->total >= w.upper)
    return review("more than one candidate above the upper threshold");
  if (!best->identifier_agrees) {
    const bool strong = best->total >= w.upper + w.strong_margin;
    if (best->given_disagrees) return review("the given names disagree and no identifier agrees");
    if (best->names_disagree && !strong)
      return review("the family names disagree and no identifier agrees");
    if (best->dob_disagrees && !strong)
      return review("the dates of birth disagree and no identifier agrees");
  }
  if (shielded && !best->shielded) return review("a shielded child is also a plausible match");
  v.decision = MatchDecision::kLink;
  v.reason = "above the upper threshold";
  return v;
}

// A shielded child at or above `lower`, or sharing an identifier, is involved: the record
// neither makes a child nor updates an unshielded one. One at or above `shield_lower` only
// is plausible: the record makes no child (it waits, shielded), but a child above `upper`
// or between the thresholds decides as if the shielded child were not there.
Matcher::Verdict Matcher::Weigh(const std::vector<ScoredCandidate>& scored) const {
  const ScoredCandidate *best = nullptr, *second = nullptr;
  bool shielded = false, plausible = false;
  for (const auto& c : scored) {
    if (c.shielded && (c.total >= weights_.lower || c.identifier_agrees)) shielded = true;
    if (c.shielded && c.total >= weights_.shield_lower) plausible = true;
    if (best == nullptr || Before(c, *best)) {
      second = best;
      best = &c;
    } else if (second == nullptr || Before(c, *second)) {
      second = &c;
    }
  }
  Verdict v = Judge(best, second, shielded, plausible);
  if (v.decision == MatchDecision::kLink) v.child = best->child;
  return v;
}

MatchOutcome Matcher::Decide(std::vector<ScoredCandidate> scored) const {
  const Verdict v = Weigh(scored);
  MatchOutcome out;
  out.decision = v.decision;
  out.child = v.child;
  out.shielded = v.shielded;
  out.reason = v.reason;
  std::sort(scored.begin(), scored.end(), Before);
  out.candidates = std::move(scored);
  return out;
}

MatchDecision Matcher::DecisionOf(const std::vector<ScoredCandidate>& scored) const {
  return Weigh(scored).decision;
}

Result<MatchOutcome> Matcher::Match(const SourceRecord& in,
                                     std::shared_ptr<const BlockingState>* blocking) const {
  auto st = std::make_shared<BlockingState>();
  Status s = Block(in.record, in.hidden, st.get());
  if (!s.ok()) return s;
  auto out = Finish(in, *st);
  if (blocking != nullptr) *blocking = std::move(st);
  return out;
}

Result<MatchOutcome> Matcher::MatchWithAdded(const SourceRecord& in, const BlockingState& before,
                                             std::span<const AddedChild> added) const {
  // Match afresh where an added child could change more than the ranked list: a scan that
  // could reach its limit, a shielded child (the year-free scans), one sharing an
  // identifier (the identifier index).
  const ChildRecord& r = in.record;
  bool afresh = before.fullest_scan + added.size() >= posting_limit_;
  for (const auto& a : added) {
    const BlockingProfile& c = a.profile;
    afresh = afresh || c.shielded || a.archived || (!r.nhs_number.empty() && c.nhs == r.nhs_number) ||
             (!r.pupil_number.empty() && c.upn == r.pupil_number);
  }
  if (afresh) return Match(in);
  BlockingState state = before;
  const PreparedRecord prepared(r, weights_);
  ChildView light;
  for (const auto& a : added) {
    if (state.visited.count(a.id) > 0) continue;
    // Where the child's postings are filed and what they carry (storage's PutIndexEntries:
    // the index policy's phonetic terms under the birth year and month, its given and
    // family codes also under the month and day), tested as Block's scans would.
    FeatureView fv;
    if (!fv.Parse(a.features)) continue;
    const BlockingProfile& profile = a.profile;
    bool admitted = false;
    for (const auto* field : {&profile.given, &profile.family, &profile.middle}) {
      for (const auto& code : *field) {
        admitted = admitted || (state.Scans(code, profile.date_of_birth, field == &profile.middle) &&
                                state.Admits(fv, false, state.Has(state.family_codes, code)));
      }
    }
    if (!state.postcode.empty() && profile.postcode == state.postcode) {
      state.at_postcode.insert(a.id);
      admitted = admitted || state.Admits(fv, true, false);
    }
    if (!admitted) continue;
    state.visited.insert(a.id);
    state.ranked.emplace_back(
        PostingScore(weights_, names_.get(), prepared, r, a.id, fv, &light, &state.always_read, &state.unsettled),
        a.id);
  }
  state.fullest_scan += added.size();
  return Finish(in, state);
}

Result<MatchOutcome> Matcher::Finish(const SourceRecord& in, const BlockingState& blocked) const {
  std::vector<PairDecision> decisions;
  Status s = store_->GetDecisions(in.ref, &decisions);
  if (!s.ok()) return s;
  std::vector<CutCandidate> cut;
  Cut(blocked, in.hidden, &cut);
  const double full_bound = HiddenFieldsBound(weights_, in.hidden);
  for (const auto& d : decisions) {
    auto listed = [&](const CutCandidate& c) { return c.id == d.child; };
    if (d.same && std::find_if(cut.begin(), cut.end(), listed) == cut.end()) {
      cut.push_back({d.child, kMustRead, full_bound, false, false});
    }
  }
  auto clearance = Clearance::Elevated(Clearance::Level::kMatching, "matcher", "feed matching");
  const PreparedRecord prepared(in.record, weights_);
  // Each candidate is read only as far as it can matter. A candidate's total is what its
  // posting carries (names, date, gender, and an identifier its digest shows to disagree:
  // `light`, compared exactly as its record would be) plus the identifiers the posting does
  // not settle (at most 0: a candidate whose identifier agrees was found through the
  // identifier index and is always read) plus its postcode and address (at most its
  // `bounds` entry: less for one Block knows lives elsewhere). One whose light score plus
  // that bound falls short of `lower` (a shielded one: `shield_lower`) is not read at all;
  // the others are read in full (record and hidden fields, opened), since their light score
  // already is what their record would give without the hidden fields. A candidate with no
  // light score (found by identifier, a name a posting may have cut, one a reviewer decided
  // is the record) has its record read first (no decryption), and only if it could still
  // reach the threshold its hidden fields too. Decide reads a candidate below `lower` only
  // for its shield and identifier flags, and a shielded one below `shield_lower` not at all:
  // none left unread could set them, so the decision is the one a full read of every
  // candidate gives. A record that waits in review has every candidate read in full, so
  // that the reviewer sees full totals.
  enum class Read { kNothing, kRecord, kAll };
  // The total a candidate must be able to reach to be read further.
  auto read_threshold = [this](bool shielded) {
    return shielded ? weights_.shield_lower : weights_.lower;
  };
  std::vector<ScoredCandidate> scored;
  std::vector<Read> read;             // per scored candidate
  std::vector<double> hidden_bound;   // per scored candidate
  std::vector<ChildId> record_ids;
  std::vector<double> record_bounds;  // per record_ids entry
  std::vector<bool> decided_same;
  std::vector<size_t> to_open;        // slots in `scored`
  for (const CutCandidate& cand : cut) {
    bool excluded = false, same = false;
    for (const auto& d : decisions) {
      excluded |= (!d.same && d.child == cand.id);
      same |= (d.same && d.child == cand.id);
    }
    if (excluded) continue;
    const bool unread = !same && cand.light + cand.bound < read_threshold(cand.shielded);
    if (unread || (!same && cand.settled)) {
      ScoredCandidate c;  // with kRecord: scored by open below
      c.child = cand.id;
      c.shielded = cand.shielded;
      c.total = cand.light;
      if (!unread) to_open.push_back(scored.size());
      scored.push_back(std::move(c));
      read.push_back(unread ? Read::kNothing : Read::kRecord);
      hidden_bound.push_back(cand.bound);
      continue;
    }
    record_ids.push_back(cand.id);
    record_bounds.push_back(cand.bound);
    decided_same.push_back(same);
  }
  auto records = store_->MultiGetRecords(record_ids);
  for (size_t i = 0; i < record_ids.size(); ++i) {
    if (!records[i].ok()) {
      if (records[i].status().IsNotFound()) continue;  // removed since it was indexed
      return records[i].status();
    }
    // As ChildStore::MultiGet under this clearance: an archived child it does not see is no child.
    const LifecycleState& life = records[i]->lifecycle;
    if (life.archived() && !clearance.SeesArchived(life.archived_on)) continue;
    ChildView view;
    view.record = std::move(*records[i]);
    CandidateNames names;
    names.SetAll(names_.get(), view.record);
    ScoredCandidate c = CompareWith(weights_, prepared, in.record, in.hidden, view, names);
    if (decided_same[i] || c.total + record_bounds[i] >= read_threshold(c.shielded)) {
      to_open.push_back(scored.size());
    }
    scored.push_back(std::move(c));
    read.push_back(Read::kRecord);
    hidden_bound.push_back(record_bounds[i]);
  }
  // Reads scored[slot] in full (record and hidden fields) for each slot and scores it again;
  // a child removed since it was indexed is dropped.
  auto open = [&](const std::vector<size_t>& slots) -> Status {
    if (slots.empty()) return Status::OK();
    std::vector<ChildId> open_ids;
    for (size_t slot : slots) open_ids.push_back(scored[slot].child);
    auto views = store_->MultiGet(open_ids, clearance);
    std::vector<bool> gone(scored.size(), false);
    for (size_t j = 0; j < slots.size(); ++j) {
      if (!views[j].ok()) {
        if (!views[j].status().IsNotFound()) return views[j].status();
        gone[slots[j]] = true;
        continue;
      }
      CandidateNames names;
      names.SetAll(names_.get(), views[j]->record);
      scored[slots[j]] = CompareWith(weights_, prepared, in.record, in.hidden, *views[j], names);
      read[slots[j]] = Read::kAll;
    }
    size_t kept = 0;
    for (size_t k = 0; k < scored.size(); ++k) {
      if (gone[k]) continue;
      if (kept != k) {  // never a self-move: it would empty the candidate's fields
        read[kept] = read[k];
        hidden_bound[kept] = hidden_bound[k];
        scored[kept] = std::move(scored[k]);
      }
      ++kept;
    }
    scored.resize(kept);
    read.resize(kept);
    hidden_bound.resize(kept);
    return Status::OK();
  };
  s = open(to_open);
  if (!s.ok()) return s;
  ChildId decided = 0;  // a candidate a reviewer decided is this record
  for (const auto& d : decisions) {
    for (const auto& c : scored) {
      if (d.same && c.child == d.child && decided == 0) decided = d.child;
    }
  }
  // Candidates not read in full, where that could change a total. A record that waits in
  // review has them read, so that the reviewer sees full totals; but not a shielded one
  // that cannot reach `shield_lower` whatever its record and hidden fields hold. With 1 in
  // 100 children shielded at 1M, a record in review has ~290 such namesakes (every shielded
  // child sharing a code, whatever its date): reading them was more reads than all other
  // matching did, and opened shielded children's hidden fields for nothing that could
  // show.
  std::vector<size_t> rest, stay_unread;
  for (size_t k = 0; k < scored.size(); ++k) {
    if (read[k] == Read::kNothing || (read[k] == Read::kRecord && hidden_bound[k] > 0)) {
      const bool hopeless =
          scored[k].shielded && scored[k].total + hidden_bound[k] < weights_.shield_lower;
      (hopeless ? stay_unread : rest).push_back(k);
    }
  }
  auto mark_unread = [&](const std::vector<size_t>& slots) {
    for (size_t k : slots) {
      scored[k].fields.push_back(
          {read[k] == Read::kNothing ? "record" : "postcode_address", "unread", 0});
    }
  };
  mark_unread(stay_unread);
  if (!rest.empty() && decided == 0 && DecisionOf(scored) == MatchDecision::kReview) {
    s = open(rest);
    if (!s.ok()) return s;
  } else {
    mark_unread(rest);
  }
  MatchOutcome out = Decide(std::move(scored));
  if (decided != 0) {
    out.decision = MatchDecision::kLink;
    out.child = decided;
    out.reason = "a reviewer decided this record is this child";
  }
  return out;
}

}  // namespace cp
