// Data managers over the wire: archived children by id for a year after archiving, never
// to ordinary users, never a shielded child's hidden fields, every view audited.
#include <gtest/gtest.h>

#include "server/london_time.h"
#include "server/records.h"
#include "storage/retention.h"
#include "tests/server/server_fixture.h"

namespace cp::server::testing {
namespace {

namespace fb = protocol;
using fb::ErrorCode;

class DataManagerTest : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    const Date today = LondonDate(SystemNowMs() / 1000);
    // 18 between one and two months ago: archived within the data managers' year. 20 this
    // month: archived about two years ago, past that year, not yet due for deletion.
    const Date recent =
        Date::FromDays(Date{static_cast<int16_t>(today.year - 18), today.month, 1}.ToDays() - 30);
    const Date old{static_cast<int16_t>(today.year - 20), today.month, 1};
    recent_ = Insert("Rosa", recent, "rosa");
    shielded_ = Insert("Sian", recent, "sian");
    ASSERT_TRUE(store_->SetShield(shielded_, true, "LA Leeds", "test").ok());
    old_ = Insert("Olwen", old, "olwen");
    for (ChildId id : {recent_, shielded_, old_}) {
      auto due = ArchiveDueFor(*store_->GetRecord(id));
      ASSERT_TRUE(due.has_value());
      ASSERT_TRUE(store_->ArchiveChild(id, due->on).ok());
    }
    recent_archived_on_ = store_->GetRecord(recent_)->lifecycle.archived_on;
  }

  static ChildId Insert(const std::string& given, Date born, const std::string& key) {
    NewChild c;
    c.record.given_name = given;
    c.record.family_name = "Archer";
    c.record.date_of_birth = born;
    c.record.gender = Gender::kFemale;
    c.hidden.address = "2 Record Row, Leeds";
    c.hidden.postcode = "LS2 2AA";
    c.source = SourceRef{"births", key};
    c.source_payload = key;
    std::vector<NewChild> batch{c};
    auto ids = store_->InsertChildren(batch);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? (*ids)[0] : 0;
  }

  static ChildId recent_, shielded_, old_;
  static Date recent_archived_on_;
};

ChildId DataManagerTest::recent_ = 0, DataManagerTest::shielded_ = 0, DataManagerTest::old_ = 0;
Date DataManagerTest::recent_archived_on_;

const fb::Child* RecordOf(const Result<Response>& r) {
  if (!r.ok() || r->error()) return nullptr;
  const auto* result = r->envelope().body_as_RecordResult();
  return result ? result->child() : nullptr;
}

TEST_F(DataManagerTest, AnOrdinaryUserDoesNotFindAnArchivedChild) {
  AddUser("dm-ordinary", "la_social_care");
  auto c = LoggedIn("dm-ordinary");
  EXPECT_EQ(CodeOf(c->GetRecord(recent_, "enquiry")), ErrorCode::NotFound);
  EXPECT_EQ(CodeOf(c->GetRecord(old_, "enquiry")), ErrorCode::NotFound);
  auto events = audit_->For("dm-ordinary");
  ASSERT_EQ(events.size(), 3u);  // login, two views
  EXPECT_EQ(events[1].outcome, "not_found");
  EXPECT_EQ(events[1].children, std::vector<ChildId>{recent_});
}

TEST_F(DataManagerTest, ADataManagerReadsAnArchivedChildWithinItsYear) {
  AddUser("dm-reader", "data_manager");
  auto c = LoggedIn("dm-reader");
  auto r = c->GetRecord(recent_, "records check");
  const fb::Child* child = RecordOf(r);
  ASSERT_NE(child, nullptr) << static_cast<int>(CodeOf(r));
  EXPECT_EQ(child->child_id(), recent_);
  ASSERT_NE(child->archived_on(), nullptr);
  EXPECT_EQ(child->archived_on()->str(), recent_archived_on_.ToString());
  ASSERT_NE(child->hidden(), nullptr);  // not shielded: what any reader of a live child sees
  EXPECT_EQ(child->hidden()->address()->str(), "2 Record Row, Leeds");
  EXPECT_EQ(ChildFromFb(*child, nullptr).record.lifecycle.archived_on, recent_archived_on_);

  // A live child reads as usual, with no archive date.
  const auto live_response = c->GetRecord(olivia_, "records check");  // owns the bytes
  const fb::Child* live = RecordOf(live_response);
  ASSERT_NE(live, nullptr);
  EXPECT_EQ(live->archived_on(), nullptr);

  auto events = audit_->For("dm-reader");
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].action, "get");
  EXPECT_EQ(events[1].outcome, "ok");
  EXPECT_EQ(events[1].reason, "records check");
  EXPECT_EQ(events[1].children, std::vector<ChildId>{recent_});
  EXPECT_EQ(events[1].criteria,
            "archived record (archived on " + recent_archived_on_.ToString() + ")");
  EXPECT_EQ(events[2].criteria, "");
}

TEST_F(DataManagerTest, PastTheYearADataManagerFindsNothing) {
  AddUser("dm-late", "data_manager");
  auto c = LoggedIn("dm-late");
  EXPECT_EQ(CodeOf(c->GetRecord(old_, "records check")), ErrorCode::NotFound);
  auto events = audit_->For("dm-late");
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].outcome, "not_found");
  EXPECT_EQ(events[1].children, std::vector<ChildId>{old_});
}

TEST_F(DataManagerTest, ADataManagerNeverSeesAShieldedChildsHiddenFields) {
  AddUser("dm-shielded", "data_manager");
  auto c = LoggedIn("dm-shielded");
  const auto shielded_response = c->GetRecord(shielded_, "records check");  // owns the bytes
  const fb::Child* child = RecordOf(shielded_response);
  ASSERT_NE(child, nullptr);
  EXPECT_TRUE(child->shielded());
  EXPECT_EQ(child->hidden(), nullptr);
  EXPECT_TRUE(child->sources() == nullptr || child->sources()->size() == 0);
  const auto lily_response = c->GetRecord(lily_, "records check");  // owns the bytes
  const fb::Child* lily = RecordOf(lily_response);
  ASSERT_NE(lily, nullptr);
  EXPECT_EQ(lily->hidden(), nullptr);
}

TEST_F(DataManagerTest, SearchDoesNotReachArchivedChildren) {
  // Archiving takes a child out of the search indexes: data managers read archived records
  // by id (the id from the audit trail or `contactpoint retention run --dry-run`).
  AddUser("dm-search", "data_manager");
  auto c = LoggedIn("dm-search");
  SearchRequest q;
  q.given_name = "Rosa";
  q.family_name = "Archer";
  q.date_of_birth = store_->GetRecord(recent_)->date_of_birth.ToString();
  auto r = c->Search(q, "records check");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  const auto* result = r->envelope().body_as_SearchResult();
  ASSERT_NE(result, nullptr);
  EXPECT_TRUE(result->results() == nullptr || result->results()->size() == 0);
}

TEST_F(DataManagerTest, ADataManagerMayNotShieldOrBreakGlass) {
  AddUser("dm-limits", "data_manager");
  auto c = LoggedIn("dm-limits");
  EXPECT_EQ(CodeOf(c->SetShield(olivia_, true, "no")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->BreakGlass("no")), ErrorCode::NotAuthorised);
  EXPECT_EQ(CodeOf(c->GetRecord(recent_, "")), ErrorCode::MissingReason);
}

}  // namespace
}  // namespace cp::server::testing
