// Feed batches: sequence, idempotence, pause, linking, best view, review, withdrawal.
#include <cmath>
#include <map>

#include "../storage/raw_db_util.h"
#include "feed_test_util.h"
#include "storage/check.h"
#include "util/coding.h"

namespace cp::feed_test {
namespace {

const RowSpec kOlivia{"b1", "Olivia", "Smith", "2016-03-02", "F", "1 High St", "LS1 4AB"};
const RowSpec kWilliam{"b2", "William", "Jones", "2015-07-09", "M", "2 Low Rd", "LS2 7EF"};
const RowSpec kAmelia{"b3", "Amelia", "Okonkwo", "2017-01-20", "F", "3 Mill Lane", "LS3 1AA"};

TEST_F(FeedTest, NewRecordsBecomeChildrenWithProvenance) {
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 1, {kOlivia, kWilliam, kAmelia}, &r).ok());
  EXPECT_EQ(r.counts.created, 3u);
  EXPECT_EQ(Children(), 3u);
  ChildView v = Full(LinkedChild("births", "b1"));
  EXPECT_EQ(v.record.given_name, "Olivia");
  EXPECT_EQ(v.hidden->postcode, "LS1 4AB");
  EXPECT_NE(std::find(v.record.provenance.begin(), v.record.provenance.end(), FieldSource{"date_of_birth", "births"}),
            v.record.provenance.end());
  auto state = store_->GetFeedState("births");
  EXPECT_EQ(state->last_batch, 1u);
  EXPECT_EQ(state->last_counts.created, 3u);
  EXPECT_EQ(state->open_batch, 0u);
}

TEST_F(FeedTest, ResentBatchChangesNothingAndSaysSo) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia, kWilliam}).ok());
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 1, {kOlivia, kWilliam, kAmelia}, &r).ok());
  EXPECT_TRUE(r.already_applied);
  EXPECT_EQ(Children(), 2u);
}

TEST_F(FeedTest, GapAndBatchZeroAreRefusedAndChangeNothing) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  Status gap = Apply("births", 3, {kWilliam});
  EXPECT_TRUE(gap.IsInvalidArgument());
  EXPECT_NE(gap.message().find("next batch is 2"), std::string::npos) << gap.message();
  EXPECT_TRUE(Apply("births", 0, {kWilliam}).IsInvalidArgument());
  EXPECT_TRUE(Apply("health", 2, {kWilliam}).IsInvalidArgument());
  EXPECT_EQ(Children(), 1u);
  EXPECT_TRUE(Apply("births", 2, {kWilliam}).ok());
}

TEST_F(FeedTest, PausedSourceIsRefusedUntilResumed) {
  auto state = *store_->GetFeedState("births");
  state.paused = true;
  ASSERT_TRUE(store_->PutFeedState(state).ok());
  Status s = Apply("births", 1, {kOlivia});
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(s.message().find("paused"), std::string::npos);
  EXPECT_EQ(Children(), 0u);
  EXPECT_TRUE(Apply("health", 1, {kWilliam}).ok()) << "pausing one source leaves the others running";
  state.paused = false;
  ASSERT_TRUE(store_->PutFeedState(state).ok());
  EXPECT_TRUE(Apply("births", 1, {kOlivia}).ok());
}

TEST_F(FeedTest, UnchangedRecordIsCountedAndChangesNothing) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  const ChildId id = LinkedChild("births", "b1");
  const ChildView before = Full(id);
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 2, {kOlivia}, &r).ok());
  EXPECT_EQ(r.counts.unchanged, 1u);
  EXPECT_EQ(r.counts.updated, 0u);
  EXPECT_EQ(Full(id).record, before.record);
}

TEST_F(FeedTest, ChangedRecordUpdatesChildAndItsPostcodePosting) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  const ChildId id = LinkedChild("births", "b1");
  RowSpec moved = kOlivia;
  moved.address = "77 Park Row";
  moved.postcode = "LS7 3QQ";
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 2, {moved}, &r).ok());
  EXPECT_EQ(r.counts.updated, 1u);
  EXPECT_EQ(Full(id).hidden->postcode, "LS7 3QQ");
  EXPECT_TRUE(PlaceHits("LS1 4AB").empty()) << "the old place posting is gone";
  EXPECT_EQ(PlaceHits("LS7 3QQ"), std::vector<ChildId>{id});
  EXPECT_EQ(Children(), 1u);
}

