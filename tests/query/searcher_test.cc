// Tests for query/searcher.h over a small, hand-built store.
//
// The fixture inserts ~45 children chosen to sit close to each other: twins, siblings
// sharing a postcode, namesakes born in other years, a double-barrelled surname, a child
// with a former family name, a child with no date of birth, shielded children (one
// shielded on insert, one with SetShield afterwards) and a cohort of 25 Patels born in
// 2017 for the result cap. Each table row is criteria in, expected children (by source
// key) out, best first.

#include "query/searcher.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "index/index_policy.h"
#include "storage/child_store.h"
#include "util/identifiers.h"

namespace cp {
namespace {

constexpr char kSource[] = "test";

// A valid NHS number built from `n` (the first that has a check digit).
std::string MakeNhs(uint64_t n) {
  for (;; ++n) {
    std::string nine = std::to_string(100000000 + n % 800000000);
    int check = NhsCheckDigit(nine);
    if (check >= 0) return nine + static_cast<char>('0' + check);
  }
}

// A valid permanent UPN built from `n`.
std::string MakeUpn(uint64_t n) {
  std::string twelve = std::to_string(100000000000ULL + n);
  char check = UpnCheckLetter(twelve);
  return std::string(1, check) + twelve;
}

struct Spec {
  const char* key;
  const char* given;
  const char* middle;
  const char* family;
  std::vector<std::string> former;
  Date dob;
  Gender gender;
  const char* postcode;
  std::string nhs;
  std::string upn;
  bool shielded = false;
};

constexpr char kOliverNhs[] = "9434765919";
constexpr char kOliverUpn[] = "H801200001001";
constexpr char kSophieNhs[] = "4010232137";

std::vector<Spec> FixtureChildren() {
  using G = Gender;
  std::vector<Spec> s = {
      // The Smiths of LS1 4AP: Oliver and his twin Amelia, their brother Harry.
      {"oliver-smith",
       "Oliver",
       "James",
       "Smith",
       {},
       {2015, 3, 14},
       G::kMale,
       "LS1 4AP",
       kOliverNhs,
       kOliverUpn},
      {"amelia-smith", "Amelia", "", "Smith", {}, {2015, 3, 14}, G::kFemale, "LS1 4AP", "", ""},
      {"harry-smith", "Harry", "", "Smith", {}, {2012, 7, 2}, G::kMale, "LS1 4AP", "", ""},
      // Namesakes born in other years.
      {"oliver-smith-2009", "Oliver", "", "Smith", {}, {2009, 11, 20}, G::kMale, "M1 1AE", "", ""},
      {"oliver-smith-2018", "Oliver", "", "Smith", {}, {2018, 9, 5}, G::kMale, "LS6 2QT", "", ""},
      // The Joneses of CF10 1AA.
      {"william-jones", "William", "", "Jones", {}, {2014, 5, 9}, G::kMale, "CF10 1AA", "", ""},
      {"elizabeth-jones",
       "Elizabeth",
       "Rose",
       "Jones",
       {},
       {2016, 10, 1},
       G::kFemale,
       "CF10 1AA",
       "",
       ""},
      // A double-barrelled surname, and a Charlotte Brown born the same day.
      {"charlotte-taylor-brown",
       "Charlotte",
       "",
       "Taylor-Brown",
       {},
       {2013, 8, 21},
       G::kFemale,
       "BS1 5TR",
       "",
       ""},
      {"charlotte-brown",
       "Charlotte",
       "",
       "Brown",
       {},
       {2013, 8, 21},
       G::kFemale,
       "BS2 0JA",
       "",
       ""},
      // Adopted: born Walker.
      {"ella-robinson",
       "Ella",
       "",
       "Robinson",
       {"Walker"},
       {2016, 1, 30},
       G::kFemale,
       "NE1 7RU",
       "",
       ""},
      // A Jack Thompson whose date of birth is unknown, and one whose date is known.
      {"jack-thompson-nodob", "Jack", "", "Thompson", {}, Date{}, G::kMale, "", "", ""},
      {"jack-thompson-2013",
       "Jack",
       "",
       "Thompson",
       {},
       {2013, 10, 17},
       G::kMale,
       "LS2 9JT",
       "",
       ""},
      // Shielded on insert; lives at the Smiths' postcode, with an unshielded twin.
      {"sophie-clarke",
       "Sophie",
       "",
       "Clarke",
       {},
       {2011, 6, 12},
       G::kFemale,
       "LS1 4AP",
       kSophieNhs,
       "",
       /*shielded=*/true},
      {"daisy-clarke", "Daisy", "", "Clarke", {}, {2011, 6, 12}, G::kFemale, "LS1 4AP", "", ""},
      // Shielded after insert (SetShield).
      {"lily-evans", "Lily", "", "Evans", {}, {2012, 4, 4}, G::kFemale, "M1 1AE", MakeNhs(77), ""},
      // Found only through trigrams when both names are mistyped.
      {"dominic-fairweather",
       "Dominic",
       "",
       "Fairweather",
       {},
       {2010, 4, 23},
       G::kMale,
       "YO1 7HH",
       "",
       ""},
      {"george-wilson", "George", "", "Wilson", {}, {2010, 12, 25}, G::kMale, "SW1A 1AA", "", ""},
      {"george-wilson-2008",
       "George",
       "",
       "Wilson",
       {},
       {2008, 12, 25},
       G::kMale,
       "SW1A 2AA",
       "",
       ""},
      // Folding: accents, apostrophes, Mac/Mc.
      {"zoe-obrien", "Zoë", "", "O'Brien", {}, {2016, 7, 19}, G::kFemale, "B1 1BB", "", ""},
      {"mary-mcdonald", "Mary", "", "McDonald", {}, {2014, 11, 30}, G::kFemale, "G1 1XQ", "", ""},
  };
  // 25 Patels born in 2017: 22 with a given name starting with A, 3 with R.
  const char* a_names[] = {"Aarav", "Aisha",  "Arjun",  "Anika", "Ava",    "Adam", "Amir", "Anya",
                           "Aryan", "Alisha", "Aditya", "Amara", "Arun",   "Asha", "Avni", "Ayaan",
                           "Alia",  "Amelie", "Ansh",   "Akash", "Anjali", "Arya"};
  int i = 0;
  for (const char* name : a_names) {
    s.push_back({nullptr,
                 name,
                 "",
                 "Patel",
                 {},
                 {2017, static_cast<uint8_t>(1 + i % 12), static_cast<uint8_t>(1 + (i * 7) % 28)},
                 i % 2 ? G::kFemale : G::kMale,
                 "LE1 1AA",
                 "",
                 ""});
    ++i;
  }
  for (const char* name : {"Ravi", "Riya", "Rohan"}) {
    s.push_back({nullptr,
                 name,
                 "",
                 "Patel",
                 {},
                 {2017, static_cast<uint8_t>(1 + i % 12), static_cast<uint8_t>(1 + (i * 7) % 28)},
                 G::kMale,
                 "LE1 2AA",
                 "",
                 ""});
    ++i;
  }
  return s;
}

std::string PatelKey(const std::string& given) { return "patel-" + given; }

// ---- Fixture ----------------------------------------------------------------------------

class SearcherTest : public testing::Test {
 protected:
  static void SetUpTestSuite() {
    char tmpl[] = "/tmp/cp_searcher_test_XXXXXX";
    char* dir = mkdtemp(tmpl);
    ASSERT_NE(dir, nullptr);
    dir_ = new std::string(dir);
    ChildStore::Options options;
    options.db_dir = *dir_ + "/db";
    options.key_file = *dir_ + "/db.key";
    options.create = true;
    options.policy = &NameIndexPolicy::Instance();
    auto store = ChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = store->release();

    std::vector<NewChild> batch;
    for (const Spec& s : FixtureChildren()) {
      NewChild c;
      c.record.given_name = s.given;
      c.record.middle_names = s.middle;
      c.record.family_name = s.family;
      c.record.former_family_names = s.former;
      c.record.date_of_birth = s.dob;
      c.record.gender = s.gender;
      c.record.nhs_number = s.nhs;
      c.record.pupil_number = s.upn;
      if (s.shielded) c.record.shield = ShieldState{true, "LA Leeds", "test", 1700000000};
      c.hidden.address = std::string("1 Test Street, ") + s.postcode;
      c.hidden.postcode = s.postcode;
      c.hidden.parent_name = "Parent of " + std::string(s.given);
      c.hidden.parent_phone = "0113 496 0000";
      c.hidden.services = {{ServiceKind::kSchool, "Hillside Primary", "0113 496 0001"}};
      const std::string key = s.key ? s.key : PatelKey(s.given);
      c.source = SourceRef{kSource, key};
      c.source_payload = key;
      batch.push_back(std::move(c));
    }
    auto ids = store_->InsertChildren(batch);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    keys_ = new std::map<ChildId, std::string>();
    for (size_t i = 0; i < ids->size(); ++i) (*keys_)[(*ids)[i]] = batch[i].source.key;
    ASSERT_TRUE(store_->SetShield(IdOf("lily-evans"), true, "LA Manchester", "test").ok());
  }

