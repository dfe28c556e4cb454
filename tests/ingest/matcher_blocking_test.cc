// What matching reads (ingest/matcher.h). Blocking: a record with the usual slips still
// reaches its child, and the one class blocking gave up for speed (a child sharing only a
// given-name code whose month or year digit is wrong) is pinned down here, with
// CouldBeCandidate still answering true for it (the feed window relies on that). Reads: a
// candidate is read only as far as it could matter, and in review in full.
#include <algorithm>
#include <map>
#include <memory>
#include <random>
#include <set>

#include "../storage/raw_db_util.h"
#include "feed_test_util.h"
#include "index/double_metaphone.h"
#include "index/features.h"
#include "storage/check.h"
#include "storage/keys.h"
#include "storage/retention.h"
#include "util/coding.h"
#include "util/identifiers.h"

namespace cp::feed_test {
namespace {

// A valid NHS number other than `nhs` whose digest (what a posting carries of it) is the
// same: a posting cannot show the two disagree.
std::string NhsSharingDigest(const std::string& nhs) {
  for (int n = 100000000; n < 999999999; ++n) {
    const std::string nine = std::to_string(n);
    const int check = NhsCheckDigit(nine);
    if (check < 0 || check > 9) continue;
    const std::string candidate = nine + std::to_string(check);
    if (candidate != nhs && IdentifierDigest(candidate) == IdentifierDigest(nhs)) return candidate;
  }
  ADD_FAILURE() << "no NHS number shares a digest";
  return "";
}

// The kBirthday key (the form before 2026-11-30) of a kBirthDay posting's key: the same
// code and month and day, no year in the month byte.
std::string BirthdayKeyOf(std::string key) {
  key[0] = static_cast<char>(TermKind::kBirthday);
  key[key.size() - 9] = 0;
  return key;
}

const RowSpec kOliver{"b1", "Oliver", "Smith", "2015-04-12", "M", "1 Elm Road", "LS6 1AA", ""};

struct Case {
  const char* what;
  RowSpec record;
};

class MatcherBlockingTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    // The child, and namesakes around it (inserted as they are, not matched with one
    // another): blocking must still reach the child among them.
    std::vector<RowSpec> rows{kOliver};
    for (int i = 0; i < 30; ++i) {
      const std::string day = (i % 28 + 1 < 10 ? "0" : "") + std::to_string(i % 28 + 1);
      rows.push_back({"n" + std::to_string(i), i % 2 ? "Oliver" : "Jack", i % 3 ? "Smith" : "Jones",
                      "2015-0" + std::to_string(i % 9 + 1) + "-" + day, "M"});
    }
    std::vector<NewChild> children = AsNewChildren(rows);
    auto ids = store_->InsertChildren(children);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    oliver_ = ids->at(0);
  }
  // The ids `spec` is compared with, blocking's ordinary scans reading at most `limit`.
  std::vector<ChildId> Candidates(const RowSpec& spec, size_t limit = Matcher::kPostingLimit) {
    Matcher matcher(store_.get(), {}, limit);
    SourceRecord rec = MakeRow(spec).record;
    rec.ref.source = "health";
    auto out = matcher.Match(rec);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    std::vector<ChildId> ids;
    if (out.ok()) {
      for (const auto& c : out->candidates) ids.push_back(c.child);
    }
    return ids;
  }
  bool Reaches(const RowSpec& spec, size_t limit = Matcher::kPostingLimit) {
    auto ids = Candidates(spec, limit);
    return std::find(ids.begin(), ids.end(), oliver_) != ids.end();
  }
  bool CouldReach(const RowSpec& spec) {
    FeedRow record = MakeRow(spec), child = MakeRow(kOliver);
    return CouldBeCandidate(MakeBlockingProfile(record.record.record, record.record.hidden),
                            MakeBlockingProfile(child.record.record, child.record.hidden));
  }

  ChildId oliver_ = 0;
};

TEST_F(MatcherBlockingTest, RecordsWithTheUsualSlipsReachTheirChild) {
  const Case cases[] = {
      {"exact", {"h1", "Oliver", "Smith", "2015-04-12", "M"}},
      {"day digits transposed", {"h1", "Oliver", "Smith", "2015-04-21", "M"}},
      {"day and month swapped", {"h1", "Oliver", "Smith", "2015-12-04", "M"}},
      {"names swapped", {"h1", "Smith", "Oliver", "2015-04-12", "M"}},
      {"typo in a common surname", {"h1", "Oliver", "Smtih", "2015-04-12", "M"}},
      {"typo in the surname and a wrong day", {"h1", "Oliver", "Smtih", "2015-04-19", "M"}},
      {"typo in the surname, day and month swapped", {"h1", "Oliver", "Smtih", "2015-12-04", "M"}},
      {"another surname (adoption), same date", {"h1", "Oliver", "Whitaker", "2015-04-12", "M"}},
      {"month digit wrong", {"h1", "Oliver", "Smith", "2015-05-12", "M"}},
      {"year digit wrong", {"h1", "Oliver", "Smith", "2016-04-12", "M"}},
      {"typo in the given name and month digit wrong", {"h1", "Olivre", "Smith", "2015-07-12", "M"}},
      {"another given name, month digit wrong", {"h1", "Ollie", "Smith", "2015-05-12", "M"}},
      {"both names agree, date far off in the birth year", {"h1", "Oliver", "Smith", "2015-09-30", "M"}},
      {"names swapped, year digit wrong", {"h1", "Smith", "Oliver", "2016-04-12", "M"}},
      {"typo in the given name, year digit wrong", {"h1", "Olivre", "Smith", "2005-04-12", "M"}},
      {"no date", {"h1", "Oliver", "Smith", "", "M"}},
  };
  for (const auto& c : cases) {
    EXPECT_TRUE(Reaches(c.record)) << c.what;
    EXPECT_TRUE(CouldReach(c.record)) << c.what << ": the feed window must see what blocking reaches";
  }
}