// An update that changes neither names, date, gender, identifiers nor shield leaves the
// name postings as they are (the update compares only the other entries); the place
// posting it writes carries the child's features, as any other. One that changes a name
// rewrites the name postings. `check` agrees after each.
TEST_F(FeedTest, AnUpdateRewritesTheNamePostingsOnlyWhenANameOrTheDateChanges) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  const ChildId id = LinkedChild("births", "b1");
  auto index = [&](const std::string& family) {
    store_.reset();
    std::map<std::string, std::string> out;
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      out = raw.Dump()[family];
    }
    Open(false);
    return out;
  };
  auto consistent = [&] {
    ConsistencyReport report;
    EXPECT_TRUE(store_->CheckConsistency(&report).ok());
    EXPECT_TRUE(report.ok()) << (report.problems.empty()
                                     ? ""
                                     : ProblemKindName(report.problems[0].kind));
  };
  const auto names = index("name_index");
  const auto places = index("place_index");
  ASSERT_EQ(places.size(), 1u);
  RowSpec moved = kOlivia;
  moved.address = "77 Park Row";
  moved.postcode = "LS7 3QQ";
  moved.gp = "B86001";
  ASSERT_TRUE(Apply("births", 2, {moved}).ok());
  consistent();
  EXPECT_EQ(index("name_index"), names);
  const auto moved_places = index("place_index");
  ASSERT_EQ(moved_places.size(), 1u);
  EXPECT_NE(moved_places.begin()->first, places.begin()->first);
  EXPECT_EQ(moved_places.begin()->second, places.begin()->second) << "the same features";

  RowSpec renamed = moved;
  renamed.given = "Olive";
  ASSERT_TRUE(Apply("births", 3, {renamed}).ok());
  consistent();
  const auto renamed_names = index("name_index");
  EXPECT_NE(renamed_names, names);
  EXPECT_NE(index("place_index").begin()->second, places.begin()->second) << "new features";
  EXPECT_EQ(Full(id).record.given_name, "Olive");
}

TEST_F(FeedTest, SecondSourceLinksAndFieldRulesPickTheAuthoritativeSource) {
  ASSERT_TRUE(Apply("births", 1, {kWilliam}).ok());
  // Health knows him as Bill, with day and month swapped, a GP and a new address.
  RowSpec bill{"h2", "Bill", "Jones", "2015-09-07", "M", "9 New St", "LS9 9ZZ"};
  bill.gp = "Dr Patel";
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 1, {bill}, &r).ok());
  EXPECT_EQ(r.counts.linked, 1u);
  ASSERT_EQ(Children(), 1u);
  ChildView v = Full(LinkedChild("health", "h2"));
  EXPECT_EQ(v.record.id, LinkedChild("births", "b2"));
  EXPECT_EQ(v.record.given_name, "William") << "births is authoritative for the given name";
  EXPECT_EQ(v.record.date_of_birth.ToString(), "2015-07-09") << "births is authoritative for the date of birth";
  EXPECT_EQ(v.hidden->postcode, "LS9 9ZZ") << "the most recent address wins";
  ASSERT_EQ(v.hidden->services.size(), 1u);
  EXPECT_EQ(v.hidden->services[0].name, "Dr Patel");
  EXPECT_EQ(v.record.sources.size(), 2u);
  auto provenance = [&](const std::string& f) {
    for (const auto& p : v.record.provenance) {
      if (p.field == f) return p.source;
    }
    return std::string();
  };
  EXPECT_EQ(provenance("date_of_birth"), "births");
  EXPECT_EQ(provenance("address"), "health");
  EXPECT_EQ(provenance("gp_practice"), "health");
}

TEST_F(FeedTest, AdoptedNameLinksAndKeepsTheBirthNameSearchable) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  RowSpec adopted{"la1", "Olivia", "Taylor", "2016-03-02", "F", "5 Elm Close", "M1 1AE"};
  adopted.former = {"Smith"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("la_leeds", 1, {adopted}, &r).ok());
  EXPECT_EQ(r.counts.linked, 1u) << (reports_.empty() ? "" : reports_[0]);
  ChildView v = Full(LinkedChild("births", "b1"));
  EXPECT_EQ(v.record.family_name, "Taylor");
  EXPECT_EQ(v.record.former_family_names, std::vector<std::string>{"Smith"});
}

