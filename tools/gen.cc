// Synthetic children in the import format (see gen.h).
//
// Children are written family by family: a family has a surname, an address from a pool
// of postcodes, a parent/carer and one or more children, so siblings share an address and
// a postcode is shared by about fifteen children, as real postcode searches see them.
// Everything random comes from one xoshiro256** stream and every weighted pick uses an
// integer alias table: the same options give the same bytes with any compiler or standard
// library, which std::mt19937 plus std:: distributions would not guarantee.
#include "tools/gen.h"
#include "tools/rng.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/csv.h"
#include "util/identifiers.h"

// The name tables, linked into the binary by cmake/Embed.cmake (end is one past the last
// byte).
extern "C" const char cp_data_babynames_begin[], cp_data_babynames_end[], cp_data_surnames_begin[],
    cp_data_surnames_end[];

namespace cp {
namespace {

// ---------------------------------------------------------------------------------------
// Randomness (tools/rng.h)

uint64_t Mix64(uint64_t x) { return SplitMix64(&x); }

// Walker's alias method on integer weights: O(1) picks, and no floating point, so the
// table (and every pick) is the same on every platform.
class AliasTable {
 public:
  AliasTable() = default;
  explicit AliasTable(const std::vector<uint64_t>& weights) { Build(weights); }

  size_t Sample(Rng& rng) const {
    const size_t i = rng.Below(threshold_.size());
    return rng.Below(total_) < threshold_[i] ? i : alias_[i];
  }
  size_t size() const { return threshold_.size(); }

 private:
  void Build(const std::vector<uint64_t>& weights) {
    const size_t n = weights.size();
    total_ = 0;
    for (uint64_t w : weights) total_ += w;
    threshold_.assign(n, total_);
    alias_.resize(n);
    std::vector<uint64_t> scaled(n);
    std::vector<uint32_t> small, large;
    for (size_t i = 0; i < n; ++i) {
      alias_[i] = static_cast<uint32_t>(i);
      scaled[i] = weights[i] * n;
      (scaled[i] < total_ ? small : large).push_back(static_cast<uint32_t>(i));
    }
    while (!small.empty() && !large.empty()) {
      const uint32_t s = small.back(), l = large.back();
      small.pop_back();
      threshold_[s] = scaled[s];
      alias_[s] = l;
      scaled[l] = scaled[l] + scaled[s] - total_;
      if (scaled[l] < total_) {
        large.pop_back();
        small.push_back(l);
      }
    }
  }

  uint64_t total_ = 1;
  std::vector<uint64_t> threshold_;  // keep i when a draw in [0, total_) is below this
  std::vector<uint32_t> alias_;
};

// A keyed bijection on [0, domain): a four-round Feistel network on the smallest even
// bit width covering the domain, cycle-walking back into it. Counter n -> Permute(n)
// gives identifiers that look random yet are unique without remembering any.
class Permutation {
 public:
  Permutation(uint64_t domain, uint64_t key) : domain_(domain) {
    int bits = std::max(2, static_cast<int>(std::bit_width(domain - 1)));
    bits += bits % 2;
    half_bits_ = bits / 2;
    mask_ = (uint64_t{1} << half_bits_) - 1;
    for (uint64_t& k : keys_) k = SplitMix64(&key);
  }
  uint64_t operator()(uint64_t x) const {
    do {
      x = Encrypt(x);
    } while (x >= domain_);
    return x;
  }

 private:
  uint64_t Encrypt(uint64_t x) const {
    uint64_t left = x >> half_bits_, right = x & mask_;
    for (uint64_t k : keys_) {
      const uint64_t next = left ^ (Mix64(right ^ k) & mask_);
      left = right;
      right = next;
    }
    return (left << half_bits_) | right;
  }

