// A shielded child's postings end with a keyed digest of its postcode district
// (keys::kPostingDistrict). Matching leaves unread a shielded namesake its postings show to
// live in another district, when even an agreeing address could not lift it to
// `shield_lower`; every write that moves the child rewrites the digest; `check` accepts
// postings without it (written before it, or by an upgrade) and finds one with another.
#include <functional>

#include "../storage/raw_db_util.h"
#include "feed_test_util.h"
#include "ingest/matcher.h"
#include "storage/check.h"
#include "storage/keys.h"
#include "util/coding.h"

namespace cp::feed_test {
namespace {

const RowSpec kAva{"b1", "Ava",       "Whitfield", "2016-03-02",
                   "F",  "1 High St", "LS1 4AB",   "9434765919"};

class ShieldDistrictTest : public FeedTest {
 protected:
  void SetUp() override {
    FeedTest::SetUp();
    ASSERT_TRUE(
        Apply("births", 1,
              {kAva, RowSpec{"b2", "Zoe", "Nowak", "2015-07-22", "F", "3 Mill Lane", "LS9 9ZZ"}})
            .ok());
    ava_ = LinkedChild("births", "b1");
    zoe_ = LinkedChild("births", "b2");
    ASSERT_NE(ava_, 0u);
    ASSERT_TRUE(store_->SetShield(ava_, true, "la_leeds", "fleeing violence").ok());
  }