TEST_F(FeedTest, BetweenTheThresholdsWaitsInReviewAndReviewerDecides) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  // Same names and postcode, another address, a date of birth that is wrong beyond a swap
  // or one digit.
  RowSpec doubtful{"s1", "Olivia", "Smith", "2014-11-25", "F", "8 Mill Rd", "LS1 4AB"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("school_census", 1, {doubtful}, &r).ok());
  EXPECT_EQ(r.counts.review, 1u);
  EXPECT_EQ(Children(), 1u);
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0].shielded);
  EXPECT_TRUE(items[0].payload.empty()) << "a listing carries no payload";

  FeedApplier applier(store_.get(), {});
  FeedCounts counts;
  ASSERT_TRUE(applier.ResolveReview(items[0].id, 0, &counts).ok());
  EXPECT_EQ(Children(), 2u);
  items.clear();
  ASSERT_TRUE(store_->ListReview(&items).ok());
  EXPECT_TRUE(items.empty());
  std::vector<PairDecision> decisions;
  ASSERT_TRUE(store_->GetDecisions({"school_census", "s1"}, &decisions).ok());
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_FALSE(decisions[0].same);
  EXPECT_EQ(decisions[0].child, LinkedChild("births", "b1"));
  EXPECT_TRUE(applier.ResolveReview(items.empty() ? 99 : items[0].id, 0, &counts).IsNotFound());
}

TEST_F(FeedTest, ReviewerLinkIsRememberedAndUpdatesFollow) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  RowSpec doubtful{"s1", "Olivia", "Smith", "2014-11-25", "F", "8 Mill Rd", "LS1 4AB"};
  ASSERT_TRUE(Apply("school_census", 1, {doubtful}).ok());
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  ASSERT_EQ(items.size(), 1u);
  FeedApplier applier(store_.get(), {});
  FeedCounts counts;
  const ChildId olivia = LinkedChild("births", "b1");
  ASSERT_TRUE(applier.ResolveReview(items[0].id, olivia, &counts).ok());
  EXPECT_EQ(LinkedChild("school_census", "s1"), olivia);
  doubtful.school = "Hillside Primary";
  FeedBatchResult r;
  ASSERT_TRUE(Apply("school_census", 2, {doubtful}, &r).ok());
  EXPECT_EQ(r.counts.updated, 1u);
  EXPECT_EQ(r.counts.review, 0u) << "a decided pair never comes back to the queue";
  EXPECT_EQ(Full(olivia).hidden->services.at(0).name, "Hillside Primary");
}

TEST_F(FeedTest, RecordResentWhileInReviewReplacesItsItem) {
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  RowSpec doubtful{"s1", "Olivia", "Smith", "2014-11-25", "F", "8 Mill Rd", "LS1 4AB"};
  ASSERT_TRUE(Apply("school_census", 1, {doubtful}).ok());
  doubtful.school = "Hillside Primary";
  ASSERT_TRUE(Apply("school_census", 2, {doubtful}).ok());
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  EXPECT_EQ(items.size(), 1u) << "one item per source record";
}

TEST_F(FeedTest, WithdrawnRecordLeavesTheOtherSourcesView) {
  ASSERT_TRUE(Apply("births", 1, {kWilliam}).ok());
  RowSpec bill{"h2", "Bill", "Jones", "2015-07-09", "M", "9 New St", "LS9 9ZZ"};
  ASSERT_TRUE(Apply("health", 1, {bill}).ok());
  const ChildId id = LinkedChild("births", "b2");
  ASSERT_EQ(Full(id).hidden->postcode, "LS9 9ZZ");
  RowSpec gone = bill;
  gone.withdraw = true;
  FeedBatchResult r;
  RowSpec never_sent{"h404", "", "", "", ""};
  never_sent.withdraw = true;
  ASSERT_TRUE(Apply("health", 2, {gone, never_sent}, &r).ok());
  EXPECT_EQ(r.counts.withdrawn, 1u);
  EXPECT_EQ(r.counts.rejected, 1u) << "withdrawing a record never sent";
  ASSERT_EQ(reports_.size(), 1u);
  EXPECT_NE(reports_[0].find("not held"), std::string::npos);
  EXPECT_EQ(LinkedChild("health", "h2"), 0u);
  ChildView v = Full(id);
  EXPECT_EQ(v.hidden->postcode, "LS2 7EF") << "the view falls back to what births says";
  EXPECT_EQ(v.record.sources, (std::vector<SourceRef>{{"births", "b2"}}));
  EXPECT_TRUE(PlaceHits("LS9 9ZZ").empty());
}