  uint64_t domain_;
  int half_bits_;
  uint64_t mask_;
  std::array<uint64_t, 4> keys_;
};

// ---------------------------------------------------------------------------------------
// Text helpers

bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
char ToUpper(char c) { return IsLower(c) ? static_cast<char>(c - 'a' + 'A') : c; }
char ToLower(char c) { return IsUpper(c) ? static_cast<char>(c - 'A' + 'a') : c; }

void AppendUint(uint64_t value, int width, std::string* out) {
  char digits[20];
  int n = 0;
  do {
    digits[n++] = static_cast<char>('0' + value % 10);
    value /= 10;
  } while (value != 0);
  for (int i = n; i < width; ++i) out->push_back('0');
  while (n > 0) out->push_back(digits[--n]);
}

void AppendDate(const Date& d, std::string* out) {
  AppendUint(d.year, 4, out);
  out->push_back('-');
  AppendUint(d.month, 2, out);
  out->push_back('-');
  AppendUint(d.day, 2, out);
}

// The baby-name tables hold names such as "A:JAY" and "T.J."; only names made of letters
// with single inner hyphens or apostrophes look like what a local authority would record.
bool IsUsableGivenName(std::string_view upper) {
  if (upper.size() < 2 || !IsUpper(upper.front()) || !IsUpper(upper.back())) return false;
  for (size_t i = 0; i < upper.size(); ++i) {
    const char c = upper[i];
    if (IsUpper(c)) continue;
    if ((c != '-' && c != '\'') || !IsUpper(upper[i - 1])) return false;
  }
  return true;
}

// "MARY-JANE" -> "Mary-Jane", "D'ANGELO" -> "D'Angelo", "DE'ANDRE" -> "De'Andre", but
// "A'ISHA" -> "A'isha": after an apostrophe only the D'/O'/De' prefixes start a new word.
std::string TitleCaseGivenName(std::string_view upper) {
  std::string out(upper.size(), ' ');
  size_t part = 0;  // start of the current hyphen/apostrophe-separated part
  bool capital = true;
  for (size_t i = 0; i < upper.size(); ++i) {
    const char c = upper[i];
    if (c == '-' || c == '\'') {
      const std::string_view prefix = upper.substr(part, i - part);
      capital = c == '-' || prefix == "D" || prefix == "O" || (prefix == "DE" && part == 0);
      part = i + 1;
      out[i] = c;
      continue;
    }
    out[i] = i == part && capital ? c : ToLower(c);
  }
  return out;
}

// Scottish "Mac" names usually written with a capital after the prefix; "Mackenzie",
// "Mackay", "Machin" and "Mace" keep a single capital.
constexpr std::string_view kMacRoots[] = {
    "adam",   "alister", "allister", "arthur", "askill",  "aulay",   "auley",  "bride",
    "carthy", "cartney", "coll",     "donald", "donnell", "dougall", "duff",   "farlane",
    "gill",   "gregor",  "innes",    "intyre", "iver",    "kellar",  "kinnon", "lachlan",
    "laren",  "lean",    "leod",     "mahon",  "manus",   "millan",  "nab",    "nair",
    "nee",    "neil",    "pherson",  "phee",   "queen",   "rae",     "rory",   "taggart"};

// Irish "O'" names; the surname table has lost the apostrophe ("obrien").
constexpr std::string_view kIrishORoots[] = {
    "boyle",    "brian",   "brien",    "callaghan", "carroll", "connell",  "connor",   "dea",
    "doherty",  "donnell", "donoghue", "donovan",   "dowd",    "driscoll", "dwyer",    "farrell",
    "flaherty", "flynn",   "gorman",   "grady",     "hagan",   "halloran", "hanlon",   "hara",
    "hare",     "kane",    "keefe",    "keeffe",    "kelly",   "leary",    "loughlin", "mahoney",
    "mahony",   "malley",  "meara",    "neal",      "neil",    "neill",    "regan",    "reilly",
    "riordan",  "rourke",  "shea",     "sullivan",  "toole"};

bool Contains(const auto& list, std::string_view s) {
  return std::find(std::begin(list), std::end(list), s) != std::end(list);
}

// "smith" -> "Smith", "mcdonald" -> "McDonald", "macleod" -> "MacLeod", "obrien" ->
// "O'Brien".
std::string TitleCaseSurname(std::string_view lower) {
  std::string out(lower);
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == 0 || out[i - 1] == '-' || out[i - 1] == '\'' || out[i - 1] == ' ') {
      out[i] = ToUpper(out[i]);
    }
  }
  if (lower.size() >= 5 && lower.starts_with("mc")) {
    out[2] = ToUpper(out[2]);
  } else if (lower.starts_with("mac") && Contains(kMacRoots, lower.substr(3))) {
    out[3] = ToUpper(out[3]);
  } else if (lower.size() > 3 && lower[0] == 'o' && Contains(kIrishORoots, lower.substr(1))) {
    out.insert(1, "'");
    out[2] = ToUpper(out[2]);
  }
  return out;
}

