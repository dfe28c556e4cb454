// Sensitive services over the wire: a record view and a search result carry them only
// where the child's consent is recorded — for every role, break glass included.
#include <gtest/gtest.h>

#include <algorithm>

#include "server/records.h"
#include "tests/server/server_fixture.h"

namespace cp::server::testing {
namespace {

namespace fb = protocol;
using fb::ErrorCode;

class SensitiveServicesTest : public ServerTest {
 protected:
  static void SetUpTestSuite() {
    ServerTest::SetUpTestSuite();
    NewChild c;
    c.record.given_name = "Maisie";
    c.record.family_name = "Thornton";
    c.record.date_of_birth = *ParseDate("2010-04-04");
    c.record.gender = Gender::kFemale;
    c.record.provenance = {{"school", "health"}, {"mental_health", "health"}};
    c.hidden.address = "5 Park Lane, Leeds";
    c.hidden.postcode = "LS6 2AB";
    c.hidden.services = {{ServiceKind::kSchool, "Hillside Academy", "0113 496 0100"},
                         {ServiceKind::kMentalHealth, "Leeds CAMHS", "0113 496 0200"},
                         {ServiceKind::kSubstanceMisuse, "Forward Leeds", "0113 496 0300"}};
    c.source = SourceRef{"health", "maisie"};
    c.source_payload = "maisie";
    std::vector<NewChild> batch{c};
    auto ids = store_->InsertChildren(batch);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    maisie_ = (*ids)[0];
  }

  // The service kinds of the record as `user` gets it over the wire.
  static std::vector<std::string> ServicesSeenBy(Client* c) {
    auto r = c->GetRecord(maisie_, "support plan");
    EXPECT_EQ(CodeOf(r), ErrorCode::None);
    std::vector<std::string> kinds;
    if (!r.ok() || r->error()) return kinds;
    const fb::Child* child = r->envelope().body_as_RecordResult()->child();
    if (child->hidden() && child->hidden()->services()) {
      for (const auto* s : *child->hidden()->services()) kinds.push_back(s->kind()->str());
    }
    if (child->provenance()) {
      for (const auto* p : *child->provenance()) kinds.push_back("provenance:" + p->field()->str());
    }
    return kinds;
  }

  static ChildId maisie_;
};

ChildId SensitiveServicesTest::maisie_ = 0;

using Kinds = std::vector<std::string>;

TEST_F(SensitiveServicesTest, WithoutConsentNoReaderGetsThem) {
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(maisie_, false).ok());
  AddUser("ss-health", "health");
  auto c = LoggedIn("ss-health");
  EXPECT_EQ(ServicesSeenBy(c.get()), (Kinds{"school", "provenance:school"}));
  // Breaking glass opens a shielded child's location, not a young person's sensitive services.
  AddUser("ss-glass", "child_protection");
  auto g = LoggedIn("ss-glass");
  ASSERT_EQ(CodeOf(g->BreakGlass("child at risk")), ErrorCode::None);
  EXPECT_EQ(ServicesSeenBy(g.get()), (Kinds{"school", "provenance:school"}));
  // Search results come from the same read path.
  SearchRequest q;
  q.given_name = "Maisie";
  q.family_name = "Thornton";
  q.date_of_birth = "2010-04-04";
  auto r = c->Search(q, "support plan");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  const auto* results = r->envelope().body_as_SearchResult()->results();
  ASSERT_NE(results, nullptr);
  ASSERT_EQ(results->size(), 1u);
  ChildView v = ChildFromFb(*results->Get(0), nullptr);
  ASSERT_TRUE(v.hidden.has_value());
  ASSERT_EQ(v.hidden->services.size(), 1u);
  EXPECT_EQ(v.hidden->services[0].kind, ServiceKind::kSchool);
}

TEST_F(SensitiveServicesTest, WithConsentEveryPermittedReaderGetsThemUntilWithdrawn) {
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(maisie_, true).ok());
  AddUser("ss-consented", "la_social_care");
  auto c = LoggedIn("ss-consented");
  EXPECT_EQ(ServicesSeenBy(c.get()), (Kinds{"school", "mental_health", "substance_misuse",
                                            "provenance:school", "provenance:mental_health"}));
  auto r = c->GetRecord(maisie_, "support plan");
  ASSERT_EQ(CodeOf(r), ErrorCode::None);
  ChildView v = ChildFromFb(*r->envelope().body_as_RecordResult()->child(), nullptr);
  ASSERT_EQ(v.hidden->services.size(), 3u);
  EXPECT_EQ(v.hidden->services[1].kind, ServiceKind::kMentalHealth);  // round-trips its kind
  EXPECT_EQ(v.hidden->services[1].contact_point, "0113 496 0200");
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(maisie_, false).ok());
  EXPECT_EQ(ServicesSeenBy(c.get()), (Kinds{"school", "provenance:school"}));
}

}  // namespace
}  // namespace cp::server::testing
