// FeedBatch, ReviewList and ReviewResolve end to end: the rules of `contactpoint feed
// apply` and `review link|new` over the wire, who may send them, what each refusal leaves
// unchanged, and that a feed can never make an unshielded copy of a shielded child.
#include <gtest/gtest.h>

#include "ingest/feed_applier.h"
#include "server/records.h"
#include "tests/server/server_fixture.h"
#include "tests/server/test_accounts.h"

namespace cp::server::testing {
namespace {

namespace fb = protocol;
using fb::ErrorCode;

constexpr char kHeader[] =
    "source_key,given_name,family_name,date_of_birth,gender,address,postcode\n";

class FeedServerTest : public ServerTest {
 protected:
  // A feed-supplier account for source `source` (an organisation of that name).
  static std::unique_ptr<Client> Supplier(const std::string& source) {
    Status s = AddTestOrganisation(services_, source, "127.0.0.0/8");
    EXPECT_TRUE(s.ok()) << s.ToString();
    AddUserIn(source + "-feed", "feed_supplier", source);
    return LoggedIn(source + "-feed");
  }
  static const fb::FeedBatchResult* Fed(const Result<Response>& r) {
    EXPECT_EQ(CodeOf(r), ErrorCode::None)
        << (r.ok() && r->error() ? r->error()->message()->str() : "");
    return r.ok() ? r->envelope().body_as_FeedBatchResult() : nullptr;
  }
  static FeedState StateOf(const std::string& source) {
    auto state = store_->GetFeedState(source);
    EXPECT_TRUE(state.ok());
    return state.ok() ? *state : FeedState{};
  }
  static std::vector<ChildView> Found(Client* c, const SearchRequest& q) {
    auto r = c->Search(q, "feed test");
    std::vector<ChildView> out;
    if (!r.ok() || r->error()) return out;
    for (const auto* child : *r->envelope().body_as_SearchResult()->results())
      out.push_back(ChildFromFb(*child, nullptr));
    return out;
  }
  static const AuditEvent* Last(const std::string& user, const std::string& action) {
    static std::vector<AuditEvent> events;
    events = audit_->For(user);
    for (auto it = events.rbegin(); it != events.rend(); ++it) {
      if (it->action == action) return &*it;
    }
    return nullptr;
  }
};

// The state of a source that never applied a batch.
FeedState Untouched(const std::string& source) {
  FeedState s;
  s.source = source;
  return s;
}

SearchRequest Query(const std::string& given, const std::string& family, const std::string& dob) {
  SearchRequest q;
  q.given_name = given;
  q.family_name = family;
  q.date_of_birth = dob;
  return q;
}

// ---- FeedBatch ----------------------------------------------------------------------------

TEST_F(FeedServerTest, ABatchIsAppliedCountedAndAResendChangesNothing) {
  auto c = Supplier("health_a");
  const std::string csv = std::string(kHeader) +
                          "H1,Zebedee,Quartermain,2012-04-04,M,2 New Road,LS2 2BB\n"
                          "H2,Xanthe,Okonkwo-Baptiste,2009-11-21,F,14 Far Lane,LS9 9ZZ\n"
                          "H3,Olivia,Smith,2016-03-02,F,\"1 Test Street, Leeds\",LS1 1AA\n";
  auto f_response = c->FeedBatch("health_a", 1, csv);
  const auto* f = Fed(f_response);
  ASSERT_NE(f, nullptr);
  EXPECT_FALSE(f->already_applied());
  EXPECT_EQ(f->created(), 2u);
  EXPECT_EQ(f->linked(), 1u);
  EXPECT_EQ(f->rejected(), 0u);
  EXPECT_EQ(StateOf("health_a").last_batch, 1u);
  auto link = store_->FindSource("health_a", "H3");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, olivia_);

  auto again = c->FeedBatch("health_a", 1, csv);
  const auto* g = Fed(again);
  ASSERT_NE(g, nullptr);
  EXPECT_TRUE(g->already_applied());
  EXPECT_EQ(g->created(), 2u);
  EXPECT_EQ(StateOf("health_a").last_batch, 1u);

  // Audited with counts, never the batch's content.
  const AuditEvent* e = Last("health_a-feed", "feed");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->outcome, "ok");
  EXPECT_NE(e->criteria.find("health_a batch 1"), std::string::npos) << e->criteria;
  for (const auto& event : audit_->For("health_a-feed")) {
    EXPECT_EQ(event.criteria.find("Zebedee"), std::string::npos);
    EXPECT_EQ(event.criteria.find("LS2"), std::string::npos);
  }
}