TEST_F(MatcherBlockingTest, AChildSharingOnlyAGivenNameCodeWithAWrongMonthOrYearIsNotReached) {
  // What blocking no longer reads: under a given-name code only the record's own month and
  // its day-month swap. The surname here shares no code with Smith.
  const Case cases[] = {
      {"month digit wrong", {"h1", "Oliver", "Brown", "2015-05-12", "M"}},
      {"year digit wrong", {"h1", "Oliver", "Brown", "2016-04-12", "M"}},
  };
  for (const auto& c : cases) {
    EXPECT_FALSE(Reaches(c.record)) << c.what;
    EXPECT_TRUE(CouldReach(c.record)) << c.what << ": CouldBeCandidate still errs towards true";
  }
  // The same slips with the surname agreeing are reached (a family-name code's whole year
  // is read), and so is the same surname-less pair on the record's own month.
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2015-05-12", "M"}));
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Brown", "2015-04-17", "M"}));
  // Without a family name every code is read as a family code would be.
  EXPECT_TRUE(Reaches({"h1", "Oliver", "", "2015-05-12", "M"}));
}

// A family code's birth year is read as its month and the other days a date slip could
// give, each list short however common the code, and the children whose names both agree
// from the name pairs: a scan limit that would cut Smith's whole year short (5 here; the
// Smiths of 2015 are 21) gives up none of them. (A database without birth day postings
// reads the whole year, cut short in month order, then the plausible months one by one.)
TEST_F(MatcherBlockingTest, AScanLimitBelowABirthYearStillReachesEveryPlausibleDate) {
  const std::string smith = DoubleMetaphone("Smith").primary;
  size_t smiths = 0;
  bool complete = false;
  ASSERT_TRUE(store_->ScanName(TermKind::kPhonetic, smith, 2015, std::nullopt, 100,
                               [&](const Posting&) { ++smiths; }, &complete).ok());
  ASSERT_EQ(smiths, 21u);
  constexpr size_t kLimit = 5;
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2015-05-12", "M"}, kLimit)) << "month digit wrong";
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2015-12-04", "M"}, kLimit))
      << "day and month swapped";
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2015-04-19", "M"}, kLimit)) << "day digit wrong";
  // Both names agree, but no slip turns November into April: the pairs find it.
  const RowSpec far{"h1", "Oliver", "Smith", "2015-11-30", "M"};
  EXPECT_TRUE(Reaches(far, kLimit));
  EXPECT_TRUE(Reaches(far));
}

// Under a family code the years one digit from the record's are read from the birthday
// postings (the record's month and day, any year), not the record's month in each of those
// years: what that gave up is a child whose names both agree but whose year digit and day
// are both wrong. A database without birthday postings (created before them) is read as
// before, and reaches it.
TEST_F(MatcherBlockingTest, BothNamesAgreeingWithTheYearAndTheDayWrongIsReachedOnlyWithoutBirthdayPostings) {
  const RowSpec two_slips{"h1", "Oliver", "Smith", "2013-04-03", "M"};
  ASSERT_TRUE(store_->HasBirthdayPostings());
  ASSERT_TRUE(store_->HasDayPostings());
  EXPECT_FALSE(Reaches(two_slips));
  EXPECT_TRUE(CouldReach(two_slips)) << "CouldBeCandidate still errs towards true";
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2013-04-12", "M"})) << "the year alone wrong";

  // The same database as an earlier build left it: no birth day or name pair postings, no
  // markers.
  store_.reset();
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    auto dump = raw.Dump();
    size_t birthdays = 0;
    for (const auto& [key, value] : dump["name_index"]) {
      if (key[0] == static_cast<char>(TermKind::kBirthDay) ||
          key[0] == static_cast<char>(TermKind::kNamePair)) {
        raw.Delete("name_index", key);
        ++birthdays;
      }
      EXPECT_NE(key[0], static_cast<char>(TermKind::kBirthday))
          << "not written beside its successor";
    }
    EXPECT_GT(birthdays, 31u);
    raw.Delete("meta", std::string(keys::kMetaBirthday));
    raw.Delete("meta", std::string(keys::kMetaDayPostings));
  }
  Open(false);
  ASSERT_FALSE(store_->HasBirthdayPostings());
  EXPECT_TRUE(Reaches(two_slips));
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2013-04-12", "M"}));
  EXPECT_TRUE(Reaches({"h1", "Smith", "Oliver", "2016-04-12", "M"}));
  // A birth year cut short by a scan limit is read again month by month, the months a slip
  // in the date could give (PlausibleMonths).
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2015-05-12", "M"}, 5)) << "month digit wrong";
  EXPECT_TRUE(Reaches({"h1", "Oliver", "Smith", "2015-12-04", "M"}, 5)) << "day and month swapped";
  // A child written now gets no birthday posting either, and the check agrees.
  std::vector<NewChild> late = AsNewChildren({{"late", "Ada", "Byron", "2016-12-10", "F"}});
  ASSERT_TRUE(store_->InsertChildren(late).ok());
  ConsistencyReport report;
  ASSERT_TRUE(store_->CheckConsistency(&report).ok());
  EXPECT_TRUE(report.ok());
  store_.reset();
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    auto dump = raw.Dump();
    for (const auto& [key, value] : dump["name_index"]) {
      EXPECT_NE(key[0], static_cast<char>(TermKind::kBirthday));
      EXPECT_NE(key[0], static_cast<char>(TermKind::kBirthDay));
      EXPECT_NE(key[0], static_cast<char>(TermKind::kNamePair));
    }
  }
  Open(false);

  // Given them (what `contactpoint upgrade` does), it reads them again: all 32 children.
  size_t children = 0;
  ASSERT_TRUE(store_->AddDayPostings(&children).ok());
  EXPECT_EQ(children, 32u);
  EXPECT_TRUE(store_->HasBirthdayPostings());
  EXPECT_TRUE(store_->HasDayPostings());
  EXPECT_FALSE(Reaches(two_slips));
  EXPECT_TRUE(Reaches({"h1", "Smith", "Oliver", "2016-04-12", "M"}));
  ConsistencyReport after;
  ASSERT_TRUE(store_->CheckConsistency(&after).ok());
  EXPECT_TRUE(after.ok());
  ASSERT_TRUE(store_->AddDayPostings(&children).ok());
  EXPECT_EQ(children, 0u) << "a second run has nothing to do";
  Open(false);
  EXPECT_TRUE(store_->HasDayPostings()) << "the marker is written";
}