// ---------------------------------------------------------------------------------------
// The embedded name tables

// Calls fn(fields) for each data line of an embedded CSV (no quoting in these files).
template <typename Fn>
void ForEachDataLine(const char* begin, const char* end, Fn fn) {
  std::string_view rest(begin, static_cast<size_t>(end - begin));
  bool header = true;
  std::vector<std::string_view> fields;
  while (!rest.empty()) {
    const size_t eol = rest.find('\n');
    std::string_view line = rest.substr(0, eol);
    rest = eol == std::string_view::npos ? std::string_view() : rest.substr(eol + 1);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (header || line.empty()) {
      header = false;
      continue;
    }
    fields.clear();
    for (size_t start = 0;;) {
      const size_t comma = line.find(',', start);
      fields.push_back(line.substr(start, comma - start));
      if (comma == std::string_view::npos) break;
      start = comma + 1;
    }
    fn(fields);
  }
}

constexpr int kFirstNameYear = 2005, kLastNameYear = 2020;
constexpr int kNameYears = kLastNameYear - kFirstNameYear + 1;

struct WeightedNames {
  std::vector<uint32_t> ids;  // into NameData::given or NameData::surnames
  AliasTable table;
};

struct NameData {
  std::vector<std::string> given;                               // Title Case, each once
  std::array<WeightedNames, kNameYears * 2> given_by_year_sex;  // [year][female]
  std::vector<std::string> surnames;
  WeightedNames surname_table;

  const WeightedNames& GivenTable(int birth_year, bool female) const {
    const int year = std::clamp(birth_year, kFirstNameYear, kLastNameYear);
    return given_by_year_sex[(year - kFirstNameYear) * 2 + (female ? 1 : 0)];
  }
};

void LoadGivenNames(NameData* data) {
  std::unordered_map<std::string_view, uint32_t> ids;
  std::array<std::vector<uint64_t>, kNameYears * 2> weights;
  ForEachDataLine(cp_data_babynames_begin, cp_data_babynames_end, [&](const auto& f) {
    int year = 0;
    uint64_t count = 0;
    if (f.size() < 4 || !IsUsableGivenName(f[2])) return;
    std::from_chars(f[0].data(), f[0].data() + f[0].size(), year);
    std::from_chars(f[3].data(), f[3].data() + f[3].size(), count);
    if (year < kFirstNameYear || year > kLastNameYear || count == 0) return;
    const auto [it, added] = ids.try_emplace(f[2], static_cast<uint32_t>(data->given.size()));
    if (added) data->given.push_back(TitleCaseGivenName(f[2]));
    const int slot = (year - kFirstNameYear) * 2 + (f[1] == "G" ? 1 : 0);
    data->given_by_year_sex[slot].ids.push_back(it->second);
    weights[slot].push_back(count);
  });
  for (size_t i = 0; i < weights.size(); ++i) {
    data->given_by_year_sex[i].table = AliasTable(weights[i]);
  }
}

void LoadSurnames(NameData* data) {
  std::vector<uint64_t> weights;
  ForEachDataLine(cp_data_surnames_begin, cp_data_surnames_end, [&](const auto& f) {
    double freq = 0;
    if (f.size() < 2 || f[0].empty()) return;
    std::from_chars(f[1].data(), f[1].data() + f[1].size(), freq);
    // Frequencies are given to 1e-5; integer weights keep the alias table exact.
    const auto weight = static_cast<uint64_t>(std::max(1.0, freq * 1e6 + 0.5));
    data->surname_table.ids.push_back(static_cast<uint32_t>(data->surnames.size()));
    data->surnames.push_back(TitleCaseSurname(f[0]));
    weights.push_back(weight);
  });
  data->surname_table.table = AliasTable(weights);
}

// Built on first use and kept for the life of the process (never destroyed, so no
// destructor ordering issues at exit).
const NameData& Names() {
  static const NameData* const data = [] {
    auto* d = new NameData;
    LoadGivenNames(d);
    LoadSurnames(d);
    return d;
  }();
  return *data;
}

// ---------------------------------------------------------------------------------------
// Places

struct Area {
  const char* code;  // postcode area
  const char* town;
  int districts;  // districts 1..districts exist in this sketch of the area
  int weight;     // rough share of children
  int la;         // local authority number, the first three digits of a UPN
};