TEST_F(FeedServerTest, ABadRowIsReportedByLineAndColumnNeverByValue) {
  auto c = Supplier("health_b");
  const std::string csv = std::string(kHeader) +
                          "B1,Wilhelmina,Ostrowski,2011-06-06,F,3 Road,LS3 3CC\n"
                          "B2,Valentina,Ostrowski,2019-02-30,F,3 Road,LS3 3CC\n";
  auto f_response = c->FeedBatch("health_b", 1, csv);
  const auto* f = Fed(f_response);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->created(), 1u);
  EXPECT_EQ(f->rejected(), 1u);
  ASSERT_NE(f->rejected_rows(), nullptr);
  ASSERT_EQ(f->rejected_rows()->size(), 1u);
  const std::string report = f->rejected_rows()->Get(0)->str();
  EXPECT_NE(report.find("line 3"), std::string::npos) << report;
  EXPECT_NE(report.find("date_of_birth"), std::string::npos) << report;
  EXPECT_EQ(report.find("2019-02-30"), std::string::npos) << report;
  EXPECT_EQ(report.find("Valentina"), std::string::npos) << report;
}

TEST_F(FeedServerTest, AGapIsRefusedAndChangesNothing) {
  auto c = Supplier("health_c");
  const std::string csv = std::string(kHeader) + "C1,Ulrika,Nakamura,2010-01-01,F,4 Road,LS4 4DD\n";
  auto gap = c->FeedBatch("health_c", 2, csv);
  ASSERT_EQ(CodeOf(gap), ErrorCode::BatchOutOfSequence);
  EXPECT_NE(gap->error()->message()->str().find("the next batch is 1"), std::string::npos);
  EXPECT_EQ(StateOf("health_c"), Untouched("health_c"));
  EXPECT_FALSE(store_->FindSource("health_c", "C1").ok());
  EXPECT_EQ(CodeOf(c->FeedBatch("health_c", 0, csv)), ErrorCode::BatchOutOfSequence);
  const AuditEvent* e = Last("health_c-feed", "feed");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->outcome, "batch_out_of_sequence");
  // The right number is accepted afterwards.
  EXPECT_EQ(CodeOf(c->FeedBatch("health_c", 1, csv)), ErrorCode::None);
}

TEST_F(FeedServerTest, APausedSourceIsRefusedUntilResumed) {
  auto c = Supplier("health_d");
  FeedState paused = StateOf("health_d");
  paused.paused = true;
  ASSERT_TRUE(store_->PutFeedState(paused).ok());
  const std::string csv = std::string(kHeader) + "D1,Tamsin,Oyelaran,2010-02-02,F,5 Road,LS5 5EE\n";
  auto r = c->FeedBatch("health_d", 1, csv);
  ASSERT_EQ(CodeOf(r), ErrorCode::SourcePaused);
  EXPECT_EQ(StateOf("health_d"), paused);
  EXPECT_FALSE(store_->FindSource("health_d", "D1").ok());
  EXPECT_EQ(Last("health_d-feed", "feed")->outcome, "source_paused");
  paused.paused = false;
  ASSERT_TRUE(store_->PutFeedState(paused).ok());
  EXPECT_EQ(CodeOf(c->FeedBatch("health_d", 1, csv)), ErrorCode::None);
}

TEST_F(FeedServerTest, AMalformedHeaderIsAnInvalidRequestAndChangesNothing) {
  auto c = Supplier("health_e");
  auto r = c->FeedBatch("health_e", 1, "source_key,surname\nE1,Smith\n");
  ASSERT_EQ(CodeOf(r), ErrorCode::InvalidRequest);
  EXPECT_NE(r->error()->message()->str().find("unknown column"), std::string::npos);
  EXPECT_EQ(CodeOf(c->FeedBatch("health_e", 1, "")), ErrorCode::InvalidRequest);
  EXPECT_EQ(StateOf("health_e"), Untouched("health_e"));
}

TEST_F(FeedServerTest, ASupplierFeedsOnlyItsOwnSource) {
  auto c = Supplier("health_f");
  const std::string csv =
      std::string(kHeader) + "F1,Saoirse,Lindqvist,2010-03-03,F,6 Road,LS6 6FF\n";
  auto r = c->FeedBatch("births", 1, csv);
  ASSERT_EQ(CodeOf(r), ErrorCode::NotAuthorised);
  EXPECT_NE(r->error()->message()->str().find("health_f"), std::string::npos);
  EXPECT_EQ(StateOf("births").last_batch, 0u);
  EXPECT_FALSE(store_->FindSource("births", "F1").ok());
  EXPECT_EQ(Last("health_f-feed", "feed")->outcome, "not_authorised");
}