// A child's birthday postings are its given, family and former family codes under its
// month and day: they move with a corrected date and go when the child is archived.
TEST_F(FeedTest, BirthdayPostingsFollowTheChildsDate) {
  auto birthday_keys = [&](ChildId id) {
    std::set<std::string> out;
    PostingScanner scanner(store_.get());
    std::vector<std::string> codes;
    for (const char* name : {"Oliver", "Smith"}) {
      PhoneticCodes c = DoubleMetaphone(name);
      codes.push_back(c.primary);
      if (!c.alternate.empty()) codes.push_back(c.alternate);
    }
    for (const auto& code : codes) {
      for (uint16_t slot : {keys::MonthDaySlot(4, 12), keys::MonthDaySlot(5, 12)}) {
        bool complete = false;
        EXPECT_TRUE(scanner
                        .ScanName(
                            TermKind::kBirthDay, code, slot, std::nullopt, 100,
                            [&](const Posting& p) {
                              if (p.id == id) out.insert(code + "@" + std::to_string(slot >> 8));
                            },
                            &complete)
                        .ok());
      }
    }
    return out;
  };
  ASSERT_TRUE(Apply("births", 1, {kOliver}).ok());
  const ChildId oliver = LinkedChild("births", "b1");
  // Oliver ALFR; Smith SM0, and XMT its alternate.
  EXPECT_EQ(birthday_keys(oliver), (std::set<std::string>{"ALFR@4", "SM0@4", "XMT@4"}));
  RowSpec corrected = kOliver;
  corrected.dob = "2015-05-12";
  ASSERT_TRUE(Apply("births", 2, {corrected}).ok());
  EXPECT_EQ(birthday_keys(oliver), (std::set<std::string>{"ALFR@5", "SM0@5", "XMT@5"}));
  ConsistencyReport report;
  ASSERT_TRUE(store_->CheckConsistency(&report).ok());
  EXPECT_TRUE(report.ok());
  auto record = store_->GetRecord(oliver);
  ASSERT_TRUE(record.ok());
  auto due = ArchiveDueFor(*record);
  ASSERT_TRUE(due.has_value());
  ASSERT_TRUE(store_->ArchiveChild(oliver, due->on).ok());
  EXPECT_TRUE(birthday_keys(oliver).empty());
}

// Blocking's date filter (DobPlausible) through CouldBeCandidate, which shares it: the
// child's date against the record's 2015-04-12 (names disagreeing, so only the date can
// make the child a candidate).
TEST(CouldBeCandidateDateTest, PlausibleDatesAreOneDigitOrOneSwapAway) {
  const struct {
    const char* date;
    bool plausible;
  } cases[] = {
      {"2015-04-12", true},   // exact
      {"2015-12-04", true},   // day and month swapped
      {"2016-04-12", true},   // last year digit
      {"2005-04-12", true},   // third year digit
      {"2015-09-12", true},   // last month digit
      {"2015-04-13", true},   // last day digit
      {"2015-04-22", true},   // first day digit
      {"2015-04-21", true},   // day digits transposed
      {"2014-05-12", false},  // two digits (year and month)
      {"2015-05-13", false},  // two digits (month and day)
      {"2016-04-13", false},  // two digits (year and day)
      {"2051-04-12", true},   // the year's last two digits transposed
      {"2105-04-12", true},   // the year's middle digits transposed
      {"2013-04-12", true},   // one year digit
      {"2012-04-15", false},  // two digits apart, not neighbours swapped
      {"2015-04-11", true},
      {"", true},             // no date: either side missing is plausible
  };
  for (const auto& c : cases) {
    FeedRow record = MakeRow({"h1", "Oliver", "Smith", "2015-04-12", "M"});
    FeedRow child = MakeRow({"c1", "Amelia", "Jones", c.date, "F"});
    BlockingProfile r = MakeBlockingProfile(record.record.record, record.record.hidden);
    BlockingProfile k = MakeBlockingProfile(child.record.record, child.record.hidden);
    k.given = r.given;  // one shared code, so that the date decides
    EXPECT_EQ(CouldBeCandidate(r, k), c.plausible) << c.date;
  }
}