  static void TearDownTestSuite() {
    delete store_;
    store_ = nullptr;
    delete keys_;
    keys_ = nullptr;
    if (dir_) std::filesystem::remove_all(*dir_);
    delete dir_;
    dir_ = nullptr;
  }

  static ChildId IdOf(const std::string& key) {
    for (const auto& [id, k] : *keys_) {
      if (k == key) return id;
    }
    ADD_FAILURE() << "no child " << key;
    return 0;
  }

  static std::vector<std::string> Keys(const SearchResponse& r) {
    std::vector<std::string> out;
    for (const auto& h : r.hits) out.push_back(keys_->at(h.id));
    return out;
  }

  static SearchResponse MustSearch(const SearchCriteria& c,
                                   const Clearance& clearance = Clearance::Ordinary()) {
    Searcher searcher(store_);
    auto r = searcher.Search(c, clearance);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? std::move(*r) : SearchResponse{};
  }

  // Scores in [0, 1], best first, every hit's view is the hit's child and, under
  // ordinary clearance, a shielded child's view carries no hidden fields.
  static void CheckWellFormed(const SearchResponse& r, const Clearance& clearance) {
    for (size_t i = 0; i < r.hits.size(); ++i) {
      const SearchHit& h = r.hits[i];
      EXPECT_GE(h.score, 0.0);
      EXPECT_LE(h.score, 1.0);
      EXPECT_GE(h.score, kMatchThreshold);
      if (i > 0) {
        EXPECT_GE(r.hits[i - 1].score, h.score) << "not sorted at " << i;
      }
      EXPECT_EQ(h.view.record.id, h.id);
      if (h.view.record.shield.shielded && !clearance.SeesHiddenFields()) {
        // Nothing that places the child: no hidden fields, sources or provenance.
        EXPECT_FALSE(h.view.hidden.has_value()) << keys_->at(h.id);
        EXPECT_TRUE(h.view.record.sources.empty()) << keys_->at(h.id);
        EXPECT_TRUE(h.view.record.provenance.empty()) << keys_->at(h.id);
      } else {
        ASSERT_FALSE(h.view.record.sources.empty());
        EXPECT_EQ(h.view.record.sources[0].key, keys_->at(h.id));
        EXPECT_TRUE(h.view.hidden.has_value()) << keys_->at(h.id);
      }
    }
    if (r.outcome == SearchOutcome::kOk) {
      EXPECT_EQ(r.matches, r.hits.size());
    }
  }