TEST_F(FeedServerTest, OtherRolesMayNotFeedOrReviewAndAreAudited) {
  AddUser("feed-social", "la_social_care");
  auto c = LoggedIn("feed-social");
  const std::string csv =
      std::string(kHeader) + "G1,Rosalind,Abernethy,2010-04-04,F,7 Road,LS7 7GG\n";
  EXPECT_EQ(CodeOf(c->FeedBatch("la_leeds", 1, csv)), ErrorCode::NotAuthorised);
  EXPECT_EQ(Last("feed-social", "feed")->outcome, "not_authorised");
  EXPECT_EQ(StateOf("la_leeds").last_batch, 0u);
  EXPECT_EQ(CodeOf(c->ReviewList(0)), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->ReviewResolve(1, 0, "decided")), ErrorCode::NotAuthorised);
  EXPECT_EQ(Last("feed-social", "review")->outcome, "not_authorised");
  // A feed supplier may not review either.
  auto supplier = Supplier("health_g");
  EXPECT_EQ(CodeOf(supplier->ReviewList(0)), ErrorCode::NotAuthorised);
}

TEST_F(FeedServerTest, WithoutASessionNothingIsServed) {
  auto c = Connect();
  EXPECT_EQ(CodeOf(c->FeedBatch("births", 1, kHeader)), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->ReviewList(0)), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->ReviewResolve(1, 0, "x")), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->CreateOrganisation("la_x", "X", {})), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->AddAddressRange("la_leeds", "10.0.0.0/8")), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->CreateUser("u", "la_leeds", "police", "a long password here")),
            ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->SetUserRole("u", "police")), ErrorCode::NotAuthenticated);
  EXPECT_EQ(CodeOf(c->UnlockUser("u")), ErrorCode::NotAuthenticated);
  EXPECT_EQ(StateOf("births").last_batch, 0u);
  EXPECT_FALSE(RangesOf(services_, "la_x").has_value());
}

TEST_F(FeedServerTest, TheDatabasesStoredWeightsDecideTheMatch) {
  // A link threshold no record reaches, stored in the database as `feed apply --weights`
  // stores it: the record that linked to Olivia in the test above makes a child of its own.
  ASSERT_TRUE(StoreFeedSettings(store_, std::nullopt, std::string("upper = 1000\nlower = 999\n")).ok());
  struct Restore {  // the other tests share this database and want the defaults
    ~Restore() { EXPECT_TRUE(StoreFeedSettings(store_, std::nullopt, std::string("# defaults\n")).ok()); }
  } restore;
  auto strict = StartServer(BaseConfig());
  ASSERT_NE(strict, nullptr);
  ASSERT_TRUE(AddTestOrganisation(services_, "health_w", "127.0.0.0/8").ok());
  AddUserIn("health_w-feed", "feed_supplier", "health_w");
  auto c = Connect(strict->server->port());
  ASSERT_EQ(CodeOf(c->LogIn("health_w-feed", Password("health_w-feed"), Code("health_w-feed"))),
            ErrorCode::None);
  const std::string csv =
      std::string(kHeader) + "W1,Olivia,Smith,2016-03-02,F,\"1 Test Street, Leeds\",LS1 1AA\n";
  auto f_response = c->FeedBatch("health_w", 1, csv);
  const auto* f = Fed(f_response);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->linked(), 0u);
  EXPECT_EQ(f->created(), 1u);
}

// ---- Shielding ----------------------------------------------------------------------------

// The 2009 failure: a feed record of a shielded child, with its new address, became a new
// unshielded child. Here it links to the shielded child or waits in review, shielded.
TEST_F(FeedServerTest, AFeedOfAShieldedChildNeverYieldsAnUnshieldedChild) {
  auto c = Supplier("health_h");
  const std::string csv = std::string(kHeader) +
                          "L1,Lily,Evans,2015-05-05,F,9 Refuge Road,M1 1AA\n"
                          "L2,Lilly,Evans,2015-05-06,F,9 Refuge Road,M1 1AA\n";
  auto f_response = c->FeedBatch("health_h", 1, csv);
  const auto* f = Fed(f_response);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->created(), 0u);
  EXPECT_EQ(f->linked() + f->review(), 2u);

  AddUser("shield-search", "la_social_care");
  auto searcher = LoggedIn("shield-search");
  for (const auto& q :
       {Query("Lily", "Evans", "2015-05-05"), Query("Lilly", "Evans", "2015-05-06")}) {
    for (const auto& child : Found(searcher.get(), q)) {
      EXPECT_TRUE(child.record.shield.shielded) << "child " << child.record.id;
      EXPECT_FALSE(child.hidden.has_value());
    }
  }
  SearchRequest by_postcode;
  by_postcode.given_name = "Lily";
  by_postcode.date_of_birth = "2015-05-05";
  by_postcode.gender = "F";
  by_postcode.postcode = "M1 1AA";
  EXPECT_TRUE(Found(searcher.get(), by_postcode).empty());
}