// An import stores no copy of the record beside the child (the child is that copy) until
// a change to the child: the copy must be written out first, or what the source said is
// lost to every later best view.
TEST_F(FeedTest, ImportedRecordIsWhatItsSourceSaidThroughLaterChanges) {
  std::vector<NewChild> imported(2);
  for (size_t i = 0; i < 2; ++i) {
    FeedRow row = MakeRow(i == 0 ? kWilliam : kAmelia);
    imported[i].record = row.record.record;
    imported[i].hidden = row.record.hidden;
    imported[i].source = {"births", row.record.ref.key};
    imported[i].source_payload = row.raw;
  }
  auto ids = store_->InsertChildren(imported);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  const ChildId william = (*ids)[0], amelia = (*ids)[1];
  const Clearance matching = Clearance::Elevated(Clearance::Level::kMatching, "test", "test");
  auto said = [&](const std::string& key) {
    auto r = store_->GetSourceRecord({"births", key}, matching);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->hidden.postcode : std::string("(unreadable)");
  };
  EXPECT_EQ(said("b2"), "LS2 7EF");
  EXPECT_EQ(store_->GetSourceRecord({"births", "b2"}, Clearance::Ordinary()).status().code(), Status::Code::kPermissionDenied);

  // A later source moves William: the child changes, what births said does not.
  RowSpec bill{"h2", "Bill", "Jones", "2015-07-09", "M", "9 New St", "LS9 9ZZ"};
  ASSERT_TRUE(Apply("health", 1, {bill}).ok());
  ASSERT_EQ(LinkedChild("health", "h2"), william);
  ASSERT_EQ(Full(william).hidden->postcode, "LS9 9ZZ");
  EXPECT_EQ(said("b2"), "LS2 7EF");
  bill.withdraw = true;
  ASSERT_TRUE(Apply("health", 2, {bill}).ok());
  EXPECT_EQ(Full(william).hidden->postcode, "LS2 7EF") << "the view falls back to what births said";

  // Merged away, Amelia's record still says what births said, and unmerges back whole.
  FeedApplier applier(store_.get(), {});
  ASSERT_TRUE(applier.Merge(william, amelia).ok());
  EXPECT_EQ(said("b3"), "LS3 1AA");
  auto back = applier.Unmerge(william, {"births", "b3"});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ChildView v = Full(*back);
  EXPECT_EQ(v.record.given_name, "Amelia");
  EXPECT_EQ(v.hidden->postcode, "LS3 1AA");
  EXPECT_EQ(Full(william).hidden->postcode, "LS2 7EF");
}

TEST_F(FeedTest, StoredSettingsAreAllOrNothingAndSurviveReopening) {
  auto defaults = StoredFeedOptions(*store_);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(defaults->weights.upper, MatchWeights{}.upper);
  // Good rules with bad weights: neither is stored.
  Status s = StoreFeedSettings(store_.get(), std::string("address = health, births\n"), std::string("upper = x\n"));
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(store_->GetSetting(kRulesSetting).status().IsNotFound());
  ASSERT_TRUE(StoreFeedSettings(store_.get(), std::string("address = health, births\n"), std::string("upper = 21\n")).ok());
  Open(false);
  auto stored = StoredFeedOptions(*store_);
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ(stored->weights.upper, 21);
  EXPECT_EQ(stored->weights.lower, MatchWeights{}.lower);
  EXPECT_EQ(stored->rules.For("address"), (std::vector<std::string>{"health", "births"}));
  // Weights alone leave the stored rules as they were.
  ASSERT_TRUE(StoreFeedSettings(store_.get(), std::nullopt, std::string("upper = 30\n")).ok());
  stored = StoredFeedOptions(*store_);
  EXPECT_EQ(stored->weights.upper, 30);
  EXPECT_EQ(stored->rules.For("address"), (std::vector<std::string>{"health", "births"}));
}