TEST_F(MatcherBlockingTest, AChildAtTheRecordsPostcodeIsReachedWhateverItsNames) {
  // The place index, not the name scans: a plausible date at the same postcode.
  EXPECT_TRUE(Reaches({"h1", "Olly", "Brown", "2015-05-12", "M", "1 Elm Road", "LS6 1AA"}));
}


// A candidate is read only as far as it could lift it to `lower`: not at all, its record,
// or its record and hidden fields. In review every candidate is read in full.
class MatcherHiddenReadTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    const std::vector<RowSpec> specs = {
        {"c1", "Amelia", "Whitfield", "2016-03-02", "F", "1 High St", "LS1 4AB", "9434765919"},
        // Against the records below: given name exact, family name and gender disagreeing,
        // the date one digit out: -0.1 from what its posting carries. Its NHS number
        // disagrees (-12), but its digest is the records' own, so its posting cannot show
        // that: only its record does. Postcode and address can add at most 15.
        {"c2", "Amelia", "Okafor", "2016-03-22", "M", "2 Low St", "LS2 2CD", NhsSharingDigest("9434765919")},
        // Found only at the records' postcode: given and family names and gender
        // disagreeing, the date one digit out, and the NHS number, which its posting shows
        // disagreeing: -26.6 from what its posting carries.
        {"c3", "Zoe", "Nowak", "2016-03-22", "M", "3 Other Rd", "LS9 9ZZ", "9434765888"},
    };
    ASSERT_NE(IdentifierDigest("9434765888"), IdentifierDigest("9434765919"));
    std::vector<NewChild> children = AsNewChildren(specs);
    auto ids = store_->InsertChildren(children);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    c1_ = ids->at(0);
    c2_ = ids->at(1);
    c3_ = ids->at(2);
    matcher_ = std::make_unique<Matcher>(store_.get());
  }
  MatchOutcome Match(const RowSpec& spec) {
    SourceRecord rec = MakeRow(spec).record;
    rec.ref.source = "health";
    auto out = matcher_->Match(rec);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : MatchOutcome{};
  }
  static const ScoredCandidate* Find(const MatchOutcome& out, ChildId id) {
    for (const auto& c : out.candidates) {
      if (c.child == id) return &c;
    }
    return nullptr;
  }
  static bool Has(const ScoredCandidate& c, const std::string& field, const std::string& level = "") {
    for (const auto& f : c.fields) {
      if (f.field == field && (level.empty() || f.level == level)) return true;
    }
    return false;
  }
  std::unique_ptr<Matcher> matcher_;
  ChildId c1_ = 0, c2_ = 0, c3_ = 0;
};

TEST_F(MatcherHiddenReadTest, ACandidateIsReadOnlyAsFarAsItCanMatter) {
  MatchOutcome out = Match({"h1", "Amelia", "Whitfield", "2016-03-02", "F", "1 High St", "LS9 9ZZ", "9434765919"});
  EXPECT_EQ(out.decision, MatchDecision::kLink);
  EXPECT_EQ(out.child, c1_);
  const ScoredCandidate* c1 = Find(out, c1_);
  const ScoredCandidate* c2 = Find(out, c2_);
  const ScoredCandidate* c3 = Find(out, c3_);
  ASSERT_NE(c1, nullptr);
  ASSERT_NE(c2, nullptr);
  ASSERT_NE(c3, nullptr);
  // Read in full.
  EXPECT_TRUE(Has(*c1, "postcode", "disagree"));
  EXPECT_TRUE(Has(*c1, "address", "exact"));
  EXPECT_FALSE(Has(*c1, "postcode_address"));
  EXPECT_FALSE(Has(*c1, "record"));
  // Its record read (the NHS number disagrees), its hidden fields not: -12.1 + 15 < 7.
  EXPECT_TRUE(Has(*c2, "nhs_number", "disagree"));
  EXPECT_TRUE(Has(*c2, "postcode_address", "unread"));
  EXPECT_FALSE(Has(*c2, "postcode"));
  EXPECT_NEAR(c2->total, -12.1, 1e-9);
  // Not read at all: what its posting carries, -26.6, plus 15 falls short of 7.
  EXPECT_TRUE(Has(*c3, "record", "unread"));
  EXPECT_FALSE(Has(*c3, "nhs_number"));
  EXPECT_NEAR(c3->total, -26.6, 1e-9);
}

