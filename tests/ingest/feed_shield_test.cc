// The 2009 failure, made impossible: a feed record of a shielded child never becomes, or
// updates, an unshielded child, and its location never reaches a file in clear.
#include <fstream>
#include <iterator>
#include <optional>
#include <utility>

#include "../storage/raw_db_util.h"
#include "feed_test_util.h"
#include "index/double_metaphone.h"
#include "storage/check.h"
#include "storage/keys.h"

namespace cp::feed_test {
namespace {

const RowSpec kAva{"b1", "Ava", "Whitfield", "2016-03-02", "F", "1 High St", "LS1 4AB", "9434765919"};

class FeedShieldTest : public FeedTest {
 protected:
  ChildId ShieldedAva() {
    EXPECT_TRUE(Apply("births", 1, {kAva}).ok());
    ChildId id = LinkedChild("births", "b1");
    EXPECT_TRUE(store_->SetShield(id, true, "la_leeds", "fleeing violence").ok());
    return id;
  }
  // Applies `row` as births' batch 2: the child it made.
  ChildId BirthsChild(const RowSpec& row) {
    EXPECT_TRUE(Apply("births", 2, {row}).ok());
    return LinkedChild("births", row.key);
  }
  struct Queued {
    ReviewItem item;  // read whole
    ReviewPayload payload;
  };
  // Applies `row` from `health`: it must wait in review, queued unshielded, the queue's
  // only item. That item and its payload; nullopt, the failure recorded, otherwise.
  std::optional<Queued> QueueUnshielded(const RowSpec& row) {
    FeedBatchResult r;
    EXPECT_TRUE(Apply("health", 1, {row}, &r).ok());
    EXPECT_EQ(r.counts.review, 1u);
    std::vector<ReviewItem> items;
    EXPECT_TRUE(store_->ListReview(&items).ok());
    if (items.size() != 1) {
      ADD_FAILURE() << items.size() << " review items";
      return std::nullopt;
    }
    EXPECT_FALSE(items[0].shielded);
    auto full = store_->GetReview(
        items[0].id, Clearance::Elevated(Clearance::Level::kMatching, "test", "review"));
    if (!full.ok()) {
      ADD_FAILURE() << full.status().ToString();
      return std::nullopt;
    }
    auto payload = DecodeReviewPayload(full->payload);
    if (!payload.ok()) {
      ADD_FAILURE() << payload.status().ToString();
      return std::nullopt;
    }
    return Queued{std::move(*full), std::move(*payload)};
  }
  // Whether `q`'s item is a shielded child's record now (ReviewItemShielded), then what
  // a reviewer's linking it to `child` says.
  std::pair<bool, Status> ShieldedThenLink(const Queued& q, ChildId child, FeedCounts* counts) {
    auto shielded = ReviewItemShielded(*store_, q.item, q.payload);
    EXPECT_TRUE(shielded.ok()) << shielded.status().ToString();
    FeedApplier applier(store_.get(), {});
    return {shielded.ok() && *shielded, applier.ResolveReview(q.item.id, child, counts)};
  }
  // The total `child` is listed with as a shielded candidate; nullopt when it is not.
  static std::optional<double> ListedShielded(const ReviewPayload& p, ChildId child) {
    for (const auto& c : p.outcome.candidates) {
      if (c.child == child && c.shielded) return c.total;
    }
    return std::nullopt;
  }
  // Every child an ordinary reader can see, with any location field it is shown.
  std::string OrdinaryDump() {
    std::string out;
    EXPECT_TRUE(store_->ForEachChild(Clearance::Ordinary(), [&](const ChildView& v) {
      out += std::to_string(v.record.id) + (v.record.shield.shielded ? " shielded" : " open");
      if (v.hidden) out += " " + v.hidden->address + " " + v.hidden->postcode;
      for (const auto& s : v.record.sources) out += " " + s.source + ":" + s.key;
      out += "\n";
      return true;
    }).ok());
    return out;
  }
};

TEST_F(FeedShieldTest, NoisyUpdateWithNewAddressLinksToTheShieldedChild) {
  const ChildId ava = ShieldedAva();
  // Another source: a nickname-free typo in the surname, day and month swapped, the
  // refuge's address, no NHS number.
  RowSpec refuge{"la9", "Ava", "Whitfeild", "2016-02-03", "F", "Refuge House", "BD7 1AA"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("la_bradford", 1, {refuge}, &r).ok());
  EXPECT_EQ(r.counts.created, 0u);
  EXPECT_EQ(Children(), 1u) << "no unshielded duplicate";
  EXPECT_EQ(LinkedChild("la_bradford", "la9"), ava);
  ChildView seen = Ordinary(ava);
  EXPECT_TRUE(seen.record.shield.shielded);
  EXPECT_FALSE(seen.hidden.has_value());
  EXPECT_TRUE(seen.record.sources.empty());
  EXPECT_EQ(Full(ava).hidden->postcode, "BD7 1AA") << "the shielding manager sees the new address";
  EXPECT_TRUE(PlaceHits("BD7 1AA").empty());
  EXPECT_TRUE(PlaceHits("LS1 4AB").empty());
  EXPECT_EQ(OrdinaryDump().find("BD7"), std::string::npos);
}

TEST_F(FeedShieldTest, SharedIdentifierWithShieldedChildNeverMakesASeparateChild) {
  ShieldedAva();
  // Names that agree at no level, but Ava's NHS number.
  RowSpec odd{"h1", "Zed", "Quartermaine", "2011-12-30", "M", "9 Far Away", "TR1 1AA", "9434765919"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("health", 1, {odd}, &r).ok());
  EXPECT_EQ(r.counts.created, 0u);
  EXPECT_EQ(r.counts.review, 1u);
  EXPECT_EQ(Children(), 1u);
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(items[0].shielded);
  EXPECT_TRUE(store_->GetReview(items[0].id, Clearance::Ordinary())->payload.empty())
      << "an ordinary reader never gets the waiting record's contents";
}

// A record queued while its candidate was unshielded, and decided after the candidate was
// shielded, is decided as a shielded child's record: SetShield does not revisit the queue,
// so the decision looks at the candidates as they are.
TEST_F(FeedShieldTest, AnItemWhoseCandidateWasShieldedSinceIsDecidedAsAShieldedChildsRecord) {
  ASSERT_TRUE(Apply("births", 1, {kAva}).ok());
  const ChildId ava = LinkedChild("births", "b1");
  ASSERT_TRUE(Apply("births", 2, {RowSpec{"b2", "Noah", "Brown", "2014-05-05", "M", "", ""}}).ok());
  const ChildId noah = LinkedChild("births", "b2");
  RowSpec maybe{"s1", "Ava", "Whitfield", "2016-08-14", "F", "4 Hidden Way", "HX1 1AA"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("school_census", 1, {maybe}, &r).ok());
  ASSERT_EQ(r.counts.review, 1u) << "linked " << r.counts.linked << ", new " << r.counts.created;
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_FALSE(items[0].shielded);

  ASSERT_TRUE(store_->SetShield(ava, true, "la_leeds", "fleeing violence").ok());
  FeedApplier applier(store_.get(), {});
  FeedCounts counts;
  Status s = applier.ResolveReview(items[0].id, noah, &counts);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_EQ(counts.linked, 0u);
  EXPECT_NE(Full(noah).hidden->postcode, "HX1 1AA");
  ASSERT_TRUE(applier.ResolveReview(items[0].id, 0, &counts).ok());
  EXPECT_EQ(counts.created, 1u);
  const ChildId made = LinkedChild("school_census", "s1");
  ASSERT_NE(made, 0u);
  ChildView seen = Ordinary(made);
  EXPECT_TRUE(seen.record.shield.shielded);
  EXPECT_FALSE(seen.hidden.has_value());
  EXPECT_TRUE(PlaceHits("HX1 1AA").empty());
}

TEST_F(FeedShieldTest, PlausibleMatchWaitsShieldedAndBecomesAShieldedChildIfNew) {
  const ChildId ava = ShieldedAva();
  // Same names, a date of birth wrong beyond a swap or one digit, a new address.
  RowSpec maybe{"s1", "Ava", "Whitfield", "2013-08-14", "F", "4 Hidden Way", "HX1 1AA"};
  FeedBatchResult r;
  ASSERT_TRUE(Apply("school_census", 1, {maybe}, &r).ok());
  ASSERT_EQ(r.counts.review, 1u);
  EXPECT_EQ(Children(), 1u);
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  ASSERT_EQ(items.size(), 1u);
  EXPECT_TRUE(items[0].shielded);

  FeedApplier applier(store_.get(), {});
  FeedCounts counts;
  ASSERT_TRUE(applier.ResolveReview(items[0].id, 0, &counts).ok());
  const ChildId made = LinkedChild("school_census", "s1");
  ASSERT_NE(made, 0u);
  ASSERT_NE(made, ava);
  ChildView seen = Ordinary(made);
  EXPECT_TRUE(seen.record.shield.shielded) << "a child made from a shielded child's plausible match is shielded";
  EXPECT_FALSE(seen.hidden.has_value());
  EXPECT_TRUE(PlaceHits("HX1 1AA").empty());
}

// Blocking's ordinary scans stop at a limit (5,000 postings; 4 here); the scans for
// shielded children must not, or the shielded child filed past it would not be compared
// and its record would make an unshielded child. Eight shielded Whitfields whose given
// names sound like Ava's: the record is the last one's (highest id, so last in the
// year-free list of each of its codes), born on a date no slip explains, so that only
// those lists reach her.
TEST_F(FeedShieldTest, EveryShieldedChildSharingACodeIsComparedHoweverMany) {
  std::vector<RowSpec> rows;
  const char* given[] = {"Eva", "Evie", "Ivy", "Eve", "Iva", "Avie", "Effie"};
  for (int i = 0; i < 7; ++i) {
    ASSERT_EQ(DoubleMetaphone(given[i]).primary, DoubleMetaphone("Ava").primary) << given[i];
    const std::string born = "200" + std::to_string(i + 1) + "-06-15";
    rows.push_back({"w" + std::to_string(i), given[i], "Whitfield", born, "F"});
  }
  rows.push_back(kAva);
  std::vector<NewChild> children = AsNewChildren(rows);
  auto ids = store_->InsertChildren(children);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  for (ChildId id : *ids) {
    ASSERT_TRUE(store_->SetShield(id, true, "la_leeds", "fleeing violence").ok());
  }
  const ChildId ava = ids->back();

  SourceRecord rec =
      MakeRow({"s1", "Ava", "Whitfield", "2012-11-25", "F", "4 Hidden Way", "HX1 1AA"}).record;
  rec.ref.source = "school_census";
  constexpr size_t kLimit = 4;
  auto out = Matcher(store_.get(), {}, kLimit).Match(rec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->candidates.size(), rows.size())
      << "every shielded child sharing a code is a candidate";
  ASSERT_FALSE(out->candidates.empty());
  EXPECT_EQ(out->candidates[0].child, ava);
  EXPECT_TRUE(out->shielded);
  EXPECT_EQ(out->decision, MatchDecision::kReview) << out->reason;
}

TEST_F(FeedShieldTest, ReviewerCannotLinkAShieldedItemToAnUnshieldedChild) {
  ShieldedAva();
  ASSERT_TRUE(Apply("births", 2, {RowSpec{"b2", "Noah", "Brown", "2014-05-05", "M", "", ""}}).ok());
  const ChildId noah = LinkedChild("births", "b2");
  RowSpec maybe{"s1", "Ava", "Whitfield", "2013-08-14", "F", "4 Hidden Way", "HX1 1AA"};
  ASSERT_TRUE(Apply("school_census", 1, {maybe}).ok());
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  ASSERT_EQ(items.size(), 1u);
  FeedApplier applier(store_.get(), {});
  FeedCounts counts;
  Status s = applier.ResolveReview(items[0].id, noah, &counts);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(Full(noah).hidden->postcode == "HX1 1AA");
  items.clear();
  ASSERT_TRUE(store_->ListReview(&items).ok());
  EXPECT_EQ(items.size(), 1u) << "the item still waits";
}

TEST_F(FeedShieldTest, UpdatesFromTheShieldedChildsOwnSourceStayShielded) {
  const ChildId ava = ShieldedAva();
  RowSpec moved = kAva;
  moved.address = "Safe House";
  moved.postcode = "YO1 7HH";
  FeedBatchResult r;
  ASSERT_TRUE(Apply("births", 2, {moved}, &r).ok());
  EXPECT_EQ(r.counts.updated, 1u);
  EXPECT_TRUE(Ordinary(ava).record.shield.shielded);
  EXPECT_TRUE(PlaceHits("YO1 7HH").empty());
  EXPECT_EQ(Full(ava).hidden->address, "Safe House");
}

TEST_F(FeedShieldTest, StorageRefusesAChangeThatWouldLiftAShield) {
  const ChildId ava = ShieldedAva();
  FeedChange change;
  ChildView v = Full(ava);
  v.record.shield = {};
  change.children.push_back({v.record, *v.hidden, {}});
  auto applied = store_->ApplyChange(std::move(change));
  EXPECT_EQ(applied.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_TRUE(Ordinary(ava).record.shield.shielded);
  EXPECT_TRUE(PlaceHits("LS1 4AB").empty());
}

TEST_F(FeedShieldTest, ShieldedChildIsFiledYearFreeForMatchingOnlyWhileShielded) {
  auto year_free = [&](ChildId id) {
    std::vector<ChildId> ids;
    bool complete = false;
    std::vector<IndexTerm> terms;
    NameIndexPolicy::Instance().NameTerms(Full(id).record, &terms);
    for (const auto& t : terms) {
      if (t.kind != TermKind::kPhonetic) continue;
      EXPECT_TRUE(store_->ScanName(TermKind::kShieldedPhonetic, t.token, 0, 0, 100,
                                   [&](const Posting& p) { ids.push_back(p.id); }, &complete).ok());
    }
    return ids;
  };
  ASSERT_TRUE(Apply("births", 1, {kAva}).ok());
  const ChildId ava = LinkedChild("births", "b1");
  EXPECT_TRUE(year_free(ava).empty());
  ASSERT_TRUE(store_->SetShield(ava, true, "la_leeds", "fleeing violence").ok());
  EXPECT_FALSE(year_free(ava).empty());
  ASSERT_TRUE(store_->SetShield(ava, false, "la_leeds", "risk over").ok());
  EXPECT_TRUE(year_free(ava).empty()) << "lifting the shield drops them";
}

// A record of a shielded child with a typo that moves a letter ("Walsh" ALX/FLX, "Wlash"
// LX) and a variant of the given name ("Noah" N, "Manoah" MN) shares no phonetic code with
// the child; its date of birth still reaches it through the child's birth posting, so it
// waits in review, shielded, instead of making an unshielded child with the new address.
// (Found by the property test at 20,000 children, 2026-11-29.) The same with the year one
// digit out, the day one digit out, and the month one digit out (each read from another
// birth posting list).
TEST_F(FeedShieldTest, ARecordSharingNoNameCodeButTheBirthDateReachesTheShieldedChild) {
  for (const char* date : {"2023-11-30", "2021-11-30", "2023-11-20", "2023-01-30"}) {
    TearDown();
    SetUp();
    ASSERT_TRUE(Apply("births", 1, {{"b1", "Noah", "Walsh", "2023-11-30", "M", "1 High St", "LS1 4AB"}}).ok());
    const ChildId noah = LinkedChild("births", "b1");
    ASSERT_TRUE(store_->SetShield(noah, true, "la_leeds", "fleeing violence").ok());
    FeedBatchResult r;
    ASSERT_TRUE(Apply("la_x", 1, {{"x1", "Manoah", "Wlash", date, "M", "9 Refuge Road", "BD7 1AA"}}, &r).ok());
    EXPECT_EQ(r.counts.created, 0u) << date;
    EXPECT_EQ(Children(), 1u) << date << ": no unshielded child";
    EXPECT_EQ(OrdinaryDump().find("BD7"), std::string::npos) << date;
    // Linked to the shielded child, or waiting for a person, shielded.
    auto item = store_->FindReview({"la_x", "x1"}, Clearance::Ordinary());
    if (item.ok()) {
      EXPECT_TRUE(item->shielded) << date;
    } else {
      EXPECT_EQ(LinkedChild("la_x", "x1"), noah) << date;
    }
    std::printf("%s: %s\n", date, item.ok() ? "waits in review, shielded" : "linked to the shielded child");
  }
  // The control: the same record against the same child unshielded makes a new child (the
  // names alone are too far apart for the usual blocking), so the birth posting is what
  // reached it above.
  TearDown();
  SetUp();
  ASSERT_TRUE(Apply("births", 1, {{"b1", "Noah", "Walsh", "2023-11-30", "M", "1 High St", "LS1 4AB"}}).ok());
  FeedBatchResult r;
  ASSERT_TRUE(Apply("la_x", 1, {{"x1", "Manoah", "Wlash", "2023-11-30", "M", "9 Refuge Road", "BD7 1AA"}}, &r).ok());
  EXPECT_EQ(r.counts.created, 1u);
}

// The record the property test found at 50,000 children (2026-11-29): a shielded "Luke
// Smith" sent back with two slips in the date of birth (day and month swapped, then a digit),
// no identifier and a new address. Both names exact, but Smith is common and the date
// disagrees: 5.6, below `lower`. It scores at or above `shield_lower`, so it waits for a
// person, shielded. Controls: with the shielded threshold at `lower` (the rule before) it
// made a new, unshielded child holding the refuge's postcode; against the same child
// unshielded it is a new child still (the threshold is for shielded children only).
TEST_F(FeedShieldTest, ARecordBelowLowerButAboveTheShieldedThresholdWaitsShielded) {
  const RowSpec luke{"b1", "Luke", "Smith", "2009-04-02", "M", "1 High St", "LS1 4AB"};
  const RowSpec slipped{"x1", "Luke", "Smith", "2009-03-04", "M", "9 Refuge Road", "BD7 1AA"};
  FeedOptions old_rule;
  old_rule.weights.shield_lower = old_rule.weights.lower;
  for (int run = 0; run < 3; ++run) {
    SCOPED_TRACE(run == 0 ? "shielded" : run == 1 ? "shielded, old rule" : "unshielded");
    TearDown();
    SetUp();
    ASSERT_TRUE(Apply("births", 1, {luke}).ok());
    const ChildId child = LinkedChild("births", "b1");
    if (run < 2) {
      ASSERT_TRUE(store_->SetShield(child, true, "la_leeds", "fleeing violence").ok());
    }
    FeedBatchResult r;
    ASSERT_TRUE(Apply("la_x", 1, {slipped}, &r, run == 1 ? old_rule : FeedOptions{}).ok());
    if (run == 0) {
      EXPECT_EQ(r.counts.created, 0u);
      EXPECT_EQ(r.counts.review, 1u);
      EXPECT_EQ(Children(), 1u);
      EXPECT_EQ(OrdinaryDump().find("BD7"), std::string::npos);
      auto item = store_->FindReview({"la_x", "x1"}, Clearance::Ordinary());
      ASSERT_TRUE(item.ok()) << item.status().ToString();
      EXPECT_TRUE(item->shielded);
      auto full = store_->FindReview({"la_x", "x1"}, Clearance::Elevated(Clearance::Level::kMatching, "t", "t"));
      ASSERT_TRUE(full.ok());
      auto outcome = DecodeReviewPayload(full->payload);
      ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
      ASSERT_FALSE(outcome->outcome.candidates.empty());
      EXPECT_LT(outcome->outcome.candidates[0].total, MatchWeights{}.lower);
      EXPECT_GE(outcome->outcome.candidates[0].total, MatchWeights{}.shield_lower);
      EXPECT_EQ(outcome->outcome.reason, "plausibly a shielded child (at or above the shielded threshold)");
    } else {
      EXPECT_EQ(r.counts.created, 1u);
      EXPECT_EQ(Children(), 2u);
      if (run == 1) {
        EXPECT_NE(OrdinaryDump().find("BD7"), std::string::npos) << "the gap, reproduced";
      }
    }
  }
}

// The daemon sets shields while a feed batch runs. A row looked up before a shield was set
// and applied after it is decided again: the record above, which scores below the lower
// threshold against Luke, would otherwise become an unshielded child at its new address
// though Luke was shielded before it was written.
TEST_F(FeedShieldTest, AShieldSetWhileABatchRunsVoidsTheDecisionsMadeBeforeIt) {
  const RowSpec luke{"b1", "Luke", "Smith", "2009-04-02", "M", "1 High St", "LS1 4AB"};
  const RowSpec slipped{"x1", "Luke", "Smith", "2009-03-04", "M", "9 Refuge Road", "BD7 1AA"};
  const RowSpec other{"x2", "Zara", "Quinn", "2012-11-30", "F", "4 Far Lane", "LS9 2CD"};
  ASSERT_TRUE(Apply("births", 1, {luke}).ok());
  const ChildId child = LinkedChild("births", "b1");
  // One row a window: the applier reads the second window's row, here shielding Luke,
  // after the first window's row was looked up and before it is applied.
  FeedOptions options;
  options.window = 1;
  std::vector<FeedRow> rows = {MakeRow(slipped), MakeRow(other)};
  size_t next = 0;
  const uint64_t shields_before = store_->ShieldsSet();
  FeedRowSource source = [&](FeedRow* row, std::string*) {
    if (next == rows.size()) return false;
    if (next == 1) {
      EXPECT_TRUE(store_->SetShield(child, true, "la_leeds", "fleeing violence").ok());
    }
    *row = rows[next++];
    row->line = next + 1;
    return true;
  };
  FeedApplier applier(store_.get(), options);
  FeedBatchResult r;
  ASSERT_TRUE(applier
                  .ApplyBatch(
                      "la_x", 1, source, [](const std::string&) {}, &r)
                  .ok());
  EXPECT_EQ(store_->ShieldsSet(), shields_before + 1);
  EXPECT_EQ(r.counts.review, 1u);
  EXPECT_EQ(r.counts.created, 1u);  // the other child, not Luke's record
  EXPECT_EQ(Children(), 2u);
  EXPECT_EQ(OrdinaryDump().find("BD7"), std::string::npos) << OrdinaryDump();
  auto item = store_->FindReview({"la_x", "x1"}, Clearance::Ordinary());
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  EXPECT_TRUE(item->shielded);
}

// Storage's half: a change decided before a shield was set is refused whole.
TEST_F(FeedShieldTest, ApplyChangeRefusesAChangeDecidedBeforeAShieldWasSet) {
  const uint64_t seen = store_->ShieldsSet();
  const ChildId ava = ShieldedAva();
  EXPECT_EQ(store_->ShieldsSet(), seen + 1);
  const uint64_t children = Children();
  FeedRow row = MakeRow({"x1", "Ava", "Whitfield", "2016-03-02", "F", "9 Refuge Road", "BD7 1AA"});
  row.record.ref.source = "la_x";
  FeedChange change;
  FeedChange::ChildWrite w{row.record.record, row.record.hidden, {}};
  change.children.push_back(w);
  change.links.push_back({row.record, row.raw, {}, 0, 0});
  change.shields_seen = seen;
  auto refused = store_->ApplyChange(change);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(IsChangedSince(refused.status())) << refused.status().ToString();
  EXPECT_EQ(Children(), children);
  EXPECT_FALSE(store_->FindSource("la_x", "x1").ok());
  // Lifting a shield endangers nothing: it does not count.
  ASSERT_TRUE(store_->SetShield(ava, false, "la_leeds", "test").ok());
  EXPECT_EQ(store_->ShieldsSet(), seen + 1);
  change.shields_seen = store_->ShieldsSet();
  auto applied = store_->ApplyChange(change);
  ASSERT_TRUE(applied.ok()) << applied.status().ToString();
  EXPECT_EQ(Children(), children + 1);
}

// A shielded candidate is scored first from what its posting carries, like any other: one
// that could not reach `shield_lower` even with the most its postcode and address could
// add is not read (its hidden fields are never opened for it); one that could is read in
// full.
TEST_F(FeedShieldTest, AShieldedCandidateIsReadOnlyWhenItCouldReachTheShieldedThreshold) {
  const ChildId ava = ShieldedAva();
  Matcher matcher(store_.get());
  auto match = [&](const RowSpec& spec) {
    SourceRecord rec = MakeRow(spec).record;
    rec.ref.source = "health";
    auto out = matcher.Match(rec);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out.ok() ? *out : MatchOutcome{};
  };
  auto candidate = [&](const MatchOutcome& out) -> const ScoredCandidate* {
    for (const auto& c : out.candidates) {
      if (c.child == ava) return &c;
    }
    return nullptr;
  };
  auto has = [](const ScoredCandidate& c, const std::string& field, const std::string& level) {
    for (const auto& f : c.fields) {
      if (f.field == field && f.level == level) return true;
    }
    return false;
  };
  // The given name only (+6.5), family name, date and gender disagreeing (-6, -6, -4.6),
  // and no postcode or address that could add anything: -10.1, below 0.
  MatchOutcome far = match({"h1", "Ava", "Okafor", "2011-08-14", "M", "", ""});
  EXPECT_EQ(far.decision, MatchDecision::kNew);
  EXPECT_FALSE(far.shielded);
  const ScoredCandidate* c = candidate(far);
  ASSERT_NE(c, nullptr) << "found by its given name's year-free posting";
  EXPECT_TRUE(c->shielded);
  EXPECT_TRUE(has(*c, "record", "unread"));
  EXPECT_NEAR(c->total, -10.1, 1e-9);
  // The same with a postcode in her district and an address, which could add 15: read in
  // full, and it stays below 0 (another street): a new child still. (A postcode in another
  // district could add at most 5: tests/ingest/shield_district_test.cc.)
  MatchOutcome with_place =
      match({"h2", "Ava", "Okafor", "2011-08-14", "M", "5 Low St", "LS1 9ZZ"});
  EXPECT_EQ(with_place.decision, MatchDecision::kNew);
  c = candidate(with_place);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(has(*c, "record", "unread"));
  EXPECT_TRUE(has(*c, "postcode", "district"));
  // Both names (+6.5, +12 for a rare surname), the date disagreeing: read, and the record
  // waits, shielded.
  MatchOutcome near = match({"h3", "Ava", "Whitfield", "2011-08-14", "F", "", ""});
  EXPECT_EQ(near.decision, MatchDecision::kReview);
  EXPECT_TRUE(near.shielded);
  c = candidate(near);
  ASSERT_NE(c, nullptr);
  EXPECT_FALSE(has(*c, "record", "unread"));
  EXPECT_TRUE(has(*c, "date_of_birth", "disagree"));
}

// A record that waits in review has its candidates read in full, for the reviewer, but
// not a shielded namesake that cannot reach `shield_lower` whatever it holds: its hidden
// fields are not opened for a total no decision uses.
TEST_F(FeedShieldTest, AReviewLeavesUnreadAShieldedNamesakeThatCannotReachTheShieldedThreshold) {
  const ChildId ava = ShieldedAva();
  const ChildId okafor =
      BirthsChild(RowSpec{"b2", "Ava", "Okafor", "2011-01-25", "F", "3 Mill Lane", "LS3 1AA"});
  ASSERT_NE(okafor, 0u);
  Matcher matcher(store_.get());
  SourceRecord rec = MakeRow({"h1", "Ava", "Okafor", "2011-08-14", "F", "", ""}).record;
  rec.ref.source = "health";
  auto out = matcher.Match(rec);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  // Against Okafor: 6.5 + 12 - 6 + 1 = 13.5, between the thresholds.
  EXPECT_EQ(out->decision, MatchDecision::kReview) << out->reason;
  EXPECT_FALSE(out->shielded);
  auto unread = [](const ScoredCandidate& c) {
    for (const auto& f : c.fields) {
      if (f.level == "unread") return true;
    }
    return false;
  };
  bool saw_ava = false, saw_okafor = false;
  for (const auto& c : out->candidates) {
    if (c.child == okafor) {
      saw_okafor = true;
      EXPECT_FALSE(unread(c)) << "an ordinary candidate is read in full for the reviewer";
      EXPECT_NEAR(c.total, 13.5, 1e-9);
    }
    if (c.child == ava) {
      saw_ava = true;
      // Given name exact, family name, date disagreeing, gender agreeing: 6.5 - 6 - 6 + 1,
      // and the record has no postcode or address to add: -4.5 at most, below 0.
      EXPECT_TRUE(unread(c)) << "the shielded namesake stays unread";
      EXPECT_NEAR(c.total, -4.5, 1e-9);
    }
  }
  EXPECT_TRUE(saw_ava);
  EXPECT_TRUE(saw_okafor);
}

// A shielded namesake far below `shield_lower` does not make a review item a shielded
// child's record: the reviewer links it to the unshielded child it is. (Until 2026-11-30
// any shielded candidate listed did, so with 1 in 100 children shielded nearly every item
// could only be made a new, shielded child.)
TEST_F(FeedShieldTest, AShieldedNamesakeBelowTheShieldedThresholdLeavesAnItemLinkable) {
  const ChildId ava = ShieldedAva();
  const ChildId okafor =
      BirthsChild(RowSpec{"b2", "Ava", "Okafor", "2011-01-25", "F", "3 Mill Lane", "LS3 1AA"});
  // Against Okafor 13.5, between the thresholds; against Ava -4.5 at most.
  auto q = QueueUnshielded(RowSpec{"h1", "Ava", "Okafor", "2011-08-14", "F", "", ""});
  ASSERT_TRUE(q);
  ASSERT_TRUE(ListedShielded(q->payload, ava)) << "the shielded namesake is listed";
  FeedCounts counts;
  auto [shielded, s] = ShieldedThenLink(*q, okafor, &counts);
  EXPECT_FALSE(shielded);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(counts.linked, 1u);
  EXPECT_EQ(LinkedChild("health", "h1"), okafor);
  EXPECT_TRUE(Full(ava).record.shield.shielded);
}

// But one the record scores at least `shield_lower` against (plausibly its record) keeps
// the item shielded, though an unshielded child between the thresholds left it queued
// unshielded: its location stays withheld, and it cannot update the unshielded child.
TEST_F(FeedShieldTest, AShieldedChildTheRecordPlausiblyIsKeepsTheItemShielded) {
  const ChildId ava = ShieldedAva();
  const ChildId okafor =
      BirthsChild(RowSpec{"b2", "Zara", "Okafor", "2016-03-03", "M", "3 Mill Lane", "LS3 1AA"});
  // Against Zara Okafor: given name -8, family name +12, date +12.6, gender -4.6, postcode
  // -2: 10, between the thresholds. Against Ava: 6.5 - 6 + 4 (one digit) + 1 - 2 = 3.5, at
  // or above `shield_lower` (0) and below `lower` (7).
  auto q =
      QueueUnshielded(RowSpec{"h1", "Ava", "Okafor", "2016-03-03", "F", "4 Hidden Way", "HX1 1AA"});
  ASSERT_TRUE(q);
  const auto ava_total = ListedShielded(q->payload, ava);
  ASSERT_TRUE(ava_total);
  EXPECT_NEAR(*ava_total, 3.5, 1e-9);
  FeedCounts counts;
  auto [shielded, s] = ShieldedThenLink(*q, okafor, &counts);
  EXPECT_TRUE(shielded);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_NE(Full(okafor).hidden->postcode, "HX1 1AA");
}

TEST_F(FeedShieldTest, AShieldedChildHasABirthPostingOnlyWhileShieldedAndAtItsDate) {
  // Filed under its month and day, then its year (keys::kShieldedBirthDayToken).
  auto birth_hits = [&](int year, int month, int day) {
    std::vector<ChildId> ids;
    bool complete = false;
    EXPECT_TRUE(store_
                    ->ScanName(
                        TermKind::kShieldedPhonetic, keys::kShieldedBirthDayToken,
                        keys::MonthDaySlot(static_cast<uint8_t>(month), static_cast<uint8_t>(day)),
                        keys::BirthYearByte(year), 100,
                        [&](const Posting& p) { ids.push_back(p.id); }, &complete)
                    .ok());
    return ids;
  };
  ASSERT_TRUE(Apply("births", 1, {kAva}).ok());
  const ChildId ava = LinkedChild("births", "b1");
  EXPECT_TRUE(birth_hits(2016, 3, 2).empty());
  ASSERT_TRUE(store_->SetShield(ava, true, "la_leeds", "fleeing violence").ok());
  EXPECT_EQ(birth_hits(2016, 3, 2), std::vector<ChildId>{ava});
  EXPECT_TRUE(birth_hits(2015, 3, 2).empty());
  // The births register corrects the date: the posting moves with it.
  RowSpec corrected = kAva;
  corrected.dob = "2016-04-02";
  ASSERT_TRUE(Apply("births", 2, {corrected}).ok());
  EXPECT_TRUE(birth_hits(2016, 3, 2).empty());
  EXPECT_EQ(birth_hits(2016, 4, 2), std::vector<ChildId>{ava});
  ConsistencyReport report;
  ASSERT_TRUE(store_->CheckConsistency(&report).ok());
  EXPECT_TRUE(report.ok());
  ASSERT_TRUE(store_->SetShield(ava, false, "la_leeds", "risk over").ok());
  EXPECT_TRUE(birth_hits(2016, 4, 2).empty()) << "lifting the shield drops it";
}

// A database written before birth postings existed gets them for its shielded children
// when first opened, and the check then passes. So does one whose birth postings are in the
// form before 2026-11-30 (under the birth year and month): they are moved.
TEST_F(FeedShieldTest, ADatabaseFromBeforeGetsItsShieldedChildrensBirthPostings) {
  const ChildId ava = ShieldedAva();
  const std::string birth_key =
      keys::NamePostingKey(TermKind::kShieldedPhonetic, keys::kShieldedBirthDayToken,
                           keys::MonthDaySlot(3, 2), keys::BirthYearByte(2016), ava);
  const std::string earlier_key =
      keys::NamePostingKey(TermKind::kShieldedPhonetic, keys::kShieldedBirthToken, 2016, 3, ava);
  for (bool earlier_form : {false, true}) {
    SCOPED_TRACE(earlier_form ? "birth postings under the year and month" : "no birth postings");
    store_.reset();
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      auto dump = raw.Dump();
      ASSERT_EQ(dump["name_index"].count(birth_key), 1u);
      EXPECT_EQ(dump["name_index"].count(earlier_key), 0u);
      if (earlier_form) raw.Put("name_index", earlier_key, dump["name_index"][birth_key]);
      raw.Delete("name_index", birth_key);
      if (!earlier_form) raw.Delete("meta", std::string(keys::kMetaShieldedBirth));
      raw.Delete("meta", std::string(keys::kMetaShieldedBirthDays));
      raw.Put("meta", std::string(keys::kMetaSchemaVersion), "1");
    }
    Open(false);
    store_.reset();
    {
      testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
      auto dump = raw.Dump();
      EXPECT_EQ(dump["name_index"].count(birth_key), 1u);
      EXPECT_EQ(dump["name_index"].count(earlier_key), 0u) << "moved, not copied";
      EXPECT_EQ(dump["meta"][std::string(keys::kMetaShieldedBirth)], "1");
      EXPECT_EQ(dump["meta"][std::string(keys::kMetaShieldedBirthDays)], "1");
      EXPECT_EQ(dump["meta"][std::string(keys::kMetaSchemaVersion)], "2")
          << "a build of version 1 would look for the postings where they were";
    }
    Open(false);
    ConsistencyReport report;
    ASSERT_TRUE(store_->CheckConsistency(&report).ok());
    for (const auto& p : report.problems)
      ADD_FAILURE() << ProblemKindName(p.kind) << " child " << p.child;
  }
  // A database whose postings were already moved but which still says version 1 is marked
  // 2 when opened.
  store_.reset();
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    raw.Put("meta", std::string(keys::kMetaSchemaVersion), "1");
  }
  Open(false);
  store_.reset();
  {
    testing_util::RawDb raw(dir_ + "/db", dir_ + "/db.key");
    EXPECT_EQ(raw.Dump()["meta"][std::string(keys::kMetaSchemaVersion)], "2");
  }
  Open(false);
}

TEST_F(FeedShieldTest, SourceRecordsNeedElevatedClearance) {
  ShieldedAva();
  auto r = store_->GetSourceRecord({"births", "b1"}, Clearance::Ordinary());
  EXPECT_EQ(r.status().code(), Status::Code::kPermissionDenied);
}

TEST_F(FeedShieldTest, FeedAddressOfAShieldedChildNeverReachesAFileInClear) {
  ShieldedAva();
  const std::string marker = "Marker-7f3a9c Refuge Road";
  RowSpec refuge{"la9", "Ava", "Whitfield", "2016-03-02", "F", marker, "BD7 1AA"};
  RowSpec waiting{"la10", "Ava", "Whitfield", "2012-10-11", "F", marker + " Flat 2", "BD8 2BB"};
  ASSERT_TRUE(Apply("la_bradford", 1, {refuge, waiting}).ok());
  std::vector<ReviewItem> items;
  ASSERT_TRUE(store_->ListReview(&items).ok());
  EXPECT_EQ(items.size(), 1u) << "one linked, one waiting: both hold the marker";
  store_.reset();  // close: flushes memtables, leaves WAL and SST files on disk
  size_t files = 0;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir_ + "/db")) {
    if (!entry.is_regular_file()) continue;
    ++files;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(bytes.find("Marker-7f3a9c"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("BD7 1AA"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("BD71AA"), std::string::npos) << entry.path();
    EXPECT_EQ(bytes.find("BD8 2BB"), std::string::npos) << entry.path();
  }
  EXPECT_GT(files, 3u);
}

}  // namespace
}  // namespace cp::feed_test