// The shielded threshold sits at or below `lower`: given above it, it is refused; a `lower`
// set below its default, with no shielded threshold given, takes it along.
TEST(MatchWeightsTest, TheShieldedThresholdIsNeverAboveLower) {
  auto w = ParseMatchWeights("shield_lower = 3\n");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->shield_lower, 3);
  w = ParseMatchWeights("lower = -4\n");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->shield_lower, -4);
  w = ParseMatchWeights("lower = -4\nshield_lower = -9\n");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->shield_lower, -9);
  w = ParseMatchWeights("shield_lower = 8\n");
  ASSERT_FALSE(w.ok());
  EXPECT_EQ(w.status().message(), "weights: shield_lower is above lower");
  EXPECT_FALSE(ParseMatchWeights("lower = 2\nshield_lower = 2.5\n").ok());
}

TEST_F(FeedTest, TwinsDoNotLink) {
  RowSpec twin1{"b1", "Olivia", "Smith", "2016-03-02", "F", "1 High St", "LS1 4AB"};
  RowSpec twin2{"b2", "Sophie", "Smith", "2016-03-02", "F", "1 High St", "LS1 4AB"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 1, {twin1, twin2}, &r).ok());
  EXPECT_EQ(r.counts.linked, 0u);
  EXPECT_NE(LinkedChild("births", "b1"), LinkedChild("births", "b2") ) ;
}

TEST_F(FeedTest, DisagreeingNhsNumberKeepsNamesakesApart) {
  RowSpec a{"b1", "Olivia", "Smith", "2016-03-02", "F", "", "", "9434765919"};
  RowSpec b{"h1", "Olivia", "Smith", "2016-03-02", "F", "", "", "4010232137"};
  ASSERT_TRUE(Apply("births", 1, {a}).ok());
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 1, {b}, &r).ok());
  EXPECT_EQ(r.counts.linked, 0u);
}

TEST_F(FeedTest, AgreeingNhsNumberLinksThroughNameNoise) {
  RowSpec a{"b1", "Olivia", "Smith", "2016-03-02", "F", "", "", "9434765919"};
  RowSpec b{"h1", "Livvy", "Smyth-Jones", "2016-02-03", "F", "", "", "9434765919"};
  ASSERT_TRUE(Apply("births", 1, {a}).ok());
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 1, {b}, &r).ok());
  EXPECT_EQ(r.counts.linked, 1u);
  EXPECT_EQ(Children(), 1u);
}

TEST_F(FeedTest, BestViewRulesParseAndRefuseUnknownFields) {
  auto rules = BestViewRules::Parse("# comment\naddress = la_leeds, health\n\ngender=\n");
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  EXPECT_EQ(rules->For("address"), (std::vector<std::string>{"la_leeds", "health"}));
  EXPECT_TRUE(rules->For("gender").empty());
  EXPECT_EQ(rules->For("date_of_birth"), std::vector<std::string>{"births"}) << "defaults stay";
  auto bad = BestViewRules::Parse("address = x\nshoe_size = births\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 2"), std::string::npos);
  EXPECT_FALSE(BestViewRules::Parse("address x").ok());
}

TEST_F(FeedTest, ConfiguredRulePrefersTheNamedSource) {
  FeedOptions options;
  options.rules = *BestViewRules::Parse("address = la_leeds\n");
  RowSpec la{"l1", "Olivia", "Smith", "2016-03-02", "F", "1 High St", "LS1 4AB"};
  ASSERT_TRUE(Apply("la_leeds", 1, {la}, nullptr, options).ok());
  RowSpec health{"h1", "Olivia", "Smith", "2016-03-02", "F", "9 New St", "LS9 9ZZ"};
  ASSERT_TRUE(Apply("health", 1, {health}, nullptr, options).ok());
  EXPECT_EQ(Full(LinkedChild("health", "h1")).hidden->postcode, "LS1 4AB");
}