constexpr Area kAreas[] = {
    {"B", "Birmingham", 38, 12, 330},
    {"M", "Manchester", 35, 8, 352},
    {"LS", "Leeds", 29, 8, 383},
    {"L", "Liverpool", 38, 6, 341},
    {"S", "Sheffield", 36, 6, 373},
    {"BS", "Bristol", 41, 6, 801},
    {"NE", "Newcastle upon Tyne", 40, 5, 391},
    {"NG", "Nottingham", 34, 5, 892},
    {"LE", "Leicester", 19, 5, 856},
    {"CV", "Coventry", 37, 4, 331},
    {"BD", "Bradford", 24, 5, 380},
    {"HU", "Hull", 20, 3, 810},
    {"PL", "Plymouth", 35, 3, 879},
    {"SO", "Southampton", 53, 4, 852},
    {"PO", "Portsmouth", 41, 3, 851},
    {"BN", "Brighton", 45, 3, 846},
    {"NR", "Norwich", 35, 3, 926},
    {"CB", "Cambridge", 25, 3, 873},
    {"OX", "Oxford", 29, 3, 931},
    {"YO", "York", 62, 2, 816},
    {"DE", "Derby", 75, 3, 831},
    {"ST", "Stoke-on-Trent", 21, 3, 861},
    {"WV", "Wolverhampton", 16, 3, 336},
    {"SR", "Sunderland", 9, 2, 394},
    {"MK", "Milton Keynes", 19, 3, 826},
    {"RG", "Reading", 45, 3, 870},
    {"LN", "Lincoln", 13, 2, 925},
    {"EX", "Exeter", 39, 2, 878},
    {"CA", "Carlisle", 28, 1, 909},
    {"DH", "Durham", 9, 2, 840},
    {"TS", "Middlesbrough", 29, 2, 806},
    {"PR", "Preston", 26, 2, 888},
    {"BL", "Bolton", 9, 2, 350},
    {"WN", "Wigan", 8, 2, 359},
    {"OL", "Oldham", 16, 2, 353},
    {"HD", "Huddersfield", 9, 2, 382},
    {"WF", "Wakefield", 17, 2, 384},
    {"DN", "Doncaster", 41, 2, 371},
    {"IP", "Ipswich", 33, 2, 935},
    {"CO", "Colchester", 16, 2, 881},
    {"CH", "Chester", 66, 2, 896},
    {"GL", "Gloucester", 56, 2, 916},
    {"BA", "Bath", 22, 1, 800},
    {"TA", "Taunton", 24, 1, 933},
    {"SN", "Swindon", 26, 2, 866},
    {"NN", "Northampton", 18, 2, 940},
    {"PE", "Peterborough", 38, 2, 874},
    {"LU", "Luton", 7, 2, 821},
    {"E", "London", 18, 6, 211},
    {"N", "London", 22, 5, 206},
    {"SE", "London", 28, 7, 210},
    {"SW", "London", 20, 6, 212},
    {"NW", "London", 11, 4, 202},
    {"W", "London", 14, 4, 307},
};

constexpr std::string_view kStreetNames[] = {
    "Station", "Church",    "High",    "Mill",   "Victoria",    "Park",        "Queens",
    "Kings",   "Manor",     "School",  "Chapel", "Main",        "North",       "South",
    "West",    "New",       "Albert",  "Grange", "Springfield", "Highfield",   "Windsor",
    "York",    "Alexandra", "Orchard", "Willow", "Beech",       "Oak",         "Meadow",
    "Cedar",   "Elm",       "Ash",     "Birch",  "Hawthorn",    "Cherry Tree", "Clarendon",
    "Stanley", "Richmond",  "Green",   "Forest", "Brook",       "Market",      "Castle"};
constexpr std::string_view kStreetKinds[] = {"Road",    "Street", "Lane",  "Avenue",
                                             "Close",   "Drive",  "Way",   "Crescent",
                                             "Gardens", "Grove",  "Place", "Terrace"};
constexpr std::string_view kBuildings[] = {"Victoria",  "Priory", "Kingfisher", "Jubilee",
                                           "Riverside", "Mill",   "Regent",     "Clock"};