  static std::string* dir_;
  static ChildStore* store_;
  static std::map<ChildId, std::string>* keys_;
};

std::string* SearcherTest::dir_ = nullptr;
ChildStore* SearcherTest::store_ = nullptr;
std::map<ChildId, std::string>* SearcherTest::keys_ = nullptr;

// ---- Criteria builders ------------------------------------------------------------------

SearchCriteria ByNames(std::string given, std::string family, Date dob) {
  SearchCriteria c;
  c.given_name = std::move(given);
  c.family_name = std::move(family);
  c.date_of_birth = dob;
  return c;
}

SearchCriteria ByNamesRange(std::string given, std::string family, Date from, Date to) {
  SearchCriteria c;
  c.given_name = std::move(given);
  c.family_name = std::move(family);
  c.dob_from = from;
  c.dob_to = to;
  return c;
}

SearchCriteria ByFamilyPlace(std::string family, Date dob, Gender g, std::string postcode) {
  SearchCriteria c;
  c.family_name = std::move(family);
  c.date_of_birth = dob;
  c.gender = g;
  c.postcode = std::move(postcode);
  return c;
}

SearchCriteria ByGivenPlace(std::string given, Date dob, Gender g, std::string postcode) {
  SearchCriteria c;
  c.given_name = std::move(given);
  c.date_of_birth = dob;
  c.gender = g;
  c.postcode = std::move(postcode);
  return c;
}

SearchCriteria ByNhs(std::string nhs) {
  SearchCriteria c;
  c.nhs_number = std::move(nhs);
  return c;
}

SearchCriteria ByUpn(std::string upn) {
  SearchCriteria c;
  c.pupil_number = std::move(upn);
  return c;
}

// ---- The table --------------------------------------------------------------------------

struct Row {
  const char* name;
  SearchCriteria criteria;
  CriteriaKind kind;
  std::vector<std::string> expected;  // source keys, best first
};

std::ostream& operator<<(std::ostream& os, const Row& r) { return os << r.name; }

std::vector<Row> Rows() {
  using K = CriteriaKind;
  using G = Gender;
  const Date oliver{2015, 3, 14};
  const Date william{2014, 5, 9};
  return {
      // Exact.
      {"Exact", ByNames("Oliver", "Smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"ExactOtherCase", ByNames("OLIVER", "smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"ExactTwin", ByNames("Amelia", "Smith", oliver), K::kNamesAndBirth, {"amelia-smith"}},
      {"ExactSibling", ByNames("Harry", "Smith", {2012, 7, 2}), K::kNamesAndBirth, {"harry-smith"}},
      {"NamesakeOtherYear",
       ByNames("Oliver", "Smith", {2009, 11, 20}),
       K::kNamesAndBirth,
       {"oliver-smith-2009"}},
      {"NamesakeBornLater",
       ByNames("Oliver", "Smith", {2018, 9, 5}),
       K::kNamesAndBirth,
       {"oliver-smith-2018"}},
      {"GeorgeWilson2010",
       ByNames("George", "Wilson", {2010, 12, 25}),
       K::kNamesAndBirth,
       {"george-wilson"}},
      {"GeorgeWilson2008",
       ByNames("George", "Wilson", {2008, 12, 25}),
       K::kNamesAndBirth,
       {"george-wilson-2008"}},
      {"AccentsAndApostrophes",
       ByNames("Zoe", "OBrien", {2016, 7, 19}),
       K::kNamesAndBirth,
       {"zoe-obrien"}},
      {"MacPrefix",
       ByNames("Mary", "Mac Donald", {2014, 11, 30}),
       K::kNamesAndBirth,
       {"mary-mcdonald"}},
      {"NoMatch", ByNames("Zachary", "Okonkwo", oliver), K::kNamesAndBirth, {}},
      {"RightNamesUnrelatedDob", ByNames("Oliver", "Smith", {2011, 7, 22}), K::kNamesAndBirth, {}},
      // Typos and phonetic variants.
      {"OneTypoGiven", ByNames("Olivr", "Smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"OneTypoFamily", ByNames("Oliver", "Smiht", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"TwoTypos", ByNames("Olivr", "Smiht", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"TwoTyposOneName", ByNames("Olvr", "Smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"PhoneticFamily", ByNames("Oliver", "Smyth", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"PhoneticThompson",
       ByNames("Jack", "Tomson", {2013, 10, 17}),
       K::kNamesAndBirth,
       {"jack-thompson-2013", "jack-thompson-nodob"}},
      {"TyposInBothNamesOnlyTrigramsFind",
       ByNames("Dcminic", "Fbirweather", {2010, 4, 23}),
       K::kNamesAndBirth,
       {"dominic-fairweather"}},
      // Nicknames.
      {"NicknameBill", ByNames("Bill", "Jones", william), K::kNamesAndBirth, {"william-jones"}},
      {"NicknameWill", ByNames("Will", "Jones", william), K::kNamesAndBirth, {"william-jones"}},
      {"NicknameBeth",
       ByNames("Beth", "Jones", {2016, 10, 1}),
       K::kNamesAndBirth,
       {"elizabeth-jones"}},
      {"NicknameOllie", ByNames("Ollie", "Smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      // Swapped names; middle name.
      {"SwappedNames", ByNames("Smith", "Oliver", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"SwappedNamesWilliam",
       ByNames("Jones", "William", william),
       K::kNamesAndBirth,
       {"william-jones"}},
      {"MiddleNameAsGiven", ByNames("James", "Smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"MiddleNameRose",
       ByNames("Rose", "Jones", {2016, 10, 1}),
       K::kNamesAndBirth,
       {"elizabeth-jones"}},
      // Double-barrelled.
      {"DoubleBarrelledWhole",
       ByNames("Charlotte", "Taylor-Brown", {2013, 8, 21}),
       K::kNamesAndBirth,
       {"charlotte-taylor-brown", "charlotte-brown"}},
      {"DoubleBarrelledSecondPart",
       ByNames("Charlotte", "Brown", {2013, 8, 21}),
       K::kNamesAndBirth,
       {"charlotte-brown", "charlotte-taylor-brown"}},
      {"DoubleBarrelledFirstPart",
       ByNames("Charlotte", "Taylor", {2013, 8, 21}),
       K::kNamesAndBirth,
       {"charlotte-taylor-brown"}},
      // Former family name.
      {"FormerFamilyName",
       ByNames("Ella", "Walker", {2016, 1, 30}),
       K::kNamesAndBirth,
       {"ella-robinson"}},
      {"CurrentFamilyName",
       ByNames("Ella", "Robinson", {2016, 1, 30}),
       K::kNamesAndBirth,
       {"ella-robinson"}},
      {"FormerFamilyNameWithInitial",
       ByNamesRange("E", "Walker", {2016, 1, 1}, {2016, 12, 31}),
       K::kNamesAndBirth,
       {"ella-robinson"}},
      // Date of birth: swap and one digit.
      {"DobDayMonthSwapped",
       ByNames("William", "Jones", {2014, 9, 5}),
       K::kNamesAndBirth,
       {"william-jones"}},
      {"DobDayDigitWrong",
       ByNames("William", "Jones", {2014, 5, 8}),
       K::kNamesAndBirth,
       {"william-jones"}},
      {"DobMonthDigitWrong",
       ByNames("William", "Jones", {2014, 6, 9}),
       K::kNamesAndBirth,
       {"william-jones"}},
      {"DobYearDigitWrong",
       ByNames("William", "Jones", {2013, 5, 9}),
       K::kNamesAndBirth,
       {"william-jones"}},
      {"DobSwapAndNickname",
       ByNames("Bill", "Jones", {2014, 9, 5}),
       K::kNamesAndBirth,
       {"william-jones"}},
      // Initials and ranges.
      {"InitialAndDob", ByNames("O", "Smith", oliver), K::kNamesAndBirth, {"oliver-smith"}},
      {"OtherInitialTwin", ByNames("A", "Smith", oliver), K::kNamesAndBirth, {"amelia-smith"}},
      {"InitialAndRange",
       ByNamesRange("O", "Smith", {2009, 1, 1}, {2010, 12, 31}),
       K::kNamesAndBirth,
       {"oliver-smith-2009"}},
      {"RangeAroundOliver",
       ByNamesRange("Oliver", "Smith", {2014, 6, 1}, {2016, 5, 31}),
       K::kNamesAndBirth,
       {"oliver-smith"}},
      {"RangeReachesLaterNamesake",
       ByNamesRange("Oliver", "Smith", {2016, 9, 5}, {2018, 9, 5}),
       K::kNamesAndBirth,
       {"oliver-smith-2018"}},
      {"RangeOneDay",
       ByNamesRange("Oliver", "Smith", oliver, oliver),
       K::kNamesAndBirth,
       {"oliver-smith"}},
      {"RangeMissesByADay",
       ByNamesRange("Oliver", "Smith", {2015, 3, 15}, {2016, 3, 13}),
       K::kNamesAndBirth,
       {}},
      // A child whose date of birth is unknown.
      {"UnknownDobChild",
       ByNames("Jack", "Thompson", {2014, 2, 2}),
       K::kNamesAndBirth,
       {"jack-thompson-nodob"}},
      {"KnownDobRanksAboveUnknown",
       ByNames("Jack", "Thompson", {2013, 10, 17}),
       K::kNamesAndBirth,
       {"jack-thompson-2013", "jack-thompson-nodob"}},
      // Family + dob + gender + postcode.
      {"FamilyPlace",
       ByFamilyPlace("Smith", oliver, G::kMale, "LS1 4AP"),
       K::kFamilyBirthGenderPlace,
       {"oliver-smith", "amelia-smith"}},
      {"FamilyPlaceOtherGender",
       ByFamilyPlace("Smith", oliver, G::kFemale, "ls14ap"),
       K::kFamilyBirthGenderPlace,
       {"amelia-smith", "oliver-smith"}},
      {"FamilyPlaceWrongPostcode",
       ByFamilyPlace("Smith", oliver, G::kMale, "LS6 2QT"),
       K::kFamilyBirthGenderPlace,
       {}},
      {"FamilyPlaceSibling",
       ByFamilyPlace("Smith", {2012, 7, 2}, G::kMale, "LS1 4AP"),
       K::kFamilyBirthGenderPlace,
       {"harry-smith"}},
      {"FamilyPlaceDoubleBarrelled",
       ByFamilyPlace("Taylor-Brown", {2013, 8, 21}, G::kFemale, "BS1 5TR"),
       K::kFamilyBirthGenderPlace,
       {"charlotte-taylor-brown"}},
      {"FamilyPlaceFormerName",
       ByFamilyPlace("Walker", {2016, 1, 30}, G::kFemale, "NE1 7RU"),
       K::kFamilyBirthGenderPlace,
       {"ella-robinson"}},
      // Given + dob + gender + postcode.
      {"GivenPlace",
       ByGivenPlace("Oliver", oliver, G::kMale, "LS1 4AP"),
       K::kGivenBirthGenderPlace,
       {"oliver-smith"}},
      {"GivenPlaceNickname",
       ByGivenPlace("Bill", william, G::kMale, "CF10 1AA"),
       K::kGivenBirthGenderPlace,
       {"william-jones"}},
      {"GivenPlaceWrongPostcode",
       ByGivenPlace("Oliver", oliver, G::kMale, "M1 1AE"),
       K::kGivenBirthGenderPlace,
       {}},
      // Identifiers.
      {"Nhs", ByNhs(kOliverNhs), K::kIdentifier, {"oliver-smith"}},
      {"NhsSpaced", ByNhs("943 476 5919"), K::kIdentifier, {"oliver-smith"}},
      {"Upn", ByUpn(kOliverUpn), K::kIdentifier, {"oliver-smith"}},
      {"UpnLowerCase", ByUpn("h801200001001"), K::kIdentifier, {"oliver-smith"}},
      {"NhsOfShieldedChild", ByNhs(kSophieNhs), K::kIdentifier, {"sophie-clarke"}},
      {"NhsUnknown", ByNhs(MakeNhs(12345)), K::kIdentifier, {}},
      {"UpnUnknown", ByUpn(MakeUpn(42)), K::kIdentifier, {}},
      // Shielding: found by name + dob, never by a search that uses the postcode.
      {"ShieldedByNameAndDob",
       ByNames("Sophie", "Clarke", {2011, 6, 12}),
       K::kNamesAndBirth,
       {"sophie-clarke"}},
      {"ShieldedByNameTypo",
       ByNames("Sofie", "Clarke", {2011, 6, 12}),
       K::kNamesAndBirth,
       {"sophie-clarke"}},
      {"ShieldedNotByFamilyPlace",
       ByFamilyPlace("Clarke", {2011, 6, 12}, G::kFemale, "LS1 4AP"),
       K::kFamilyBirthGenderPlace,
       {"daisy-clarke"}},
      {"ShieldedNotByGivenPlace",
       ByGivenPlace("Sophie", {2011, 6, 12}, G::kFemale, "LS1 4AP"),
       K::kGivenBirthGenderPlace,
       {}},
      {"ShieldedNotByNamesAndPostcode",
       [] {
         SearchCriteria c = ByNames("Sophie", "Clarke", {2011, 6, 12});
         c.postcode = "LS1 4AP";
         return c;
       }(),
       K::kNamesAndBirth,
       {}},
      {"ShieldedNotByNamesAndOtherPostcode",
       [] {
         SearchCriteria c = ByNames("Sophie", "Clarke", {2011, 6, 12});
         c.postcode = "M1 1AE";
         return c;
       }(),
       K::kNamesAndBirth,
       {}},
      {"LaterShieldedByNameAndDob",
       ByNames("Lily", "Evans", {2012, 4, 4}),
       K::kNamesAndBirth,
       {"lily-evans"}},
      {"LaterShieldedNotByFamilyPlace",
       ByFamilyPlace("Evans", {2012, 4, 4}, G::kFemale, "M1 1AE"),
       K::kFamilyBirthGenderPlace,
       {}},
      {"LaterShieldedNotByGivenPlace",
       ByGivenPlace("Lily", {2012, 4, 4}, G::kFemale, "M1 1AE"),
       K::kGivenBirthGenderPlace,
       {}},
      // The Patel cohort below the cap.
      {"PatelR",
       ByNamesRange("R", "Patel", {2017, 1, 1}, {2017, 12, 31}),
       K::kNamesAndBirth,
       {"patel-Ravi", "patel-Riya", "patel-Rohan"}},
  };
}

class SearcherTableTest : public SearcherTest, public testing::WithParamInterface<Row> {};

TEST_P(SearcherTableTest, FindsExactlyTheExpectedChildrenInOrder) {
  const Row& row = GetParam();
  SearchResponse r = MustSearch(row.criteria);
  EXPECT_EQ(r.outcome, SearchOutcome::kOk);
  EXPECT_EQ(r.kind, row.kind);
  std::string scores;
  for (const auto& h : r.hits) scores += keys_->at(h.id) + "=" + std::to_string(h.score) + " ";
  EXPECT_EQ(Keys(r), row.expected) << "scores: " << scores << " matches " << r.matches;
  CheckWellFormed(r, Clearance::Ordinary());
}

INSTANTIATE_TEST_SUITE_P(Table, SearcherTableTest, testing::ValuesIn(Rows()),
                         [](const auto& info) { return std::string(info.param.name); });

// ---- Scores -----------------------------------------------------------------------------

TEST_F(SearcherTest, ExactMatchScoresOneAndFuzzyLess) {
  SearchResponse exact = MustSearch(ByNames("Oliver", "Smith", {2015, 3, 14}));
  ASSERT_EQ(exact.hits.size(), 1u);
  EXPECT_DOUBLE_EQ(exact.hits[0].score, 1.0);
  for (const SearchCriteria& c :
       {ByNames("Olivr", "Smith", {2015, 3, 14}), ByNames("Smith", "Oliver", {2015, 3, 14}),
        ByNames("Ollie", "Smith", {2015, 3, 14}), ByNames("Oliver", "Smith", {2015, 3, 15})}) {
    SearchResponse r = MustSearch(c);
    ASSERT_EQ(r.hits.size(), 1u) << c.given_name << " " << c.family_name;
    EXPECT_LT(r.hits[0].score, 1.0);
    EXPECT_GE(r.hits[0].score, kMatchThreshold);
  }
}

TEST_F(SearcherTest, IdentifierHitsScoreOne) {
  SearchResponse r = MustSearch(ByNhs(kOliverNhs));
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_DOUBLE_EQ(r.hits[0].score, 1.0);
  EXPECT_EQ(r.hits[0].view.record.nhs_number, kOliverNhs);
  EXPECT_EQ(r.hits[0].view.record.pupil_number, kOliverUpn);
}

// ---- Refused criteria -------------------------------------------------------------------

TEST_F(SearcherTest, RefusedCriteriaAreInvalidArgumentListingTheCombinations) {
  Searcher searcher(store_);
  SearchCriteria family_only;
  family_only.family_name = "Smith";
  SearchCriteria no_given = ByNames("", "Smith", {2015, 3, 14});
  SearchCriteria postcode_only;
  postcode_only.postcode = "LS1 4AP";
  for (const SearchCriteria& c : {family_only, no_given, postcode_only}) {
    auto r = searcher.Search(c, Clearance::Ordinary());
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_NE(r.status().message().find(kAcceptedCriteria), std::string::npos);
  }
  SearchCriteria bad_limit = ByNames("Oliver", "Smith", {2015, 3, 14});
  bad_limit.limit = 51;
  auto r = searcher.Search(bad_limit, Clearance::Ordinary());
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  bad_limit.limit = 0;
  EXPECT_FALSE(searcher.Search(bad_limit, Clearance::Ordinary()).ok());
  SearchCriteria too_long = ByNamesRange("Oliver", "Smith", {2013, 1, 1}, {2015, 12, 31});
  EXPECT_TRUE(searcher.Search(too_long, Clearance::Ordinary()).status().IsInvalidArgument());
  EXPECT_TRUE(
      searcher.Search(ByNhs("9434765918"), Clearance::Ordinary()).status().IsInvalidArgument());
}

// An empty Date as the date of birth is no date: names alone must not be a search.
TEST_F(SearcherTest, EmptyDateOfBirthIsNotACriterion) {
  Searcher searcher(store_);
  auto r = searcher.Search(ByNames("Jack", "Thompson", Date{}), Clearance::Ordinary());
  ASSERT_FALSE(r.ok()) << "answered with " << r->hits.size() << " hits";
  EXPECT_TRUE(r.status().IsInvalidArgument());
}

// ---- Too many matches and the cap -------------------------------------------------------

TEST_F(SearcherTest, MoreMatchesThanTheCapIsTooManyWithNoRecords) {
  SearchResponse r = MustSearch(ByNamesRange("A", "Patel", {2017, 1, 1}, {2017, 12, 31}));
  EXPECT_EQ(r.outcome, SearchOutcome::kTooManyMatches);
  EXPECT_TRUE(r.hits.empty());
  EXPECT_EQ(r.matches, 22u);
}

TEST_F(SearcherTest, TooManyAlsoOverAWiderRange) {
  SearchResponse r = MustSearch(ByNamesRange("A", "Patel", {2016, 6, 1}, {2018, 5, 31}));
  EXPECT_EQ(r.outcome, SearchOutcome::kTooManyMatches);
  EXPECT_TRUE(r.hits.empty());
}

TEST_F(SearcherTest, LimitAtOrAboveTheMatchCountReturnsThemAll) {
  for (size_t limit : {22u, 23u, 50u}) {
    SearchCriteria c = ByNamesRange("A", "Patel", {2017, 1, 1}, {2017, 12, 31});
    c.limit = limit;
    SearchResponse r = MustSearch(c);
    EXPECT_EQ(r.outcome, SearchOutcome::kOk) << limit;
    EXPECT_EQ(r.hits.size(), 22u) << limit;
    CheckWellFormed(r, Clearance::Ordinary());
    for (const auto& h : r.hits) {
      EXPECT_EQ(h.view.record.family_name, "Patel");
      EXPECT_EQ(h.view.record.given_name[0], 'A');
    }
  }
}

TEST_F(SearcherTest, LimitOneBelowTheMatchCountIsTooMany) {
  SearchCriteria c = ByNamesRange("A", "Patel", {2017, 1, 1}, {2017, 12, 31});
  c.limit = 21;
  SearchResponse r = MustSearch(c);
  EXPECT_EQ(r.outcome, SearchOutcome::kTooManyMatches);
  EXPECT_TRUE(r.hits.empty());
}

TEST_F(SearcherTest, SmallLimitBehaviour) {
  SearchCriteria c = ByNamesRange("R", "Patel", {2017, 1, 1}, {2017, 12, 31});
  for (size_t limit : {1u, 2u}) {
    c.limit = limit;
    SearchResponse r = MustSearch(c);
    EXPECT_EQ(r.outcome, SearchOutcome::kTooManyMatches) << limit;
    EXPECT_TRUE(r.hits.empty()) << limit;
    EXPECT_EQ(r.matches, 3u) << limit;
  }
  for (size_t limit : {3u, 4u, 20u}) {
    c.limit = limit;
    SearchResponse r = MustSearch(c);
    EXPECT_EQ(r.outcome, SearchOutcome::kOk) << limit;
    EXPECT_EQ(r.hits.size(), 3u) << limit;
  }
  // Two matches (Oliver and Amelia), limit 1.
  SearchCriteria place = ByFamilyPlace("Smith", {2015, 3, 14}, Gender::kMale, "LS1 4AP");
  place.limit = 1;
  SearchResponse r = MustSearch(place);
  EXPECT_EQ(r.outcome, SearchOutcome::kTooManyMatches);
  EXPECT_TRUE(r.hits.empty());
  place.limit = 2;
  EXPECT_EQ(MustSearch(place).hits.size(), 2u);
}

TEST_F(SearcherTest, ExactPatelIsFoundAmongTheCohort) {
  // Aisha first with score 1; Patels whose given names are within two edits of hers
  // (Alisha, Asha, Alia, ...) may follow, below 1.
  SearchResponse r = MustSearch(ByNamesRange("Aisha", "Patel", {2017, 1, 1}, {2017, 12, 31}));
  EXPECT_EQ(r.outcome, SearchOutcome::kOk);
  ASSERT_FALSE(r.hits.empty());
  EXPECT_EQ(keys_->at(r.hits[0].id), "patel-Aisha");
  EXPECT_DOUBLE_EQ(r.hits[0].score, 1.0);
  for (size_t i = 1; i < r.hits.size(); ++i) {
    EXPECT_LT(r.hits[i].score, 1.0);
    EXPECT_EQ(r.hits[i].view.record.family_name, "Patel");
  }
  CheckWellFormed(r, Clearance::Ordinary());
  std::string seen;
  for (const auto& h : r.hits) seen += keys_->at(h.id) + "=" + std::to_string(h.score) + " ";
  RecordProperty("aisha_patel_hits", seen);
}

// An identifier search "alone" ignores a postcode given with it. If a postcode is given
// the search uses a hidden field as a criterion, so either the criteria are refused (an
// identifier is accepted alone) or a shielded child is not returned.
TEST_F(SearcherTest, IdentifierWithPostcodeNeverReturnsAShieldedChild) {
  Searcher searcher(store_);
  for (const char* postcode : {"LS1 4AP", "M1 1AE"}) {
    SearchCriteria c = ByNhs(kSophieNhs);
    c.postcode = postcode;
    auto r = searcher.Search(c, Clearance::Ordinary());
    if (!r.ok()) {
      EXPECT_TRUE(r.status().IsInvalidArgument()) << r.status().ToString();
      continue;
    }
    for (const auto& h : r->hits) {
      EXPECT_FALSE(h.view.record.shield.shielded)
          << "NHS number + postcode " << postcode << " returned shielded " << keys_->at(h.id);
    }
  }
}

// ---- Shielding --------------------------------------------------------------------------

TEST_F(SearcherTest, ShieldedChildByNameShowsVisibleFieldsButNoHiddenOnes) {
  SearchResponse r = MustSearch(ByNames("Sophie", "Clarke", {2011, 6, 12}));
  ASSERT_EQ(r.hits.size(), 1u);
  const ChildView& v = r.hits[0].view;
  EXPECT_TRUE(v.record.shield.shielded);
  EXPECT_FALSE(v.hidden.has_value());
  EXPECT_EQ(v.record.given_name, "Sophie");
  EXPECT_EQ(v.record.family_name, "Clarke");
  EXPECT_EQ(v.record.date_of_birth, (Date{2011, 6, 12}));
  EXPECT_EQ(v.record.gender, Gender::kFemale);
  EXPECT_EQ(v.record.nhs_number, kSophieNhs);
}

TEST_F(SearcherTest, ChildShieldedLaterByNameShowsNoHiddenFields) {
  SearchResponse r = MustSearch(ByNames("Lily", "Evans", {2012, 4, 4}));
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_TRUE(r.hits[0].view.record.shield.shielded);
  EXPECT_FALSE(r.hits[0].view.hidden.has_value());
  EXPECT_FALSE(r.hits[0].view.record.nhs_number.empty());
}

TEST_F(SearcherTest, ShieldedChildByIdentifierShowsNoHiddenFields) {
  SearchResponse r = MustSearch(ByNhs(kSophieNhs));
  ASSERT_EQ(r.hits.size(), 1u);
  EXPECT_TRUE(r.hits[0].view.record.shield.shielded);
  EXPECT_FALSE(r.hits[0].view.hidden.has_value());
}

TEST_F(SearcherTest, UnshieldedChildShowsHiddenFieldsToOrdinaryClearance) {
  SearchResponse r = MustSearch(ByNames("Daisy", "Clarke", {2011, 6, 12}));
  ASSERT_EQ(r.hits.size(), 1u);
  ASSERT_TRUE(r.hits[0].view.hidden.has_value());
  EXPECT_EQ(r.hits[0].view.hidden->postcode, "LS1 4AP");
}

TEST_F(SearcherTest, ElevatedClearanceSeesHiddenFieldsWhenSearchingByName) {
  for (auto level : {Clearance::Level::kShieldingManager, Clearance::Level::kBreakGlass,
                     Clearance::Level::kMatching}) {
    const Clearance clearance = Clearance::Elevated(level, "tester", "unit test");
    Searcher searcher(store_);
    auto r = searcher.Search(ByNames("Sophie", "Clarke", {2011, 6, 12}), clearance);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->hits.size(), 1u);
    EXPECT_TRUE(r->hits[0].view.record.shield.shielded);
    ASSERT_TRUE(r->hits[0].view.hidden.has_value());
    EXPECT_EQ(r->hits[0].view.hidden->postcode, "LS1 4AP");
    EXPECT_EQ(r->hits[0].view.hidden->parent_name, "Parent of Sophie");
    CheckWellFormed(*r, clearance);

    auto later = searcher.Search(ByNames("Lily", "Evans", {2012, 4, 4}), clearance);
    ASSERT_TRUE(later.ok());
    ASSERT_EQ(later->hits.size(), 1u);
    ASSERT_TRUE(later->hits[0].view.hidden.has_value());
    EXPECT_EQ(later->hits[0].view.hidden->postcode, "M1 1AE");
  }
}

TEST_F(SearcherTest, ElevatedClearanceStillNeverFindsAShieldedChildByPostcode) {
  const Clearance clearance =
      Clearance::Elevated(Clearance::Level::kBreakGlass, "tester", "unit test");
  Searcher searcher(store_);
  auto r = searcher.Search(ByFamilyPlace("Clarke", {2011, 6, 12}, Gender::kFemale, "LS1 4AP"),
                           clearance);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Keys(*r), std::vector<std::string>{"daisy-clarke"});
  auto given =
      searcher.Search(ByGivenPlace("Sophie", {2011, 6, 12}, Gender::kFemale, "LS1 4AP"), clearance);
  ASSERT_TRUE(given.ok());
  EXPECT_TRUE(given->hits.empty());
  EXPECT_EQ(given->matches, 0u);
}

// A postcode search must not confirm where a shielded child lives, not even by a count:
// `matches` must not include the shielded child either.
TEST_F(SearcherTest, PostcodeSearchDoesNotCountTheShieldedChild) {
  SearchResponse r = MustSearch(ByFamilyPlace("Clarke", {2011, 6, 12}, Gender::kFemale, "LS1 4AP"));
  EXPECT_EQ(r.matches, 1u);
  SearchCriteria names = ByNames("Sophie", "Clarke", {2011, 6, 12});
  names.postcode = "LS1 4AP";
  SearchResponse n = MustSearch(names);
  EXPECT_EQ(n.matches, 0u);
  EXPECT_TRUE(n.hits.empty());
}

// ---- Tiers ------------------------------------------------------------------------------

// "date of birth with ... one digit wrong" must be found. Jack Thompson 2013-10-17
// searched as 2013-11-17 (one digit of the month) scores 0.93, above the threshold; the
// Jack Thompson with no date of birth scores 0.83. Tier 1 (the month, and the unknown-date
// bucket) finds only the latter, which stops the search before tier 2 reaches the better
// match.
TEST_F(SearcherTest, UnknownDobNamesakeDoesNotHideAOneDigitMatch) {
  SearchResponse r = MustSearch(ByNames("Jack", "Thompson", {2013, 11, 17}));
  EXPECT_EQ(Keys(r), (std::vector<std::string>{"jack-thompson-2013", "jack-thompson-nodob"}));
}

// A child whose date of birth is unknown scores 0.83 against names + a date (found: see
// the UnknownDobChild row) and the same against names + a range that holds any date; the
// range search should find it too.
TEST_F(SearcherTest, UnknownDobChildIsFoundByARangeAsByADate) {
  SearchResponse r = MustSearch(ByNamesRange("Jack", "Thompson", {2014, 1, 1}, {2014, 12, 31}));
  EXPECT_EQ(Keys(r), std::vector<std::string>{"jack-thompson-nodob"});
}

TEST_F(SearcherTest, SearcherIsUsableFromManyThreadsAtOnce) {
  const Searcher searcher(store_);
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) {
        auto r = searcher.Search(ByNames("Olivr", "Smith", {2015, 3, 14}), Clearance::Ordinary());
        if (!r.ok() || r->hits.size() != 1) ++failures;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
}

}  // namespace
}  // namespace cp