// A review payload as the queue held it before 2026-12-01 (encoding 0x01: every length
// and number 8 bytes big-endian, totals and weights offset by 2^40 thousandths).
std::string PayloadV1(const ReviewPayload& p) {
  auto str = [](std::string* out, std::string_view s) {
    PutBigEndian64(out, s.size());
    out->append(s);
  };
  auto milli = [](double v) {
    return static_cast<uint64_t>(std::llround(v * 1000) + (int64_t{1} << 40));
  };
  std::string out(1, 0x01);
  str(&out, EncodeSourceRecord(p.row.record.record, p.row.record.hidden, p.row.record.seq));
  str(&out, p.row.record.ref.source);
  str(&out, p.row.record.ref.key);
  str(&out, p.row.raw);
  PutBigEndian64(&out, p.row.line);
  PutBigEndian64(&out, static_cast<uint64_t>(p.outcome.decision));
  PutBigEndian64(&out, p.outcome.shielded ? 1 : 0);
  str(&out, p.outcome.reason);
  PutBigEndian64(&out, p.outcome.candidates.size());
  for (const auto& c : p.outcome.candidates) {
    PutBigEndian64(&out, c.child);
    PutBigEndian64(&out, (c.shielded ? 1 : 0) | (c.identifier_agrees ? 2 : 0) |
                             (c.names_disagree ? 4 : 0) | (c.given_disagrees ? 8 : 0) |
                             (c.dob_disagrees ? 16 : 0));
    PutBigEndian64(&out, milli(c.total));
    PutBigEndian64(&out, c.fields.size());
    for (const auto& f : c.fields) {
      str(&out, f.field);
      str(&out, f.level);
      PutBigEndian64(&out, milli(f.weight));
    }
  }
  return out;
}

// A queued shielded record's candidates: many, each with the fields Compare lists.
ReviewPayload SamplePayload() {
  ReviewPayload p;
  p.row = MakeRow(kOlivia);
  p.row.record.ref.source = "births";
  p.row.line = 70000;
  p.outcome.decision = MatchDecision::kReview;
  p.outcome.shielded = true;
  p.outcome.reason = "why";
  for (uint64_t i = 0; i < 3; ++i) {
    ScoredCandidate c;
    c.child = 7 + i * 1000000;
    c.shielded = i != 1;
    c.identifier_agrees = i == 0;
    c.names_disagree = i == 2;
    c.given_disagrees = i == 2;
    c.dob_disagrees = i != 0;
    c.total = i == 0 ? -3.25 : 12.781;
    c.fields = {{"given_name", i == 2 ? "disagree" : "exact", i == 2 ? -8 : 6.5},
                {"family_name", "exact", 11.994},
                {"date_of_birth", "one_digit", 4},
                {"gender", "agree", 1},
                {"postcode", "disagree", -2},
                {"nhs_number", "disagree", -12}};
    p.outcome.candidates.push_back(c);
  }
  // A field or level this build does not list is spelled out.
  p.outcome.candidates[1].fields.push_back({"school", "a_new_level", 0.5});
  return p;
}

void ExpectSamePayload(const ReviewPayload& a, const ReviewPayload& b) {
  EXPECT_EQ(a.row.record.record.given_name, b.row.record.record.given_name);
  EXPECT_EQ(a.row.record.hidden.postcode, b.row.record.hidden.postcode);
  EXPECT_EQ(a.row.record.ref.source, b.row.record.ref.source);
  EXPECT_EQ(a.row.record.ref.key, b.row.record.ref.key);
  EXPECT_EQ(a.row.raw, b.row.raw);
  EXPECT_EQ(a.row.line, b.row.line);
  EXPECT_EQ(a.outcome.decision, b.outcome.decision);
  EXPECT_EQ(a.outcome.shielded, b.outcome.shielded);
  EXPECT_EQ(a.outcome.reason, b.outcome.reason);
  ASSERT_EQ(a.outcome.candidates.size(), b.outcome.candidates.size());
  for (size_t i = 0; i < a.outcome.candidates.size(); ++i) {
    const ScoredCandidate& x = a.outcome.candidates[i];
    const ScoredCandidate& y = b.outcome.candidates[i];
    EXPECT_EQ(x.child, y.child) << i;
    EXPECT_EQ(x.shielded, y.shielded) << i;
    EXPECT_EQ(x.identifier_agrees, y.identifier_agrees) << i;
    EXPECT_EQ(x.names_disagree, y.names_disagree) << i;
    EXPECT_EQ(x.given_disagrees, y.given_disagrees) << i;
    EXPECT_EQ(x.dob_disagrees, y.dob_disagrees) << i;
    EXPECT_DOUBLE_EQ(x.total, y.total) << i;
    ASSERT_EQ(x.fields.size(), y.fields.size()) << i;
    for (size_t j = 0; j < x.fields.size(); ++j) {
      EXPECT_EQ(x.fields[j].field, y.fields[j].field);
      EXPECT_EQ(x.fields[j].level, y.fields[j].level);
      EXPECT_DOUBLE_EQ(x.fields[j].weight, y.fields[j].weight);
    }
  }
}