constexpr std::string_view kPlaces[] = {
    "Hillside",   "Oakfield",    "Westfield",   "Brookfield",  "Meadowside", "Parkside",
    "Greenhill",  "Ashgrove",    "Beechwood",   "Elmwood",     "Highfield",  "Moorside",
    "Riverside",  "Woodlands",   "Fairfield",   "Springfield", "Hollybush",  "Lakeside",
    "Castle",     "Abbey",       "Kingsmead",   "Redhill",     "Rosewood",   "Sandfield",
    "Heathfield", "Millbrook",   "Ravenscroft", "Cherry Tree", "Willowbank", "Broadway",
    "Orchard",    "Church Hill", "Valley",      "Northfield",  "Southfield", "Eastfield",
    "Bramley",    "Greenfield",  "Longmeadow",  "Summerfield", "Birchwood",  "Oakwood"};
constexpr std::string_view kSaints[] = {
    "Mary",      "John",   "Peter", "Paul",     "Michael", "Joseph",     "Anne",    "Margaret",
    "Andrew",    "George", "Luke",  "Mark",     "Matthew", "Bernadette", "Patrick", "Teresa",
    "Augustine", "Chad",   "Aidan", "Cuthbert", "Hilda",   "Edmund",     "Stephen", "Bede"};
constexpr std::string_view kCompass[] = {"North", "South", "East", "West", "City"};

// The letters a postcode's inward code may end with (not C, I, K, M, O or V).
constexpr std::string_view kInwardLetters = "ABDEFGHJLNPQRSTUWXYZ";

// A postcode in the pool, with the street it is on.
struct Locality {
  char postcode[9];
  uint8_t postcode_len;
  uint8_t area;
  uint8_t district;
  uint16_t street;  // index into kStreetNames x kStreetKinds
};

std::vector<Locality> BuildLocalities(uint64_t count, Rng& rng) {
  std::vector<uint64_t> weights;
  for (const Area& a : kAreas) weights.push_back(static_cast<uint64_t>(a.weight));
  const AliasTable areas(weights);
  std::vector<Locality> pool(count);
  for (Locality& loc : pool) {
    loc.area = static_cast<uint8_t>(areas.Sample(rng));
    const Area& area = kAreas[loc.area];
    loc.district = static_cast<uint8_t>(1 + rng.Below(static_cast<uint64_t>(area.districts)));
    std::string code(area.code);
    AppendUint(loc.district, 0, &code);
    code.push_back(' ');
    code.push_back(static_cast<char>('0' + rng.Below(10)));
    code.push_back(kInwardLetters[rng.Below(kInwardLetters.size())]);
    code.push_back(kInwardLetters[rng.Below(kInwardLetters.size())]);
    std::memcpy(loc.postcode, code.data(), code.size());
    loc.postcode_len = static_cast<uint8_t>(code.size());
    loc.street =
        static_cast<uint16_t>(rng.Below(std::size(kStreetNames) * std::size(kStreetKinds)));
  }
  return pool;
}

enum class Service { kPrimary, kSecondary, kGp };

// A school or GP practice name, fixed by the district and the family's choice among the
// few services there, so that neighbouring children share schools and practices.
void AppendServiceName(const Locality& loc, Service kind, uint64_t choice, uint64_t seed,
                       std::string* out) {
  const uint64_t h =
      Mix64(seed ^ Mix64((uint64_t{loc.area} << 24) | (uint64_t{loc.district} << 16) |
                         (static_cast<uint64_t>(kind) << 8) | choice));
  const std::string_view place = kPlaces[h % std::size(kPlaces)];
  const std::string_view saint = kSaints[(h >> 20) % std::size(kSaints)];
  const uint64_t format = (h >> 40) % 6;
  const auto saints = [&](std::string_view tail) {
    *out += "St ";
    *out += saint;
    *out += "'s ";
    *out += tail;
  };
  if (kind == Service::kPrimary) {
    if (format == 2) return saints("C of E Primary School");
    if (format == 3) return saints("Catholic Primary School");
    *out += place;
    *out += format == 1 ? " Community Primary School"
                        : (format == 4 ? " Primary Academy" : " Primary School");
  } else if (kind == Service::kSecondary) {
    if (format == 3) return saints("Catholic High School");
    if (format == 2) {
      *out += kAreas[loc.area].town;
      *out += ' ';
      *out += kCompass[(h >> 8) % std::size(kCompass)];
      *out += " Academy";
      return;
    }
    *out += place;
    *out += format == 1 ? " High School" : (format == 4 ? " School" : " Academy");
  } else {
    if (format == 3) *out += "The ";
    *out += place;
    *out += format == 3
                ? " Practice"
                : (format == 1 ? " Surgery" : (format == 2 ? " Health Centre" : " Medical Centre"));
  }
}

