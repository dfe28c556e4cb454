// Sensitive services (storage/record.h IsSensitiveService): stored sealed with the hidden
// fields, released by the read path only where the child's consent is recorded.
#include <gtest/gtest.h>

#include <algorithm>

#include "storage/child_store.h"
#include "storage/record_codec.h"
#include "storage/retention.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using testing_util::MakeChild;
using testing_util::MakeHidden;

std::vector<ServiceKind> Kinds(const Result<ChildView>& v) {
  std::vector<ServiceKind> out;
  if (!v.ok() || !v->hidden) return out;
  for (const auto& s : v->hidden->services) out.push_back(s.kind);
  return out;
}

bool HasProvenance(const Result<ChildView>& v, const std::string& field) {
  return v.ok() && std::any_of(v->record.provenance.begin(), v->record.provenance.end(),
                               [&](const FieldSource& p) { return p.field == field; });
}

class SensitiveServicesTest : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    CreateStore();
    NewChild c = MakeChild("Maisie", "Thornton", Date{2010, 4, 4}, "h1");
    c.hidden = MakeHidden("5 Park Lane", "LS6 2AB");
    c.hidden.services = {{ServiceKind::kSchool, "Hillside Academy", ""},
                         {ServiceKind::kSexualHealth, "Leeds Sexual Health", "0113 496 0001"},
                         {ServiceKind::kMentalHealth, "Leeds CAMHS", "0113 496 0002"},
                         {ServiceKind::kSubstanceMisuse, "Forward Leeds", "0113 496 0003"}};
    c.record.provenance = {{"school", "health"}, {"mental_health", "health"}};
    std::vector<NewChild> batch{std::move(c)};
    auto ids = store_->InsertChildren(batch);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    id_ = ids->at(0);
  }
  ChildId id_ = 0;
};

const std::vector<ServiceKind> kAll = {ServiceKind::kSchool, ServiceKind::kSexualHealth,
                                       ServiceKind::kMentalHealth, ServiceKind::kSubstanceMisuse};
const std::vector<ServiceKind> kSchoolOnly = {ServiceKind::kSchool};

TEST(ServiceKindTest, NamesRoundTripAndOnlyThreeAreSensitive) {
  for (int k = 0; k <= static_cast<int>(kLastServiceKind); ++k) {
    const auto kind = static_cast<ServiceKind>(k);
    EXPECT_EQ(ParseServiceKind(ServiceKindName(kind)), kind);
    EXPECT_EQ(IsSensitiveService(kind), k >= 4) << ServiceKindName(kind);
  }
  EXPECT_FALSE(ParseServiceKind("sexual health"));
  EXPECT_FALSE(ParseServiceKind(""));
}

TEST(ServiceKindTest, TheCodecKeepsTheNewKindsAndRefusesAnUnknownOne) {
  HiddenFields h;
  h.services = {{ServiceKind::kSubstanceMisuse, "Forward Leeds", "x"}};
  auto back = DecodeHiddenFields(EncodeHiddenFields(h));
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, h);
  h.services[0].kind = static_cast<ServiceKind>(7);
  EXPECT_EQ(DecodeHiddenFields(EncodeHiddenFields(h)).status().code(), Status::Code::kCorruption);
  ChildRecord r;
  r.id = 3;
  r.lifecycle.consent_sensitive_services = true;
  auto record = DecodeChildRecord(EncodeChildRecord(r));
  ASSERT_TRUE(record.ok());
  EXPECT_TRUE(record->lifecycle.consent_sensitive_services);
}

TEST_F(SensitiveServicesTest, WithoutConsentOnlyTheEngineReadsThem) {
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Ordinary())), kSchoolOnly);
  for (auto level : {Clearance::Level::kShieldingManager, Clearance::Level::kBreakGlass}) {
    EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Elevated(level, "u", "r"))), kSchoolOnly);
  }
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::DataManager("dm", "r", Date{2026, 1, 1}))),
            kSchoolOnly);
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Elevated(Clearance::Level::kMatching, "feed", "r"))),
            kAll);
  // Nor does the provenance say that a source supplied one.
  auto view = store_->Get(id_, Clearance::Ordinary());
  EXPECT_TRUE(HasProvenance(view, "school"));
  EXPECT_FALSE(HasProvenance(view, "mental_health"));
  // Every read path: MultiGet and the full scan too.
  const ChildId ids[] = {id_};
  EXPECT_EQ(Kinds(store_->MultiGet(ids, Clearance::Ordinary())[0]), kSchoolOnly);
  size_t seen = 0;
  ASSERT_TRUE(store_
                  ->ForEachChild(Clearance::Ordinary(),
                                 [&](const ChildView& v) {
                                   seen += v.hidden->services.size();
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(seen, 1u);
}

TEST_F(SensitiveServicesTest, ConsentShowsThemAndWithdrawalHidesThemAgain) {
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(id_, true).ok());
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Ordinary())), kAll);
  EXPECT_TRUE(HasProvenance(store_->Get(id_, Clearance::Ordinary()), "mental_health"));
  Reopen();  // the consent is stored with the record
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Ordinary())), kAll);
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(id_, true).ok());  // again: no change
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(id_, false).ok());
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Ordinary())), kSchoolOnly);
  // Still stored, sealed: the engine reads them, so a consent recorded later shows them.
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::Elevated(Clearance::Level::kMatching, "f", "r"))),
            kAll);
}

TEST_F(SensitiveServicesTest, AShieldedChildWithConsentStillShowsNothingToOrdinaryReaders) {
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(id_, true).ok());
  ASSERT_TRUE(store_->SetShield(id_, true, "LA Leeds", "test").ok());
  auto view = store_->Get(id_, Clearance::Ordinary());
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->hidden.has_value());
  EXPECT_TRUE(view->record.provenance.empty());
  EXPECT_EQ(Kinds(store_->Get(
                id_, Clearance::Elevated(Clearance::Level::kShieldingManager, "LA Leeds", "r"))),
            kAll);
}

TEST_F(SensitiveServicesTest, ConsentForAnUnknownChildIsNotFoundAndAnArchivedChildMayWithdraw) {
  EXPECT_TRUE(store_->SetSensitiveServicesConsent(id_ + 100, true).IsNotFound());
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(id_, true).ok());
  auto due = ArchiveDueFor(*store_->GetRecord(id_));
  ASSERT_TRUE(due.has_value());
  ASSERT_TRUE(store_->ArchiveChild(id_, due->on).ok());
  ASSERT_TRUE(store_->SetSensitiveServicesConsent(id_, false).ok());
  EXPECT_EQ(Kinds(store_->Get(id_, Clearance::DataManager("dm", "r", due->on))), kSchoolOnly);
  EXPECT_TRUE(store_->GetRecord(id_)->lifecycle.archived());
}

}  // namespace
}  // namespace cp