TEST_F(FeedTest, ReviewPayloadRoundTripsAndRefusesDamage) {
  const ReviewPayload p = SamplePayload();
  std::string bytes = EncodeReviewPayload(p);
  auto back = DecodeReviewPayload(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSamePayload(*back, p);
  EXPECT_EQ(back->row.record.record.given_name, "Olivia");
  EXPECT_EQ(back->row.record.hidden.postcode, "LS1 4AB");
  EXPECT_DOUBLE_EQ(back->outcome.candidates[0].total, -3.25);
  EXPECT_EQ(back->outcome.candidates[1].fields.back().level, "a_new_level");
  // Every cut, and a byte too many, is refused.
  for (size_t cut = 0; cut < bytes.size(); ++cut) {
    EXPECT_FALSE(DecodeReviewPayload(bytes.substr(0, cut)).ok()) << cut;
  }
  EXPECT_FALSE(DecodeReviewPayload(bytes + '\0').ok());
}

TEST_F(FeedTest, ReviewPayloadQueuedByAnEarlierBuildStillReads) {
  const ReviewPayload p = SamplePayload();
  const std::string old = PayloadV1(p);
  auto back = DecodeReviewPayload(old);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  ExpectSamePayload(*back, p);
  for (size_t cut : {size_t{1}, size_t{9}, old.size() / 2, old.size() - 1}) {
    EXPECT_FALSE(DecodeReviewPayload(old.substr(0, cut)).ok()) << cut;
  }
  // A queue item written by an earlier build is resolved as any other.
  ASSERT_TRUE(Apply("births", 1, {kOlivia}).ok());
  ReviewItem item;
  ReviewPayload waiting = SamplePayload();
  waiting.row.record.ref = {"health", "h-old"};
  waiting.outcome.candidates.clear();
  item.ref = waiting.row.record.ref;
  item.payload = PayloadV1(waiting);
  FeedChange change;
  change.review_put = item;
  ASSERT_TRUE(store_->ApplyChange(std::move(change)).ok());
  auto queued = store_->FindReview(item.ref, Clearance::Ordinary());
  ASSERT_TRUE(queued.ok()) << queued.status().ToString();
  FeedApplier applier(store_.get(), FeedOptions{});
  FeedCounts counts;
  ASSERT_TRUE(applier.ResolveReview(queued->id, LinkedChild("births", "b1"), &counts).ok());
  EXPECT_EQ(counts.linked, 1u);
  EXPECT_EQ(LinkedChild("health", "h-old"), LinkedChild("births", "b1"));
}

TEST_F(FeedTest, ReviewPayloadRefusesWhatNoEncoderWrites) {
  const std::string good = EncodeReviewPayload(SamplePayload());
  ASSERT_TRUE(DecodeReviewPayload(good).ok());
  // Another version byte.
  for (char version : {'\0', '\3', '\xff'}) {
    std::string bytes = good;
    bytes[0] = version;
    EXPECT_FALSE(DecodeReviewPayload(bytes).ok()) << int{version};
  }
  ReviewPayload one;
  one.row = MakeRow(kOlivia);
  one.outcome.decision = MatchDecision::kReview;
  ScoredCandidate c;
  c.child = 5;
  c.total = 1;
  c.fields = {{"gender", "agree", 1}};
  one.outcome.candidates.push_back(c);
  const std::string bytes = EncodeReviewPayload(one);
  // The candidate is the last 9 bytes: id 5, flags, total 1.000 (2 bytes), one field:
  // word "gender", word "agree", weight 1.000 (2 bytes).
  const size_t cand = bytes.size() - 9;
  // Stored bytes: every later build must read them as this one does ("gender" is word 3,
  // "agree" word 22; 1.000 is thousandths 1000, zigzag 2000, varint d0 0f).
  ASSERT_EQ(bytes.substr(cand), std::string("\x05\x00\xd0\x0f\x01\x03\x16\xd0\x0f", 9));
  auto damaged = [&](size_t at, char byte) {
    std::string b = bytes;
    b[at] = byte;
    return DecodeReviewPayload(b).ok();
  };
  EXPECT_TRUE(damaged(cand, '\x06')) << "the id itself is any number";
  EXPECT_FALSE(damaged(cand + 1, '\x20')) << "a flag no encoder sets";
  EXPECT_FALSE(damaged(cand + 5, '\x7f')) << "a word index past the table";
  EXPECT_FALSE(damaged(cand + 5, '\xfe')) << "a word index past the table";
  // A count of candidates no payload of this size could hold.
  std::string many = bytes.substr(0, cand - 1);
  PutVarint64(&many, uint64_t{1} << 40);
  many.append(bytes.substr(cand));
  EXPECT_FALSE(DecodeReviewPayload(many).ok());
  // A varint longer than 64 bits.
  std::string endless = bytes.substr(0, cand);
  endless.append(10, '\xff');
  endless.append(bytes.substr(cand + 1));
  EXPECT_FALSE(DecodeReviewPayload(endless).ok());
}

TEST_F(FeedTest, ReviewPayloadTakesAFewBytesAField) {
  // A shielded record's item lists every shielded namesake (hundreds at 1M children):
  // a candidate with six fields is its id, flags and total, then four or five bytes a field
  // (two words and a weight), where the first encoding took ~300 bytes.
  ReviewPayload none = SamplePayload(), three = SamplePayload();
  none.outcome.candidates.clear();
  three.outcome.candidates.resize(3);
  three.outcome.candidates[1].fields.pop_back();  // the spelled-out one
  const size_t per_candidate =
      (EncodeReviewPayload(three).size() - EncodeReviewPayload(none).size()) / 3;
  EXPECT_LE(per_candidate, 40u);
  EXPECT_GE(PayloadV1(three).size() - PayloadV1(none).size(), 3 * 250u) << "what it was";
}

}  // namespace
}  // namespace cp::feed_test