// A posting carries a digest of the child's NHS number: a candidate whose digest differs
// from the record's is scored with its NHS number disagreeing without being read, and
// that is its record's score. A posting written before digests were carried (the same
// child, its postings rewritten in the earlier form) says nothing: its record is read.
TEST_F(MatcherHiddenReadTest, APostingShowingTheNhsNumberDisagreesSparesTheRead) {
  const RowSpec record{"h1", "Amelia", "Whitfield", "2016-03-02", "F", "1 High St", "LS9 9ZZ", "9434765919"};
  std::vector<NewChild> children =
      AsNewChildren({{"c4", "Amelia", "Okafor", "2016-03-22", "M", "2 Low St", "LS2 2CD", "9434765870"}});
  ASSERT_NE(IdentifierDigest("9434765870"), IdentifierDigest("9434765919"));
  auto ids = store_->InsertChildren(children);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  const ChildId c4 = ids->at(0);

  MatchOutcome out = Match(record);
  EXPECT_EQ(out.child, c1_);
  const ScoredCandidate* c = Find(out, c4);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(Has(*c, "record", "unread"));
  EXPECT_NEAR(c->total, -12.1, 1e-9);  // -0.1 from names, date and gender; -12 the NHS number
  FeedRow row = MakeRow(record);
  HiddenFields no_hidden;
  EXPECT_DOUBLE_EQ(c->total, matcher_->Compare(row.record.record, no_hidden, Full(c4)).total);

  // The earlier form: every posting of c4 without its identifier section.
  store_.reset();
  size_t rewritten = 0;
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    auto dump = raw.Dump();
    for (const char* family : {"name_index", "place_index"}) {
      for (const auto& [key, value] : dump[family]) {
        if (key.size() < 8 || DecodeBigEndian64(key.data() + key.size() - 8) != c4 || value.size() < 2) continue;
        const std::string earlier = value.substr(0, 1) + std::string(FeatureView::WithoutIdentifiers(value.substr(1)));
        ASSERT_LT(earlier.size(), value.size());
        raw.Put(family, key, earlier);
        ++rewritten;
      }
    }
  }
  ASSERT_GT(rewritten, 0u);
  Open(false);
  matcher_ = std::make_unique<Matcher>(store_.get());
  out = Match(record);
  EXPECT_EQ(out.child, c1_);
  c = Find(out, c4);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(Has(*c, "record", "unread"));  // -0.1 + 15 could reach 7: its record is read
  EXPECT_TRUE(Has(*c, "nhs_number", "disagree"));
  EXPECT_TRUE(Has(*c, "postcode_address", "unread"));
  EXPECT_NEAR(c->total, -12.1, 1e-9);
}

// A posting's middle names count as the child's record's do: a given name that is one of
// them scores "middle" from the posting alone, for a name of one part or of several. The
// candidates are left unread, so their totals are what their postings carry.
TEST_F(MatcherHiddenReadTest, APostingsMiddleNamesScoreAsTheRecords) {
  std::vector<NewChild> children = AsNewChildren({
      {"c5", "Grace", "Okafor", "2016-03-22", "M", "2 Low St", "LS2 2CD", "9434765870"},
      {"c6", "Grace", "Nowak", "2016-03-22", "M", "3 Low St", "LS2 2CD", "9434765870"},
      {"c7", "Grace", "Adeyemi", "2016-03-22", "M", "4 Low St", "LS2 2CD", "9434765870"},
  });
  children[0].record.middle_names = "Amelia";
  children[1].record.middle_names = "Rose Amelia-Jane";
  children[2].record.middle_names = "Amelie Rose";  // no part is the record's given name
  auto ids = store_->InsertChildren(children);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();

  const RowSpec spec{"h1", "Amelia", "Whitfield", "2016-03-02", "F", "", "", "9434765919"};
  MatchOutcome out = Match(spec);
  FeedRow row = MakeRow(spec);
  const HiddenFields no_hidden;
  const char* given_level[] = {"middle", "middle", "disagree"};
  for (size_t i = 0; i < ids->size(); ++i) {
    const ChildId id = ids->at(i);
    const ScoredCandidate* c = Find(out, id);
    ASSERT_NE(c, nullptr) << id;
    EXPECT_TRUE(Has(*c, "record", "unread")) << id;
    const ScoredCandidate full = matcher_->Compare(row.record.record, no_hidden, Full(id));
    EXPECT_TRUE(Has(full, "given_name", given_level[i])) << id;
    EXPECT_DOUBLE_EQ(c->total, full.total) << id;
  }
}

TEST_F(MatcherHiddenReadTest, ACandidateNotAtTheRecordsPostcodeCanGainOnlyTheDistrict) {
  // With gender disagreeing at -7, c2's posting scores -2.5. At the record's postcode its
  // postcode and address could add 15 (read); elsewhere at most the district's 4 and the
  // address's 5: -2.5 + 9 falls short of 7 (not read). The decision is the same either way.
  MatchWeights w;
  w.gender_disagree = -7;
  Matcher matcher(store_.get(), w);
  auto match = [&matcher](const RowSpec& spec) {
    SourceRecord rec = MakeRow(spec).record;
    rec.ref.source = "health";
    auto out = matcher.Match(rec);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : MatchOutcome{};
  };
  const MatchOutcome elsewhere =
      match({"h1", "Amelia", "Whitfield", "2016-03-02", "F", "1 High St", "LS9 9ZZ", "9434765919"});
  EXPECT_EQ(elsewhere.decision, MatchDecision::kLink);
  EXPECT_EQ(elsewhere.child, c1_);
  const ScoredCandidate* c2 = Find(elsewhere, c2_);
  ASSERT_NE(c2, nullptr);
  EXPECT_TRUE(Has(*c2, "record", "unread"));
  EXPECT_NEAR(c2->total, -2.5, 1e-9);

  const MatchOutcome at_postcode =
      match({"h1", "Amelia", "Whitfield", "2016-03-02", "F", "1 High St", "LS2 2CD", "9434765919"});
  EXPECT_EQ(at_postcode.decision, MatchDecision::kLink);
  EXPECT_EQ(at_postcode.child, c1_);
  c2 = Find(at_postcode, c2_);
  ASSERT_NE(c2, nullptr);
  EXPECT_FALSE(Has(*c2, "record", "unread"));
  EXPECT_TRUE(Has(*c2, "nhs_number", "disagree"));
}