// ---------------------------------------------------------------------------------------
// The generator

constexpr int kMaxSiblings = 5;
constexpr double kSiblingChance = 0.2;  // chance that a family has one more child
constexpr double kMiddleNameChance = 0.6;
constexpr double kSecondMiddleChance = 0.15;
constexpr double kFormerNameChance = 0.03;  // adopted children keep a birth surname
constexpr double kDoubleBarrelChance = 0.03;
constexpr double kNhsNumberChance = 0.98;  // some children arrived from abroad
constexpr double kUpnChance = 0.97;        // school age and on a school roll
constexpr double kGpChance = 0.97;
constexpr int kSchoolAge = 4, kSecondaryAge = 11;
// NHS numbers are issued in England from 400 000 000x-499 999 999x and 600..799 million.
constexpr uint64_t kNhsDomain = 300'000'000;
constexpr uint64_t kUpnSerials = 10'000'000;  // four-digit establishment + three-digit serial

struct Family {
  std::string surname;
  std::string_view former;  // a birth surname before adoption, or empty
  const Locality* locality = nullptr;
  std::string address;
  std::string parent;
  std::string phone;
  uint64_t primary = 0, secondary = 0, gp = 0;  // choice among the district's services
  int size = 0, born = 0;
  std::array<int32_t, kMaxSiblings> dob_days{};
  std::array<uint32_t, kMaxSiblings> given{};
};

class ChildGenerator {
 public:
  ChildGenerator(const GenOptions& options, const Date& as_of, std::ostream& out)
      : options_(options),
        as_of_(as_of),
        out_(out),
        names_(Names()),
        rng_(options.seed),
        nhs_permutation_(kNhsDomain, Mix64(options.seed ^ 0x6e6873)),
        upn_permutation_(kUpnSerials, Mix64(options.seed ^ 0x75706e)),
        upn_counters_(1000 * 100, 0) {
    dob_last_ = as_of.ToDays();
    // The earliest date of birth still aged 17 on as_of (the day after the 18th birthday).
    dob_first_ = dob_last_ - 18 * 366;
    while (AgeInYears(Date::FromDays(dob_first_), as_of_) > 17) ++dob_first_;
    localities_ = BuildLocalities(std::max<uint64_t>(1, options.children / 15), rng_);
    buffer_.reserve(kFlushBytes + 4096);
  }

  Status Run() {
    buffer_ +=
        "source_key,given_name,middle_names,family_name,former_family_names,date_of_birth,"
        "gender,address,postcode,nhs_number,pupil_number,parent_name,parent_phone,school,"
        "gp_practice\n";
    bool ok = true;
    uint64_t key = 1;
    while (ok && key <= options_.children) {
      StartFamily();
      for (; ok && family_.born < family_.size && key <= options_.children; ++key) {
        WriteChild(key);
        if (buffer_.size() >= kFlushBytes) ok = Flush();
      }
    }
    if (!ok || !Flush()) return Status::IOError("gen: writing the children CSV failed");
    return Status::OK();
  }

 private:
  static constexpr size_t kFlushBytes = 1 << 20;