namespace cp::feed_test {
namespace {

TEST_F(FeedTest, DiscrepanciesNameTheSupplyingSourceAndNeverAShieldedLocation) {
  ASSERT_TRUE(Apply("births", 1, {kWilliam}).ok());
  RowSpec bill{"h2", "Bill", "Jones", "2015-09-07", "M", "9 New St", "LS9 9ZZ"};
  ASSERT_TRUE(Apply("health", 1, {bill}).ok());
  const ChildId id = LinkedChild("births", "b2");
  const auto clearance = Clearance::Elevated(Clearance::Level::kMatching, "test", "test");
  auto health = store_->GetSourceRecord({"health", "h2"}, clearance);
  ASSERT_TRUE(health.ok());
  ChildView v = Full(id);
  auto found = FindDiscrepancies(*health, v.record, *v.hidden);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].field, "given_name");
  EXPECT_EQ(found[0].source_value, "Bill");
  EXPECT_EQ(found[0].index_value, "William");
  EXPECT_EQ(found[0].index_source, "births");
  EXPECT_EQ(found[1].field, "date_of_birth");

  auto births = store_->GetSourceRecord({"births", "b2"}, clearance);
  ASSERT_TRUE(births.ok());
  auto for_births = FindDiscrepancies(*births, v.record, *v.hidden);
  ASSERT_EQ(for_births.size(), 1u);
  EXPECT_EQ(for_births[0].field, "address");
  EXPECT_EQ(for_births[0].index_value, "9 New St, LS9 9ZZ");

  ASSERT_TRUE(store_->SetShield(id, true, "la_leeds", "fleeing violence").ok());
  v = Full(id);
  EXPECT_TRUE(FindDiscrepancies(*births, v.record, *v.hidden).empty())
      << "a shielded child's address is in no source's report";
  EXPECT_EQ(FindDiscrepancies(*health, v.record, *v.hidden).size(), 2u) << "names and dates still are";
}

}  // namespace
}  // namespace cp::feed_test

namespace cp::feed_test {
namespace {

TEST_F(FeedTest, ALaterSourcesSlipInTheSurnameNeitherReplacesTheBirthNameNorBecomesAFormerName) {
  ASSERT_TRUE(Apply("births", 1, {RowSpec{"b1", "Betsy", "Dalton", "2024-01-31", "F", "1 High St", "LS1 4AB"}}).ok());
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 1, {RowSpec{"h1", "Betsy", "Dlaton", "2024-01-31", "F", "9 New St", "LS9 9ZZ"}}, &r).ok());
  ASSERT_EQ(r.counts.linked, 1u);
  ChildView v = Full(LinkedChild("births", "b1"));
  EXPECT_EQ(v.record.family_name, "Dalton");
  EXPECT_TRUE(v.record.former_family_names.empty());
  EXPECT_EQ(v.hidden->postcode, "LS9 9ZZ") << "the address is still the most recent";
}

}  // namespace
}  // namespace cp::feed_test