TEST_F(MatcherHiddenReadTest, InReviewEveryCandidateIsOpenedAndScoredInFull) {
  // The date one digit out and the NHS number disagreeing put c1 between the thresholds.
  const RowSpec spec{"h1", "Amelia", "Whitfield", "2016-03-12", "F", "9 Other Rd", "LS9 9ZZ", "9434765900"};
  MatchOutcome out = Match(spec);
  ASSERT_EQ(out.decision, MatchDecision::kReview) << out.reason;
  ASSERT_FALSE(out.candidates.empty());
  EXPECT_EQ(out.candidates[0].child, c1_);
  const ScoredCandidate* c2 = Find(out, c2_);
  ASSERT_NE(c2, nullptr);
  for (const auto& c : out.candidates) {
    EXPECT_FALSE(Has(c, "postcode_address")) << c.child;
    EXPECT_FALSE(Has(c, "record")) << c.child;
  }
  EXPECT_TRUE(Has(*c2, "postcode", "disagree"));
  const ScoredCandidate* c3 = Find(out, c3_);
  ASSERT_NE(c3, nullptr);
  EXPECT_TRUE(Has(*c3, "postcode", "exact"));
  EXPECT_TRUE(Has(*c3, "nhs_number", "disagree"));
  // The same total as a comparison with everything read.
  FeedRow row = MakeRow(spec);
  EXPECT_DOUBLE_EQ(c2->total, matcher_->Compare(row.record.record, row.record.hidden, Full(c2_)).total);
  EXPECT_DOUBLE_EQ(c3->total, matcher_->Compare(row.record.record, row.record.hidden, Full(c3_)).total);
}

TEST_F(MatcherHiddenReadTest, WithoutAPostcodeOrAddressTheLightScoreAloneDecidesWhatIsRead) {
  MatchOutcome out = Match({"h1", "Amelia", "Whitfield", "2016-03-02", "F", "", "", "9434765919"});
  // Nothing hidden can change a total, so only the light score decides what is read: c2's
  // -0.1 is below 7 (not read), and so is nothing else here.
  for (const auto& c : out.candidates) EXPECT_FALSE(Has(c, "postcode_address")) << c.child;
  const ScoredCandidate* c2 = Find(out, c2_);
  ASSERT_NE(c2, nullptr);
  EXPECT_TRUE(Has(*c2, "record", "unread"));
  EXPECT_NEAR(c2->total, -0.1, 1e-9);
}

TEST_F(FeedTest, AChildWithANameLongerThanAPostingKeepsIsAlwaysRead) {
  // A posting keeps 255 bytes of a name, so its score for this child is not the record's:
  // with weights under which the cut name's "phonetic" level sinks the posting's score
  // far below `lower`, the child must still be read and link.
  const std::string family = "Fotheringham" + std::string(290, 'e');
  const RowSpec child{"c1", "Zed", family, "2016-03-02", "M", "1 High St", "LS1 4AB"};
  std::vector<NewChild> children(1);
  FeedRow row = MakeRow(child);
  children[0].record = row.record.record;
  children[0].hidden = row.record.hidden;
  children[0].source = {"births", "c1"};
  children[0].source_payload = row.raw;
  auto ids = store_->InsertChildren(children);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  MatchWeights w;
  w.family_phonetic = -40;
  w.family_typo = -40;
  w.family_disagree = -40;
  Matcher matcher(store_.get(), w);
  SourceRecord rec = MakeRow({"h1", "Zed", family, "2016-03-02", "M", "1 High St", "LS1 4AB"}).record;
  rec.ref.source = "health";
  auto out = matcher.Match(rec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->decision, MatchDecision::kLink) << out->reason;
  EXPECT_EQ(out->child, ids->at(0));
}