  bool Flush() {
    out_.write(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
    buffer_.clear();
    return static_cast<bool>(out_);
  }

  std::string_view PickSurname() {
    const WeightedNames& t = names_.surname_table;
    return names_.surnames[t.ids[t.table.Sample(rng_)]];
  }
  uint32_t PickGiven(int birth_year, bool female) {
    const WeightedNames& t = names_.GivenTable(birth_year, female);
    return t.ids[t.table.Sample(rng_)];
  }

  void StartFamily();
  void PickSurnames();
  void WriteAddress();
  void WriteParent();
  int32_t PickDob();
  uint32_t PickSiblingGiven(int birth_year, bool female);
  void WriteChild(uint64_t key);
  void AppendMiddleNames(uint32_t given, int birth_year, bool female);
  void AppendNhsNumber();
  void AppendUpn(const Date& dob, int age);
  void AppendField(std::string_view field) {
    AppendCsvField(field, &buffer_);
    buffer_.push_back(',');
  }

  const GenOptions& options_;
  const Date as_of_;
  std::ostream& out_;
  const NameData& names_;
  Rng rng_;
  Permutation nhs_permutation_, upn_permutation_;
  uint64_t nhs_counter_ = 0;
  std::vector<uint32_t> upn_counters_;  // next serial per (LA number, entry year)
  int32_t dob_first_ = 0, dob_last_ = 0;
  std::vector<Locality> localities_;
  Family family_;
  std::string buffer_;   // rows not yet written
  std::string scratch_;  // one field being assembled
};

void ChildGenerator::StartFamily() {
  family_.size = 1;
  while (family_.size < kMaxSiblings && rng_.Chance(kSiblingChance)) ++family_.size;
  family_.born = 0;
  PickSurnames();
  family_.locality = &localities_[rng_.Below(localities_.size())];
  WriteAddress();
  WriteParent();
  family_.primary = rng_.Below(3);
  family_.secondary = rng_.Below(2);
  family_.gp = rng_.Below(2);
}

void ChildGenerator::PickSurnames() {
  family_.surname = PickSurname();
  if (rng_.Chance(kDoubleBarrelChance)) {
    const std::string_view second = PickSurname();
    if (second != family_.surname) {
      family_.surname += '-';
      family_.surname += second;
    }
  }
  family_.former = {};
  if (rng_.Chance(kFormerNameChance)) {
    const std::string_view former = PickSurname();
    if (former != family_.surname) family_.former = former;
  }
}

// "12 Station Road, Leeds", or "Flat 3, Jubilee House, 12 Station Road, Leeds".
void ChildGenerator::WriteAddress() {
  const Locality& loc = *family_.locality;
  std::string& a = family_.address;
  a.clear();
  if (rng_.Chance(0.1)) {
    a += "Flat ";
    AppendUint(1 + rng_.Below(24), 0, &a);
    a += ", ";
    a += kBuildings[rng_.Below(std::size(kBuildings))];
    a += " House, ";
  }
  AppendUint(1 + rng_.Below(150), 0, &a);
  a += ' ';
  a += kStreetNames[loc.street / std::size(kStreetKinds)];
  a += ' ';
  a += kStreetKinds[loc.street % std::size(kStreetKinds)];
  a += ", ";
  a += kAreas[loc.area].town;
}

// Parents are named from the oldest table; most carers are mothers and most share the
// family name. The phone is a UK mobile: 07 then nine digits, "07xxx xxxxxx".
void ChildGenerator::WriteParent() {
  const bool female = rng_.Chance(0.7);
  family_.parent = names_.given[PickGiven(kFirstNameYear, female)];
  family_.parent += ' ';
  if (rng_.Chance(0.85)) {
    family_.parent += family_.surname;
  } else {
    family_.parent += PickSurname();
  }
  static constexpr std::string_view kMobilePrefixes = "12345789";
  family_.phone = "07";
  family_.phone += kMobilePrefixes[rng_.Below(kMobilePrefixes.size())];
  AppendUint(rng_.Below(100), 2, &family_.phone);
  family_.phone += ' ';
  AppendUint(rng_.Below(1'000'000), 6, &family_.phone);
}

// Uniform over ages 0..17; a sibling born within ~10 months of another is redrawn a few
// times, and kept as a twin (same day) when the draws keep landing close.
int32_t ChildGenerator::PickDob() {
  const uint64_t span = static_cast<uint64_t>(dob_last_ - dob_first_) + 1;
  int32_t days = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    days = dob_first_ + static_cast<int32_t>(rng_.Below(span));
    bool close = false;
    for (int i = 0; i < family_.born; ++i) {
      close = close || std::abs(days - family_.dob_days[i]) < 300;
    }
    if (!close) return days;
  }
  return family_.dob_days[0];
}

uint32_t ChildGenerator::PickSiblingGiven(int birth_year, bool female) {
  uint32_t given = 0;
  for (int attempt = 0; attempt < 4; ++attempt) {
    given = PickGiven(birth_year, female);
    bool taken = false;
    for (int i = 0; i < family_.born; ++i) taken = taken || family_.given[i] == given;
    if (!taken) break;
  }
  return given;
}