// ---- Review -------------------------------------------------------------------------------

class ReviewServerTest : public FeedServerTest {
 protected:
  // Feeds a record that plausibly, not surely, matches shielded Lily: it waits in review.
  static uint64_t ShieldedReviewItem(const std::string& source) {
    auto c = Supplier(source);
    const std::string csv =
        std::string(kHeader) + "R1,Lilly,Evans,2015-05-06,F,9 Refuge Road,M1 1AA\n";
    auto r = c->FeedBatch(source, 1, csv);
    EXPECT_EQ(CodeOf(r), ErrorCode::None);
    auto item = store_->FindReview({source, "R1"}, Clearance::Ordinary());
    EXPECT_TRUE(item.ok()) << "the record did not wait in review";
    return item.ok() ? item->id : 0;
  }
  static const fb::ReviewEntry* Entry(const Result<Response>& r, uint64_t id) {
    if (!r.ok() || r->error()) return nullptr;
    const auto* items = r->envelope().body_as_ReviewListResult()->items();
    for (const auto* i : *items) {
      if (i->review_id() == id) return i;
    }
    return nullptr;
  }
};

TEST_F(ReviewServerTest, TheListShowsNoHiddenFieldOrSourceOfAShieldedItem) {
  const uint64_t id = ShieldedReviewItem("health_r1");
  ASSERT_NE(id, 0u);
  AddUser("reviewer-1", "shielding_manager");
  auto c = LoggedIn("reviewer-1");
  auto r = c->ReviewList(0);
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_GE(r->envelope().body_as_ReviewListResult()->waiting(), 1u);
  const auto* e = Entry(r, id);
  ASSERT_NE(e, nullptr);
  EXPECT_TRUE(e->shielded());
  EXPECT_EQ(e->given_name()->str(), "Lilly");
  EXPECT_EQ(e->date_of_birth()->str(), "2015-05-06");
  EXPECT_TRUE(e->source()->str().empty());
  EXPECT_TRUE(e->key()->str().empty());
  ASSERT_NE(e->candidates(), nullptr);
  ASSERT_GE(e->candidates()->size(), 1u);
  EXPECT_EQ(e->candidates()->Get(0)->child_id(), lily_);
  EXPECT_TRUE(e->candidates()->Get(0)->shielded());
  // The entry has no place for an address, and nothing visible holds one.
  for (const auto* text : {e->reason(), e->given_name(), e->family_name(), e->middle_names()}) {
    EXPECT_EQ(text->str().find("Refuge"), std::string::npos);
    EXPECT_EQ(text->str().find("M1"), std::string::npos);
  }
  const AuditEvent* a = Last("reviewer-1", "review");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->outcome, "ok");
  EXPECT_NE(std::find(a->children.begin(), a->children.end(), lily_), a->children.end());
}

// An item queued while its candidate was open is listed as a shielded item once the
// candidate is shielded: the flag is worked out when the list is, not kept from the queue.
TEST_F(ReviewServerTest, AnItemWhoseCandidateWasShieldedSinceIsListedAsShielded) {
  auto births = Supplier("births_r9");
  ASSERT_EQ(CodeOf(births->FeedBatch(
                "births_r9", 1,
                std::string(kHeader) + "B9,Ava,Whitfield,2016-03-02,F,1 High St,LS1 4AB\n")),
            ErrorCode::None);
  auto ava = store_->FindSource("births_r9", "B9");
  ASSERT_TRUE(ava.ok());
  auto health = Supplier("health_r9");
  ASSERT_EQ(CodeOf(health->FeedBatch(
                "health_r9", 1,
                std::string(kHeader) + "R9,Ava,Whitfield,2016-08-14,F,4 Hidden Way,HX1 1AA\n")),
            ErrorCode::None);
  auto item = store_->FindReview({"health_r9", "R9"}, Clearance::Ordinary());
  ASSERT_TRUE(item.ok()) << "the record did not wait in review";
  EXPECT_FALSE(item->shielded);
  AddUser("reviewer-9", "shielding_manager");
  auto c = LoggedIn("reviewer-9");
  auto listed = c->ReviewList(0);  // the entry points into it
  const auto* before = Entry(listed, item->id);
  ASSERT_NE(before, nullptr);
  EXPECT_FALSE(before->shielded());
  EXPECT_EQ(before->source()->str(), "health_r9");

  ASSERT_TRUE(store_->SetShield(ava->child, true, "LA Leeds", "test").ok());
  auto r = c->ReviewList(0);
  const auto* after = Entry(r, item->id);
  ASSERT_NE(after, nullptr);
  EXPECT_TRUE(after->shielded());
  EXPECT_TRUE(after->source()->str().empty());
  EXPECT_TRUE(after->key()->str().empty());
}