// `upgrade` killed before it finished leaves some children with birthday postings and no
// marker. Such a database is matched as one without them; `check` accepts the postings it
// has; a child whose name or date changes meanwhile loses its old ones with its other
// postings (none is left under a date it no longer has); and running `upgrade` again
// finishes the job.
TEST_F(FeedTest, AnInterruptedUpgradeLeavesNoStaleBirthdayPosting) {
  const std::vector<RowSpec> rows = {kOliver,
                                     {"b2", "Amelia", "Jones", "2016-09-03", "F"},
                                     {"b3", "Noah", "Brown", "2014-01-30", "M"},
                                     {"b4", "Isla", "Taylor", "2017-06-21", "F"}};
  ASSERT_TRUE(Apply("births", 1, rows).ok());
  const ChildId oliver = LinkedChild("births", "b1"), noah = LinkedChild("births", "b3"),
                isla = LinkedChild("births", "b4");
  size_t earlier_form = 0;  // kBirthday postings seen by the last call
  auto birthday_postings = [&] {
    store_.reset();
    std::map<std::string, std::string> out;
    earlier_form = 0;
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      auto dump = raw.Dump();
      for (const auto& [key, value] : dump["name_index"]) {
        if (key[0] == static_cast<char>(TermKind::kBirthDay) ||
            key[0] == static_cast<char>(TermKind::kNamePair)) {
          out[key] = value;
        }
        earlier_form += key[0] == static_cast<char>(TermKind::kBirthday);
      }
    }
    Open(false);
    return out;
  };
  const auto complete = birthday_postings();
  // As the upgrade leaves it when killed in a database of the form before (a kBirthday
  // posting beside each birth day one: these children have no middle names, so the codes
  // are the same): Oliver's and Amelia's written, Noah's and Isla's not yet, no marker.
  store_.reset();
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    for (const auto& [key, value] : complete) {
      const ChildId id = DecodeBigEndian64(key.data() + key.size() - 8);
      if (key[0] == static_cast<char>(TermKind::kBirthDay)) {
        raw.Put("name_index", BirthdayKeyOf(key), value);
      }
      if (id == noah || id == isla) raw.Delete("name_index", key);
    }
    raw.Delete("meta", std::string(keys::kMetaDayPostings));
  }
  Open(false);
  ASSERT_TRUE(store_->HasBirthdayPostings());
  ASSERT_FALSE(store_->HasDayPostings());
  ConsistencyReport half;
  ASSERT_TRUE(store_->CheckConsistency(&half).ok());
  EXPECT_TRUE(half.ok()) << (half.problems.empty() ? "" : ProblemKindName(half.problems[0].kind));

  // Oliver's date is corrected before the upgrade is run again.
  RowSpec corrected = kOliver;
  corrected.dob = "2015-05-12";
  ASSERT_TRUE(Apply("births", 2, {corrected}).ok());
  for (const auto& [key, value] : birthday_postings()) {
    EXPECT_NE(DecodeBigEndian64(key.data() + key.size() - 8), oliver) << "left under 12 April";
  }
  EXPECT_GT(earlier_form, 0u) << "the database is still of the form before";
  ConsistencyReport changed;
  ASSERT_TRUE(store_->CheckConsistency(&changed).ok());
  EXPECT_TRUE(changed.ok()) << (changed.problems.empty()
                                    ? ""
                                    : ProblemKindName(changed.problems[0].kind));

  size_t children = 0;
  ASSERT_TRUE(store_->AddDayPostings(&children).ok());
  EXPECT_EQ(children, 4u);
  ConsistencyReport finished;
  ASSERT_TRUE(store_->CheckConsistency(&finished).ok());
  EXPECT_TRUE(finished.ok()) << (finished.problems.empty()
                                     ? ""
                                     : ProblemKindName(finished.problems[0].kind));
  // Every child's as a database made with them has: Oliver's under 12 May.
  auto now = birthday_postings();
  EXPECT_EQ(earlier_form, 0u) << "the upgrade deletes the kBirthday postings";
  size_t olivers = 0;
  for (const auto& [key, value] : now) {
    if (DecodeBigEndian64(key.data() + key.size() - 8) != oliver) {
      EXPECT_EQ(complete.count(key), 1u);
      continue;
    }
    ++olivers;
    if (key[0] == static_cast<char>(TermKind::kBirthDay)) {
      EXPECT_EQ(static_cast<uint8_t>(key[key.size() - 11]), 5) << "the month byte of the slot";
      EXPECT_EQ(static_cast<uint8_t>(key[key.size() - 9]), keys::BirthYearByte(2015))
          << "the year byte";
    } else {
      EXPECT_EQ(static_cast<uint8_t>(key[key.size() - 9]), 5) << "the pair's month byte";
    }
  }
  EXPECT_EQ(olivers, 4u);  // ALFR, SM0, XMT; the pair "ALFR SM0"
  EXPECT_EQ(now.size(), complete.size());
}