void ChildGenerator::WriteChild(uint64_t key) {
  const bool female = rng_.Below(2) == 1;
  const int32_t dob_days = PickDob();
  const Date dob = Date::FromDays(dob_days);
  const int age = AgeInYears(dob, as_of_);
  const uint32_t given = PickSiblingGiven(dob.year, female);
  family_.dob_days[family_.born] = dob_days;
  family_.given[family_.born] = given;
  ++family_.born;

  buffer_ += "gen-";
  AppendUint(key, 0, &buffer_);
  buffer_ += ',';
  AppendField(names_.given[given]);
  AppendMiddleNames(given, dob.year, female);
  AppendField(family_.surname);
  AppendField(family_.former);
  AppendDate(dob, &buffer_);
  buffer_ += female ? ",F," : ",M,";
  AppendField(family_.address);
  AppendField({family_.locality->postcode, family_.locality->postcode_len});
  AppendNhsNumber();
  AppendUpn(dob, age);
  AppendField(family_.parent);
  AppendField(family_.phone);
  scratch_.clear();
  if (age >= kSchoolAge) {
    const bool secondary = age >= kSecondaryAge;
    AppendServiceName(*family_.locality, secondary ? Service::kSecondary : Service::kPrimary,
                      secondary ? family_.secondary : family_.primary, options_.seed, &scratch_);
  }
  AppendField(scratch_);
  scratch_.clear();
  if (rng_.Chance(kGpChance)) {
    AppendServiceName(*family_.locality, Service::kGp, family_.gp, options_.seed, &scratch_);
  }
  AppendCsvField(scratch_, &buffer_);
  buffer_ += '\n';
}

void ChildGenerator::AppendMiddleNames(uint32_t given, int birth_year, bool female) {
  scratch_.clear();
  if (rng_.Chance(kMiddleNameChance)) {
    const uint32_t first = PickGiven(birth_year, female);
    if (first != given) scratch_ += names_.given[first];
    if (rng_.Chance(kSecondMiddleChance)) {
      const uint32_t second = PickGiven(birth_year, female);
      if (second != given && second != first) {
        if (!scratch_.empty()) scratch_ += ' ';
        scratch_ += names_.given[second];
      }
    }
  }
  AppendField(scratch_);
}

void ChildGenerator::AppendNhsNumber() {
  if (rng_.Chance(kNhsNumberChance)) {
    char digits[10];
    int check = -1;
    while (check < 0) {
      const uint64_t v = nhs_permutation_(nhs_counter_++);
      uint64_t nine = v < 100'000'000 ? 400'000'000 + v : 500'000'000 + v;
      for (int i = 8; i >= 0; --i, nine /= 10) digits[i] = static_cast<char>('0' + nine % 10);
      check = NhsCheckDigit(std::string_view(digits, 9));
    }
    digits[9] = static_cast<char>('0' + check);
    buffer_.append(digits, 10);
  }
  buffer_ += ',';
}

// A UPN: check letter, LA number (3), establishment (4), year of allocation (2), serial
// (3). Establishment + serial come from a per-(LA, year) counter through a permutation,
// so they are unique without a set of issued numbers.
void ChildGenerator::AppendUpn(const Date& dob, int age) {
  if (age >= kSchoolAge && rng_.Chance(kUpnChance)) {
    const Area& area = kAreas[family_.locality->area];
    const int entry_year = std::min<int>(dob.year + (dob.month >= 9 ? 5 : 4), as_of_.year);
    uint32_t& counter = upn_counters_[static_cast<size_t>(area.la) * 100 + entry_year % 100];
    if (counter < kUpnSerials) {
      // The offset keeps each bucket's sequence from starting at the same serial.
      const uint64_t offset = Mix64(static_cast<uint64_t>(area.la) * 100 + entry_year % 100);
      const uint64_t serial = upn_permutation_((counter++ + offset) % kUpnSerials);
      scratch_.clear();
      AppendUint(static_cast<uint64_t>(area.la), 3, &scratch_);
      AppendUint(serial / 1000, 4, &scratch_);
      AppendUint(static_cast<uint64_t>(entry_year % 100), 2, &scratch_);
      AppendUint(serial % 1000, 3, &scratch_);
      const char check = UpnCheckLetter(scratch_);
      if (check != '\0') {
        buffer_ += check;
        buffer_ += scratch_;
      }
    }
  }
  buffer_ += ',';
}

}  // namespace

Status GenerateChildren(const GenOptions& options, std::ostream& out) {
  Date as_of = options.as_of;
  if (as_of.empty()) {
    as_of = TodayUtc();
  } else if (!IsValidDate(as_of.year, as_of.month, as_of.day) || as_of.year < 1820 ||
             as_of.year > 2199) {
    return Status::InvalidArgument("gen: as_of is not a date between 1820 and 2199");
  }
  ChildGenerator generator(options, as_of, out);
  return generator.Run();
}

}  // namespace cp