TEST_F(ReviewServerTest, AShieldedItemCannotJoinAnUnshieldedChild) {
  const uint64_t id = ShieldedReviewItem("health_r2");
  ASSERT_NE(id, 0u);
  AddUser("reviewer-2", "shielding_manager");
  auto c = LoggedIn("reviewer-2");
  auto r = c->ReviewResolve(id, olivia_, "same child");
  ASSERT_EQ(CodeOf(r), ErrorCode::ShieldConflict);
  EXPECT_EQ(Last("reviewer-2", "review")->outcome, "shield_conflict");
  EXPECT_TRUE(store_->GetReview(id, Clearance::Ordinary()).ok()) << "the item must still wait";
  EXPECT_FALSE(store_->FindSource("health_r2", "R1").ok());
}

// Suites of their own: a resolved item changes what the next identical record matches.
class ReviewNewTest : public ReviewServerTest {};
class ReviewLinkTest : public ReviewServerTest {};

TEST_F(ReviewNewTest, NewFromAShieldedItemMakesAShieldedChild) {
  const uint64_t id = ShieldedReviewItem("health_r3");
  ASSERT_NE(id, 0u);
  AddUser("reviewer-3", "system_admin");
  auto c = LoggedIn("reviewer-3");
  auto r = c->ReviewResolve(id, 0, "a different child");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  const auto* res = r->envelope().body_as_ReviewResolveResult();
  EXPECT_TRUE(res->created());
  EXPECT_TRUE(res->shielded());
  EXPECT_NE(res->child_id(), lily_);
  auto record = store_->GetRecord(res->child_id());
  ASSERT_TRUE(record.ok());
  EXPECT_TRUE(record->shield.shielded);
  EXPECT_FALSE(store_->GetReview(id, Clearance::Ordinary()).ok());
  const AuditEvent* a = Last("reviewer-3", "review");
  EXPECT_EQ(a->outcome, "ok");
  EXPECT_EQ(a->reason, "a different child");
  EXPECT_EQ(a->children, std::vector<ChildId>{res->child_id()});
  // Resolved once: the id is gone.
  EXPECT_EQ(CodeOf(c->ReviewResolve(id, 0, "again")), ErrorCode::NotFound);
}

TEST_F(ReviewLinkTest, LinkToTheShieldedChild) {
  const uint64_t id = ShieldedReviewItem("health_r4");
  ASSERT_NE(id, 0u);
  AddUser("reviewer-4", "shielding_manager");
  auto c = LoggedIn("reviewer-4");
  auto r = c->ReviewResolve(id, lily_, "same child, new address");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  EXPECT_EQ(r->envelope().body_as_ReviewResolveResult()->child_id(), lily_);
  EXPECT_FALSE(r->envelope().body_as_ReviewResolveResult()->created());
  auto link = store_->FindSource("health_r4", "R1");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, lily_);
  EXPECT_TRUE(store_->GetRecord(lily_)->shield.shielded);
}

TEST_F(ReviewServerTest, UnknownItemOrChildAndMissingReasonAreRefusedAndAudited) {
  const uint64_t id = ShieldedReviewItem("health_r5");
  ASSERT_NE(id, 0u);
  AddUser("reviewer-5", "shielding_manager");
  auto c = LoggedIn("reviewer-5");
  EXPECT_EQ(CodeOf(c->ReviewResolve(999999, 0, "decided")), ErrorCode::NotFound);
  EXPECT_EQ(Last("reviewer-5", "review")->outcome, "not_found");
  EXPECT_EQ(CodeOf(c->ReviewResolve(id, 987654321, "decided")), ErrorCode::NotFound);
  EXPECT_EQ(CodeOf(c->ReviewResolve(id, lily_, "  ")), ErrorCode::MissingReason);
  EXPECT_EQ(Last("reviewer-5", "review")->outcome, "missing_reason");
  EXPECT_TRUE(store_->GetReview(id, Clearance::Ordinary()).ok()) << "nothing was resolved";
}

}  // namespace
}  // namespace cp::server::testing