// Birth day and name pair postings stand in for a family code's whole birth year: a wide
// code's own year is read as its month and the other days a slip could give (kBirthDay),
// and the children whose names both agree come from the pairs (kNamePair). They must admit
// exactly what the whole year admitted. Namesakes with dates all over three years are
// matched against noisy records in a database with them, then in the same database
// converted to the form before (kBirthday postings, which read the whole year): every
// outcome, candidate and total is the same. The children have no middle names, whose codes
// only the birth day postings carry (the next test).
TEST_F(FeedTest, BirthDayAndNamePairPostingsAdmitWhatTheWholeBirthYearDid) {
  std::mt19937 rng(20261130);
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  const std::vector<std::string> given = {"Oliver", "Olivia", "Jack", "Jake",  "Amelia",
                                          "Emily",  "Noah",   "Isla", "Harry", "Harriet"};
  const std::vector<std::string> family = {"Smith",  "Smyth",    "Jones", "Brown",
                                           "Taylor", "Whitaker", "Okafor"};
  auto date = [&](int year) {
    char buf[16];
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d", year, static_cast<int>(1 + rng() % 12),
                  static_cast<int>(1 + rng() % 28));
    return std::string(buf);
  };
  std::vector<RowSpec> rows;
  for (int i = 0; i < 400; ++i) {
    const int years[] = {2014, 2015, 2016, 2005};
    RowSpec row{"c" + std::to_string(i), pick(given), pick(family),
                rng() % 20 == 0 ? "" : date(years[rng() % 4]), rng() % 2 ? "M" : "F"};
    if (rng() % 8 == 0) row.former = {pick(family)};
    rows.push_back(row);
  }
  std::vector<NewChild> children = AsNewChildren(rows);
  ASSERT_TRUE(store_->InsertChildren(children).ok());
  ASSERT_TRUE(store_->HasDayPostings());

  // Records: a child's names and date with slips (a digit, day and month swapped, names
  // swapped, another given name, a far date in the same year, no date, no family name).
  std::vector<RowSpec> records;
  for (int i = 0; i < 300; ++i) {
    RowSpec r = rows[rng() % rows.size()];
    r.key = "r" + std::to_string(i);
    r.former.clear();
    switch (rng() % 8) {
      case 0:
        if (r.dob.size() == 10) r.dob[9] = static_cast<char>('1' + rng() % 8);  // a day digit
        break;
      case 1:
        if (r.dob.size() == 10)
          r.dob = r.dob.substr(0, 5) + r.dob.substr(8, 2) + "-" + r.dob.substr(5, 2);
        break;
      case 2:
        if (r.dob.size() == 10) r.dob[6] = static_cast<char>('1' + rng() % 9);  // a month digit
        break;
      case 3:
        std::swap(r.given, r.family);
        break;
      case 4:
        r.given = pick(given);
        break;
      case 5:
        if (r.dob.size() == 10) r.dob = date(std::stoi(r.dob.substr(0, 4)));
        break;
      case 6:
        r.dob.clear();
        break;
      case 7:
        r.family.clear();
        break;
    }
    if (r.dob.size() == 10 && !ParseDate(r.dob).ok()) r.dob = rows[0].dob;  // 2015-02-30
    records.push_back(r);
  }
  std::map<ChildId, Date> born;
  for (const auto& c : children) {
    auto link = store_->FindSource("births", c.source.key);
    ASSERT_TRUE(link.ok());
    born[link->child] = c.record.date_of_birth;
  }
  size_t same_year_other_month = 0;
  auto outcomes = [&](bool count) {
    Matcher matcher(store_.get(), {});
    std::vector<std::string> out;
    for (const auto& spec : records) {
      SourceRecord rec = MakeRow(spec).record;
      rec.ref.source = "health";
      auto m = matcher.Match(rec);
      EXPECT_TRUE(m.ok()) << m.status().ToString();
      if (!m.ok()) return out;
      std::string line =
          MatchDecisionName(m->decision) + std::string(" ") + std::to_string(m->child);
      for (const auto& c : m->candidates) {
        char buf[64];
        std::snprintf(buf, sizeof buf, " %llu:%.6f", static_cast<unsigned long long>(c.child),
                      c.total);
        line += buf;
        const Date& d = born[c.child];
        const Date& rd = rec.record.date_of_birth;
        if (count && !rd.empty() && d.year == rd.year && d.month != rd.month)
          ++same_year_other_month;
      }
      out.push_back(line);
    }
    return out;
  };
  const auto with_days = outcomes(true);
  ASSERT_EQ(with_days.size(), records.size());
  // The records reach children born in their year in another month: the days and pairs
  // are what found them.
  EXPECT_GT(same_year_other_month, 100u);

  // The database as the build before wrote it: a kBirthday posting for each birth day
  // posting (no middle names here: the same codes), no name pairs, no marker.
  store_.reset();
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    auto dump = raw.Dump();
    size_t days = 0, pairs = 0;
    for (const auto& [key, value] : dump["name_index"]) {
      if (key[0] == static_cast<char>(TermKind::kBirthDay)) {
        raw.Put("name_index", BirthdayKeyOf(key), value);
        raw.Delete("name_index", key);
        ++days;
      } else if (key[0] == static_cast<char>(TermKind::kNamePair)) {
        raw.Delete("name_index", key);
        ++pairs;
      }
    }
    EXPECT_GT(days, 700u);
    EXPECT_GT(pairs, 350u);
    raw.Delete("meta", std::string(keys::kMetaDayPostings));
  }
  Open(false);
  ASSERT_TRUE(store_->HasBirthdayPostings());
  ASSERT_FALSE(store_->HasDayPostings());
  ConsistencyReport report;
  ASSERT_TRUE(store_->CheckConsistency(&report).ok());
  EXPECT_TRUE(report.ok()) << "the converted database is one the build before could have written";
  const auto whole_years = outcomes(false);
  ASSERT_EQ(whole_years.size(), records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(with_days[i], whole_years[i]) << "record " << i << ": " << records[i].given << " "
                                            << records[i].family << " " << records[i].dob;
  }
}

// Birth day postings carry middle names' codes too (kBirthday postings did not): a child
// whose middle name has the record's family code, born on the record's day in a year one
// digit from its own, is a candidate, as it was when those years' months were read.
TEST_F(FeedTest, BirthDayPostingsCarryMiddleNames) {
  std::vector<NewChild> children = AsNewChildren({{"c1", "Thomas", "Jones", "2016-04-12", "M"}});
  children[0].record.middle_names = "Whitaker";
  ASSERT_TRUE(store_->InsertChildren(children).ok());
  const ChildId thomas = LinkedChild("births", "c1");
  Matcher matcher(store_.get(), {});
  SourceRecord rec = MakeRow({"h1", "Oliver", "Whitaker", "2015-04-12", "M"}).record;
  rec.ref.source = "health";
  auto m = matcher.Match(rec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  ASSERT_EQ(m->candidates.size(), 1u);
  EXPECT_EQ(m->candidates[0].child, thomas);
  // On another day of that year it is not (a date two slips away, names that disagree).
  rec = MakeRow({"h1", "Oliver", "Whitaker", "2015-04-13", "M"}).record;
  rec.ref.source = "health";
  m = matcher.Match(rec);
  ASSERT_TRUE(m.ok()) << m.status().ToString();
  EXPECT_TRUE(m->candidates.empty());
}

}  // namespace
}  // namespace cp::feed_test