  // Every feature-bearing posting (name and place index) of `child`, as stored.
  std::vector<std::string> PostingValues(ChildId child) {
    store_.reset();
    std::vector<std::string> out;
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      auto dump = raw.Dump();
      for (const char* family : {"name_index", "place_index"}) {
        for (const auto& [key, value] : dump[family]) {
          if (value.size() >= 2 && DecodeBigEndian64(key.data() + key.size() - 8) == child)
            out.push_back(value);
        }
      }
    }
    Open(false);
    return out;
  }
  // Closes the store, edits Ava's feature-bearing postings through raw RocksDB, reopens.
  void RewriteAva(const std::function<bool(std::string*)>& edit) {
    store_.reset();
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      auto dump = raw.Dump();
      for (auto [key, value] : dump["name_index"]) {
        if (value.size() < 2 || DecodeBigEndian64(key.data() + key.size() - 8) != ava_) continue;
        if (edit(&value)) raw.Put("name_index", key, value);
      }
    }
    Open(false);
  }
  ConsistencyReport Check() {
    ConsistencyReport report;
    Status s = store_->CheckConsistency(&report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    for (const auto& p : report.problems)
      ADD_FAILURE() << ProblemKindName(p.kind) << " child " << p.child;
    return report;
  }
  MatchOutcome Match(const RowSpec& spec) {
    Matcher matcher(store_.get());
    SourceRecord rec = MakeRow(spec).record;
    rec.ref.source = "health";
    auto out = matcher.Match(rec);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : MatchOutcome{};
  }
  const ScoredCandidate* Ava(const MatchOutcome& out) const {
    for (const auto& c : out.candidates) {
      if (c.child == ava_) return &c;
    }
    return nullptr;
  }
  static bool Has(const ScoredCandidate& c, const std::string& field, const std::string& level) {
    for (const auto& f : c.fields) {
      if (f.field == field && f.level == level) return true;
    }
    return false;
  }
  // Ava's given name only (+6.5); family name, date and gender disagreeing (-6, -6, -4.6):
  // -10.1 from her postings. An address that agreed could add 5, a postcode in her
  // district 10 more.
  static RowSpec WeakRecord(std::string key, std::string postcode) {
    return RowSpec{std::move(key),     "Ava", "Okafor", "2011-08-14", "M", "5 Low St",
                   std::move(postcode)};
  }
  // A postcode whose district is not LS1 but whose digest is LS1's.
  // The digest is keyed by the database's own key, so which district shares LS1's byte
  // differs from one test run to the next. A thousand districts missed it one run in ~50
  // ((255/256)^990); every two-letter area's 99 districts (~67,000) miss it never.
  std::string PostcodeSharingLs1sDigest() {
    const auto ls1 = store_->DistrictDigest("LS1 4AB");
    for (char a = 'A'; a <= 'Z'; ++a) {
      for (char b = 'A'; b <= 'Z'; ++b) {
        for (int n = 1; n <= 99; ++n) {
          const std::string postcode = std::string{a, b} + std::to_string(n) + " 1AA";
          if (postcode.starts_with("LS")) continue;
          const auto digest = store_->DistrictDigest(postcode);
          if (digest && digest == ls1) return postcode;
        }
      }
    }
    return "";
  }

  ChildId ava_ = 0, zoe_ = 0;
};

TEST_F(ShieldDistrictTest, AShieldedChildsPostingsEndWithItsDistrictsDigest) {
  const auto ls1 = store_->DistrictDigest("LS1 4AB");
  ASSERT_TRUE(ls1.has_value());
  EXPECT_EQ(store_->DistrictDigest("LS1 9ZZ"), ls1) << "one district, one digest";
  EXPECT_FALSE(store_->DistrictDigest("").has_value());
  EXPECT_FALSE(store_->DistrictDigest("not a postcode").has_value());
  const auto ava = PostingValues(ava_);
  ASSERT_GT(ava.size(), 4u);
  for (const auto& v : ava) {
    EXPECT_EQ(static_cast<uint8_t>(v[0]), keys::kPostingShielded | keys::kPostingDistrict);
    EXPECT_EQ(static_cast<uint8_t>(v.back()), *ls1);
  }
  for (const auto& v : PostingValues(zoe_))
    EXPECT_EQ(v[0], 0) << "an unshielded child's postings carry none";
  EXPECT_TRUE(Check().ok());

  // Lifting the shield takes the digest off.
  ASSERT_TRUE(store_->SetShield(ava_, false, "la_leeds", "safe now").ok());
  for (const auto& v : PostingValues(ava_)) EXPECT_EQ(v[0], 0);
  EXPECT_TRUE(Check().ok());
}

TEST_F(ShieldDistrictTest, ANamesakeInAnotherDistrictIsLeftUnreadWhenNothingHiddenCouldLiftIt) {
  // In another district: -10.1 + 5 is below 0, so her hidden fields cannot matter.
  MatchOutcome elsewhere = Match(WeakRecord("h1", "HX1 1AA"));
  EXPECT_EQ(elsewhere.decision, MatchDecision::kNew);
  const ScoredCandidate* c = Ava(elsewhere);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(Has(*c, "record", "unread"));
  EXPECT_NEAR(c->total, -10.1, 1e-9);
  // In her district: -10.1 + 15 could reach 0, so she is read in full.
  MatchOutcome same_district = Match(WeakRecord("h2", "LS1 9ZZ"));
  EXPECT_EQ(same_district.decision, MatchDecision::kNew);
  c = Ava(same_district);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(Has(*c, "record", "unread"));
  EXPECT_TRUE(Has(*c, "postcode", "district"));
  EXPECT_NEAR(c->total, -6.1, 1e-9);
  // Elsewhere, but closer: both names agreeing and the date not (+6.5, +12, -6): read, and
  // the record waits in review, shielded, as it did before postings carried districts.
  MatchOutcome near =
      Match(RowSpec{"h3", "Ava", "Whitfield", "2011-08-14", "F", "5 Low St", "HX1 1AA"});
  EXPECT_EQ(near.decision, MatchDecision::kReview);
  EXPECT_TRUE(near.shielded);
  c = Ava(near);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(Has(*c, "postcode", "disagree"));
}

TEST_F(ShieldDistrictTest, ADistrictSharingTheDigestStillHasTheNamesakeRead) {
  const std::string postcode = PostcodeSharingLs1sDigest();
  ASSERT_FALSE(postcode.empty()) << "no district shares LS1's digest";
  MatchOutcome out = Match(WeakRecord("h1", postcode));
  const ScoredCandidate* c = Ava(out);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(Has(*c, "record", "unread"));
  EXPECT_TRUE(Has(*c, "postcode", "disagree"));
}

TEST_F(ShieldDistrictTest, AShieldedChildThatMovesHasEveryPostingRewritten) {
  // Her own source moves her to Halifax; her names stay as they were.
  RowSpec moved = kAva;
  moved.address = "7 New Road";
  moved.postcode = "HX1 1AA";
  ASSERT_TRUE(Apply("births", 2, {moved}).ok());
  ASSERT_EQ(LinkedChild("births", "b1"), ava_);
  const auto hx1 = store_->DistrictDigest("HX1 1AA");
  for (const auto& v : PostingValues(ava_)) EXPECT_EQ(static_cast<uint8_t>(v.back()), *hx1);
  EXPECT_TRUE(Check().ok());
  // A weak record in Halifax now reads her (her address could lift her); one in Leeds no
  // longer does.
  const MatchOutcome in_halifax = Match(WeakRecord("h1", "HX1 2BB"));
  const ScoredCandidate* c = Ava(in_halifax);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(Has(*c, "record", "unread"));
  EXPECT_TRUE(Has(*c, "postcode", "district"));
  const MatchOutcome in_leeds = Match(WeakRecord("h2", "LS1 9ZZ"));
  c = Ava(in_leeds);
  ASSERT_NE(c, nullptr);
  EXPECT_TRUE(Has(*c, "record", "unread"));

  // A move within her district rewrites nothing the digest depends on.
  moved.postcode = "HX1 3CC";
  ASSERT_TRUE(Apply("births", 3, {moved}).ok());
  for (const auto& v : PostingValues(ava_)) EXPECT_EQ(static_cast<uint8_t>(v.back()), *hx1);
  EXPECT_TRUE(Check().ok());
}

TEST_F(ShieldDistrictTest, PostingsWithoutTheDigestPassTheCheckAndSayNothing) {
  size_t rewritten = 0;
  RewriteAva([&](std::string* value) {
    if (!(static_cast<uint8_t>((*value)[0]) & keys::kPostingDistrict)) return false;
    (*value)[0] = static_cast<char>(static_cast<uint8_t>((*value)[0]) & ~keys::kPostingDistrict);
    value->pop_back();
    ++rewritten;
    return true;
  });
  EXPECT_GT(rewritten, 4u);
  EXPECT_TRUE(Check().ok());
  // Where she lives is unknown from them: read.
  const MatchOutcome out = Match(WeakRecord("h1", "HX1 1AA"));
  const ScoredCandidate* c = Ava(out);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(Has(*c, "record", "unread"));
}

// A database whose shielded children's postings lack the digest (written before it)
// gets it from `upgrade` (ChildStore::AddShieldedDistricts): the postings become exactly
// what a shield set today writes; a second run has nothing to do.
TEST_F(ShieldDistrictTest, AnUpgradeGivesShieldedChildrenTheirDigests) {
  const auto today = PostingValues(ava_);
  RewriteAva([&](std::string* value) {
    if (!(static_cast<uint8_t>((*value)[0]) & keys::kPostingDistrict)) return false;
    (*value)[0] = static_cast<char>(static_cast<uint8_t>((*value)[0]) & ~keys::kPostingDistrict);
    value->pop_back();
    return true;
  });
  ASSERT_NE(PostingValues(ava_), today);
  size_t children = 0;
  ASSERT_TRUE(store_->AddShieldedDistricts(&children).ok());
  EXPECT_EQ(children, 1u);
  EXPECT_EQ(PostingValues(ava_), today);
  EXPECT_TRUE(Check().ok());
  ASSERT_TRUE(store_->AddShieldedDistricts(&children).ok());
  EXPECT_EQ(children, 0u);
}

TEST_F(ShieldDistrictTest, APostingWithAnotherDistrictsDigestIsFound) {
  bool changed = false;
  RewriteAva([&](std::string* value) {
    if (changed) return false;
    value->back() = static_cast<char>(value->back() ^ 1);
    changed = true;
    return true;
  });
  ASSERT_TRUE(changed);
  ConsistencyReport report;
  ASSERT_TRUE(store_->CheckConsistency(&report).ok());
  ASSERT_EQ(report.problems.size(), 1u);
  EXPECT_EQ(report.problems[0].kind, ProblemKind::kPostingNotFromRecord);
  EXPECT_EQ(report.problems[0].child, ava_);
}

}  // namespace
}  // namespace cp::feed_test
