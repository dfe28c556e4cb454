// Tests for the record lifecycle (storage/retention.h): each rule at its boundary dates,
// what an archived child is to each reader, deletion without a trace, dry runs and re-runs.

#include "storage/retention.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "storage/audit_log.h"
#include "storage/check.h"
#include "storage/child_store.h"
#include "storage/keys.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"
#include "util/coding.h"

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using testing_util::MakeChild;
using testing_util::MakeHidden;
using testing_util::RawDb;
using testing_util::TestIndexPolicy;

using testing_util::D;

Clearance Engine() { return Clearance::Elevated(Clearance::Level::kMatching, "test", "test"); }
Clearance DataManager(Date as_of) { return Clearance::DataManager("records team", "test", as_of); }

class RetentionTest : public testing_util::TempDirTest {
 protected:
  ChildId Insert(const std::string& given, const std::string& family, Date dob,
                 const std::string& key, Date dod = {}) {
    NewChild c = MakeChild(given, family, dob, key);
    c.record.date_of_death = dod;
    c.record.nhs_number = "9434765919";
    c.hidden = MakeHidden(given + " House, 1 Lane", "LS1 4AB");
    std::vector<NewChild> batch{std::move(c)};
    auto ids = store_->InsertChildren(batch);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? ids->at(0) : 0;
  }

  RetentionReport Run(Date as_of, bool dry_run = false) {
    auto report = RunRetention(store_.get(), as_of, RetentionOptions{dry_run, false});
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return report.ok() ? *report : RetentionReport{};
  }

  bool Archived(ChildId id) {
    auto r = store_->GetRecord(id);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && r->lifecycle.archived();
  }

  // Whether any ordinary search path reaches the child: name postings, identifier, place.
  bool Searchable(ChildId id, const std::string& family, Date dob) {
    bool found = false, complete = false;
    auto visit = [&](const Posting& p) { found = found || p.id == id; };
    EXPECT_TRUE(store_
                    ->ScanName(TermKind::kPhonetic, TestIndexPolicy::Upper(family),
                               static_cast<uint16_t>(dob.year), std::nullopt, 100, visit, &complete)
                    .ok());
    EXPECT_TRUE(store_->ScanPlace("LS1 4AB", 100, visit, &complete).ok());
    std::vector<ChildId> by_nhs;
    EXPECT_TRUE(store_->FindByIdentifier(keys::IdKind::kNhsNumber, "9434765919", &by_nhs).ok());
    return found || std::find(by_nhs.begin(), by_nhs.end(), id) != by_nhs.end();
  }

  void ExpectConsistent() {
    ConsistencyReport report;
    ASSERT_TRUE(store_->CheckConsistency(&report).ok());
    for (const auto& p : report.problems)
      ADD_FAILURE() << ProblemKindName(p.kind) << " child " << p.child;
  }

  std::map<std::string, std::map<std::string, std::string>> DumpClosed() {
    store_.reset();
    std::map<std::string, std::map<std::string, std::string>> dump;
    {
      RawDb raw(db_dir_);
      dump = raw.Dump();
    }
    OpenStore();
    return dump;
  }
};

TEST(LifecycleDates, DayAfterAnniversary) {
  EXPECT_EQ(DayAfterAnniversary(D(2008, 5, 10), 18), D(2026, 5, 11));
  EXPECT_EQ(DayAfterAnniversary(D(2008, 12, 31), 18), D(2027, 1, 1));
  // 29 February: the anniversary in a common year is 1 March, so the day after is 2 March.
  EXPECT_EQ(DayAfterAnniversary(D(2008, 2, 29), 18), D(2026, 3, 2));
  EXPECT_EQ(DayAfterAnniversary(D(2024, 2, 29), 1), D(2025, 3, 2));
  EXPECT_EQ(DayAfterAnniversary(D(2004, 2, 29), 4), D(2008, 3, 1));  // a leap year keeps 29 Feb
  EXPECT_EQ(LastDayReadableByDataManager(D(2026, 5, 11)), D(2027, 5, 11));
  EXPECT_EQ(DeletionDueFor(D(2026, 5, 11)), D(2032, 5, 12));
}

TEST(LifecycleDates, TheEarlierRuleArchives) {
  ChildRecord r;
  r.date_of_birth = D(2008, 5, 10);
  r.date_of_death = D(2026, 1, 1);  // a year after death is later than the 18th birthday
  auto due = ArchiveDueFor(r);
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->on, D(2026, 5, 11));
  EXPECT_EQ(due->rule, ArchiveRule::kAge18);
  r.date_of_death = D(2020, 1, 1);
  EXPECT_EQ(ArchiveDueFor(r)->rule, ArchiveRule::kDeath);
  EXPECT_EQ(ArchiveDueFor(ChildRecord{}), std::nullopt);
}

TEST_F(RetentionTest, ArchivedTheDayAfterThe18thBirthday) {
  CreateStore();
  ChildId id = Insert("Amelia", "Zebedee", D(2008, 5, 10), "a1");
  RetentionReport on_birthday = Run(D(2026, 5, 10));
  EXPECT_EQ(on_birthday.ArchivedTotal(), 0u);
  EXPECT_FALSE(Archived(id));
  EXPECT_TRUE(Searchable(id, "Zebedee", D(2008, 5, 10)));
  EXPECT_TRUE(store_->Get(id, Clearance::Ordinary()).ok());

  RetentionReport day_after = Run(D(2026, 5, 11));
  EXPECT_EQ(day_after.archived[static_cast<int>(ArchiveRule::kAge18)], 1u);
  ASSERT_TRUE(Archived(id));
  EXPECT_EQ(store_->GetRecord(id)->lifecycle.archived_on, D(2026, 5, 11));
  EXPECT_FALSE(Searchable(id, "Zebedee", D(2008, 5, 10)));
  EXPECT_TRUE(store_->Get(id, Clearance::Ordinary()).status().IsNotFound());
  ExpectConsistent();
}

TEST_F(RetentionTest, ConsentKeepsAYoungPersonUntilThe25thBirthday) {
  CreateStore();
  ChildId id = Insert("Bea", "Yarrow", D(2008, 5, 10), "b1");
  ASSERT_TRUE(store_->SetConsentTo25(id, true).ok());
  EXPECT_EQ(Run(D(2026, 5, 11)).ArchivedTotal(), 0u);
  EXPECT_EQ(Run(D(2033, 5, 10)).ArchivedTotal(), 0u);
  EXPECT_FALSE(Archived(id));
  EXPECT_TRUE(Searchable(id, "Yarrow", D(2008, 5, 10)));
  RetentionReport r = Run(D(2033, 5, 11));
  EXPECT_EQ(r.archived[static_cast<int>(ArchiveRule::kAge25WithConsent)], 1u);
  EXPECT_TRUE(Archived(id));
  EXPECT_EQ(store_->GetRecord(id)->lifecycle.archived_on, D(2033, 5, 11));
}

TEST_F(RetentionTest, ConsentWithdrawnFallsBackTo18AndAnArchivedChildRefusesConsent) {
  CreateStore();
  ChildId id = Insert("Cara", "Xenon", D(2008, 5, 10), "c1");
  ASSERT_TRUE(store_->SetConsentTo25(id, true).ok());
  ASSERT_TRUE(store_->SetConsentTo25(id, false).ok());
  Run(D(2026, 5, 11));
  EXPECT_TRUE(Archived(id));
  Status s = store_->SetConsentTo25(id, true);
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_TRUE(store_->SetConsentTo25(999, true).IsNotFound());
}

TEST_F(RetentionTest, ArchivedTheDayAfterTheFirstAnniversaryOfDeath) {
  CreateStore();
  ChildId id = Insert("Dora", "Wren", D(2015, 1, 1), "d1", D(2024, 6, 30));
  EXPECT_EQ(Run(D(2025, 6, 30)).ArchivedTotal(), 0u);
  EXPECT_TRUE(Searchable(id, "Wren", D(2015, 1, 1)));
  RetentionReport r = Run(D(2025, 7, 1));
  EXPECT_EQ(r.archived[static_cast<int>(ArchiveRule::kDeath)], 1u);
  EXPECT_EQ(store_->GetRecord(id)->lifecycle.archived_on, D(2025, 7, 1));
  EXPECT_FALSE(Searchable(id, "Wren", D(2015, 1, 1)));
}

TEST_F(RetentionTest, LeapDayBirthdayTurns18On1MarchInACommonYear) {
  CreateStore();
  ChildId id = Insert("Ella", "Vole", D(2008, 2, 29), "e1");
  EXPECT_EQ(Run(D(2026, 2, 28)).ArchivedTotal(), 0u);
  EXPECT_EQ(Run(D(2026, 3, 1)).ArchivedTotal(), 0u);  // the 18th birthday
  EXPECT_FALSE(Archived(id));
  EXPECT_EQ(Run(D(2026, 3, 2)).ArchivedTotal(), 1u);
  EXPECT_EQ(store_->GetRecord(id)->lifecycle.archived_on, D(2026, 3, 2));
}

// A feed may correct a date of birth between the run's scan and its write.
TEST_F(RetentionTest, ArchivingOnADateTheRulesDoNotGiveIsRefused) {
  CreateStore();
  ChildId id = Insert("Cy", "Swift", D(2008, 5, 10), "cy1");
  Status s = store_->ArchiveChild(id, D(2026, 5, 12));
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_FALSE(Archived(id));
  EXPECT_TRUE(store_->ArchiveChild(id, D(2026, 5, 11)).ok());
  EXPECT_TRUE(store_->ArchiveChild(id, D(2026, 5, 11)).ok()) << "archiving again changes nothing";
  EXPECT_TRUE(store_->ArchiveChild(999, D(2026, 5, 11)).IsNotFound());
}

TEST_F(RetentionTest, NoDateOfBirthAndNoDeathStaysLive) {
  CreateStore();
  ChildId id = Insert("Fay", "Umber", Date{}, "f1");
  RetentionReport r = Run(D(2090, 1, 1));
  EXPECT_EQ(r.ArchivedTotal(), 0u);
  EXPECT_EQ(r.no_rule, 1u);
  EXPECT_FALSE(Archived(id));
}

TEST_F(RetentionTest, DataManagersReadAnArchivedChildForOneYear) {
  CreateStore();
  ChildId id = Insert("Gina", "Teal", D(2008, 5, 10), "g1");
  ChildId young = Insert("Hal", "Teal", D(2015, 5, 10), "g2");
  Run(D(2026, 5, 11));
  ASSERT_TRUE(Archived(id));
  for (Date day : {D(2026, 5, 11), D(2027, 5, 11)}) {
    auto view = store_->Get(id, DataManager(day));
    ASSERT_TRUE(view.ok()) << day.ToString() << ": " << view.status().ToString();
    EXPECT_EQ(view->record.lifecycle.archived_on, D(2026, 5, 11));
    EXPECT_TRUE(view->hidden.has_value());  // not shielded: as any reader sees it
  }
  EXPECT_TRUE(store_->Get(id, DataManager(D(2027, 5, 12))).status().IsNotFound());
  for (auto level : {Clearance::Level::kShieldingManager, Clearance::Level::kBreakGlass}) {
    EXPECT_TRUE(store_->Get(id, Clearance::Elevated(level, "x", "y")).status().IsNotFound());
  }
  // A data manager's clearance without a date sees no archived child.
  EXPECT_TRUE(store_->Get(id, Clearance::Elevated(Clearance::Level::kDataManager, "x", "y"))
                  .status()
                  .IsNotFound());
  EXPECT_TRUE(store_->Get(id, Engine()).ok());
  EXPECT_TRUE(store_->Get(young, DataManager(D(2026, 5, 11))).ok());

  // An export under ordinary clearance leaves the archived child out; a data manager's has it.
  std::vector<ChildId> ordinary, manager;
  ASSERT_TRUE(store_
                  ->ForEachChild(Clearance::Ordinary(),
                                 [&](const ChildView& v) {
                                   ordinary.push_back(v.record.id);
                                   return true;
                                 })
                  .ok());
  ASSERT_TRUE(store_
                  ->ForEachChild(DataManager(D(2026, 6, 1)),
                                 [&](const ChildView& v) {
                                   manager.push_back(v.record.id);
                                   return true;
                                 })
                  .ok());
  EXPECT_THAT(ordinary, ElementsAre(young));
  EXPECT_THAT(manager, ElementsAre(id, young));

  RetentionReport r = Run(D(2027, 5, 12));
  EXPECT_EQ(r.archived_readable, 0u);
  EXPECT_EQ(r.archived_kept, 1u);
}

TEST_F(RetentionTest, DataManagerDoesNotSeeAShieldedArchivedChildsHiddenFields) {
  CreateStore();
  ChildId id = Insert("Ivy", "Sable", D(2008, 5, 10), "i1");
  ASSERT_TRUE(store_->SetShield(id, true, "la_leeds", "fleeing violence").ok());
  Run(D(2026, 5, 11));
  auto view = store_->Get(id, DataManager(D(2026, 5, 11)));
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_EQ(view->hidden, std::nullopt);
  EXPECT_THAT(view->record.sources, IsEmpty());
}

// An archived shielded child keeps its shielded phonetic postings (feed matching reads
// them, so a feed record of it cannot make an unshielded child) and nothing else; nothing
// hidden is written in clear by archiving.
TEST_F(RetentionTest, ArchivingAShieldedChildKeepsOnlyShieldedPostingsAndNothingInClear) {
  CreateStore();
  const std::string marker = "ARCHMARK-5e1b";
  NewChild c = MakeChild("Juno", "Rook", D(2008, 5, 10), "j1");
  c.hidden = MakeHidden(marker + " Close", "LS2 9ZZ");
  std::vector<NewChild> batch{std::move(c)};
  ChildId id = store_->InsertChildren(batch)->at(0);
  ASSERT_TRUE(store_->SetShield(id, true, "la_leeds", "fleeing violence").ok());
  Run(D(2026, 5, 11));
  ASSERT_TRUE(Archived(id));
  ExpectConsistent();

  auto dump = DumpClosed();
  std::vector<std::string> kinds;
  for (const auto& [key, value] : dump["name_index"]) kinds.push_back(std::string(1, key[0]));
  EXPECT_THAT(kinds, ElementsAre("S", "S"));  // its code's year-free posting, and its birth posting
  EXPECT_THAT(dump["place_index"], IsEmpty());
  EXPECT_THAT(dump["id_index"], IsEmpty());
  bool control = false;
  for (const auto& [family, entries] : dump) {
    for (const auto& [key, value] : entries) {
      EXPECT_EQ(key.find(marker), std::string::npos) << family;
      EXPECT_EQ(value.find(marker), std::string::npos) << family;
      control = control || value.find("Juno") != std::string::npos;
    }
  }
  EXPECT_TRUE(control) << "the scan must see the given name, stored in clear by design";
  store_.reset();
  for (const auto& entry : std::filesystem::recursive_directory_iterator(db_dir_)) {
    if (!entry.is_regular_file()) continue;
    std::string bytes = testing_util::ReadFileBytes(entry.path());
    EXPECT_EQ(bytes.find(marker), std::string::npos) << entry.path();
  }
}

TEST_F(RetentionTest, AFeedUpdateOfAnArchivedChildLeavesItArchivedAndUnsearchable) {
  CreateStore();
  ChildId id = Insert("Kit", "Quill", D(2008, 5, 10), "k1");
  Run(D(2026, 5, 11));
  auto view = store_->Get(id, Engine());
  ASSERT_TRUE(view.ok());
  FeedChange change;
  FeedChange::ChildWrite w{view->record, *view->hidden, StandingOf(view->record)};
  w.record.family_name = "Quillon";
  change.children.push_back(w);
  ASSERT_TRUE(store_->ApplyChange(std::move(change)).ok());
  EXPECT_TRUE(Archived(id));
  EXPECT_FALSE(Searchable(id, "Quillon", D(2008, 5, 10)));
  ExpectConsistent();
}

// Six years after archiving the child goes, with every trace outside the audit trail:
// record, hidden fields, postings, source links, decisions, the merge record of a child
// merged into it. The audit trail keeps its ids and its chain.
TEST_F(RetentionTest, DeletedTheDayAfterTheSixthAnniversaryOfArchivingWithoutATrace) {
  CreateStore();
  // Nameless children first, so that the ids looked for below (101 and 102) are bytes no
  // other value can hold by chance. Id 1 is in meta's audit head (sequence 1); and an id
  // from 256 on, 00 x6 | h | l, is in any value where the 8-byte id h is followed by a
  // random byte l, as every link's (child id, fingerprint) is: with 300 fillers (ids 301
  // and 302) child 1's link did in 1 run in 128. Below 256 only an id itself, or seven zero
  // bytes then l, can hold one.
  std::vector<NewChild> filler;
  for (int i = 0; i < 100; ++i)
    filler.push_back(MakeChild("", "", Date{}, "filler" + std::to_string(i)));
  ASSERT_TRUE(store_->InsertChildren(filler).ok());
  ChildId gone = Insert("Lana", "Pelican", D(2008, 5, 10), "victim-key-1");
  ChildId twin = Insert("Lana", "Pelicann", D(2008, 5, 10), "victim-key-2");
  ChildId stays = Insert("Milo", "Osprey", D(2012, 5, 10), "stays-key");
  {
    // `twin` is merged into `gone`; a reviewer said a record of another source is not `gone`.
    auto kept = store_->Get(gone, Engine());
    ASSERT_TRUE(kept.ok());
    FeedChange merge;
    FeedChange::ChildWrite w{kept->record, *kept->hidden, {}};
    w.record.sources.push_back(SourceRef{"test", "victim-key-2"});
    merge.children.push_back(w);
    merge.removals.push_back({twin, gone});
    auto twin_link = store_->FindSource("test", "victim-key-2");
    ASSERT_TRUE(twin_link.ok());
    auto twin_record = store_->GetSourceRecord({"test", "victim-key-2"}, Engine());
    ASSERT_TRUE(twin_record.ok()) << twin_record.status().ToString();
    merge.links.push_back({*twin_record, "", twin_link->fingerprint, gone, -1});
    merge.decisions.push_back({SourceRef{"health", "other-key"}, gone, false});
    merge.decisions.push_back({SourceRef{"test", "victim-key-1"}, stays, false});
    ASSERT_TRUE(store_->ApplyChange(std::move(merge)).ok());
  }
  {
    auto log = AuditLog::Open(store_.get());
    ASSERT_TRUE(log.ok());
    AuditEntry e;
    e.user = "ann";
    e.action = AuditAction::kView;
    e.children = {gone};
    e.reason = "school admission check";
    ASSERT_TRUE((*log)->Append(e).ok());
  }
  ASSERT_EQ(*store_->Resolve(twin), gone);

  Run(D(2026, 5, 11));
  ASSERT_TRUE(Archived(gone));
  RetentionReport last_day = Run(D(2032, 5, 11));
  EXPECT_EQ(last_day.deleted, 0u);
  EXPECT_TRUE(store_->GetRecord(gone).ok());
  RetentionReport r = Run(D(2032, 5, 12));
  EXPECT_EQ(r.deleted, 1u);
  EXPECT_TRUE(store_->GetRecord(gone).status().IsNotFound());
  EXPECT_TRUE(store_->Resolve(twin).status().IsNotFound());
  EXPECT_TRUE(store_->GetRecord(stays).ok());
  ExpectConsistent();
  AuditReader reader(store_.get());
  auto verified = reader.Verify();
  ASSERT_TRUE(verified.ok());
  EXPECT_TRUE(verified->intact);
  EXPECT_EQ(verified->entries, 1u);

  // Every family but the audit trail, byte by byte: no id, source key or name of them.
  const std::vector<std::string> traces = {
      BigEndian64(gone), BigEndian64(twin), "victim-key-1", "victim-key-2",
      "Pelican",         "PELICAN",         "Lana",         "LAN"};
  auto dump = DumpClosed();
  for (const auto& [family, entries] : dump) {
    if (family == "audit" || family == "audit_index") continue;
    for (const auto& [key, value] : entries) {
      for (size_t i = 0; i < traces.size(); ++i) {
        EXPECT_EQ(key.find(traces[i]), std::string::npos) << family << " key holds trace " << i;
        EXPECT_EQ(value.find(traces[i]), std::string::npos)
            << family << " value holds trace " << i;
      }
    }
  }
  EXPECT_EQ(dump["children"].size(), 101u);
  EXPECT_THAT(dump["merged"], IsEmpty());
  EXPECT_EQ(dump["sources"].size(), 101u);
  EXPECT_EQ(dump["audit"].size(), 1u);  // the entry naming the child stays, with its id
}

// A merge moves links to the child kept; one left naming the merged-away id still resolves
// to the deleted child and goes with it.
TEST_F(RetentionTest, DeletionTakesALinkThatResolvesThroughAMerge) {
  CreateStore();
  ChildId kept = Insert("Ada", "Stray", D(2008, 5, 10), "kept-key");
  ChildId away = Insert("Ada", "Strayy", D(2008, 5, 10), "left-behind-key");
  auto view = store_->Get(kept, Engine());
  ASSERT_TRUE(view.ok());
  FeedChange merge;
  merge.children.push_back({view->record, *view->hidden, {}});
  merge.removals.push_back({away, kept});
  ASSERT_TRUE(store_->ApplyChange(std::move(merge)).ok());
  ASSERT_EQ(store_->FindSource("test", "left-behind-key")->child, away);
  Run(D(2040, 1, 1));
  EXPECT_TRUE(store_->FindSource("test", "left-behind-key").status().IsNotFound());
  EXPECT_TRUE(store_->Resolve(away).status().IsNotFound());
  ExpectConsistent();
}

TEST_F(RetentionTest, DeletingAShieldedChildTakesItsShieldedPostings) {
  CreateStore();
  ChildId id = Insert("Bo", "Tern", D(2008, 5, 10), "t1");
  ASSERT_TRUE(store_->SetShield(id, true, "la_leeds", "fleeing violence").ok());
  Run(D(2026, 5, 11));
  ASSERT_TRUE(Archived(id));
  EXPECT_EQ(Run(D(2032, 5, 12)).deleted, 1u);
  ExpectConsistent();
  auto dump = DumpClosed();
  EXPECT_THAT(dump["name_index"], IsEmpty());
  EXPECT_THAT(dump["children"], IsEmpty());
  EXPECT_THAT(dump["hidden"], IsEmpty());
  EXPECT_THAT(dump["sources"], IsEmpty());
}

TEST_F(RetentionTest, AChildDueForDeletionWhenFirstSeenIsDeletedDirectly) {
  CreateStore();
  ChildId old = Insert("Nell", "Newt", D(1990, 1, 1), "n1");
  RetentionReport r = Run(D(2026, 1, 1));
  EXPECT_EQ(r.deleted, 1u);
  EXPECT_EQ(r.ArchivedTotal(), 0u);
  EXPECT_TRUE(store_->GetRecord(old).status().IsNotFound());
}

TEST_F(RetentionTest, DryRunReportsIdsAndChangesNothing) {
  CreateStore();
  ChildId a = Insert("Olga", "Moth", D(2008, 5, 10), "o1");
  ChildId b = Insert("Pia", "Lark", D(2015, 1, 1), "o2", D(2024, 6, 30));
  Insert("Quin", "Kite", D(2016, 1, 1), "o3");
  ChildId c = Insert("Rae", "Jay", D(1990, 1, 1), "o4");
  auto before = DumpClosed();
  RetentionReport r = Run(D(2026, 5, 11), /*dry_run=*/true);
  EXPECT_TRUE(r.dry_run);
  EXPECT_THAT(r.archive_ids[static_cast<int>(ArchiveRule::kAge18)], ElementsAre(a));
  EXPECT_THAT(r.archive_ids[static_cast<int>(ArchiveRule::kDeath)], ElementsAre(b));
  EXPECT_THAT(r.delete_ids, ElementsAre(c));
  EXPECT_EQ(r.ArchivedTotal(), 2u);
  EXPECT_EQ(r.deleted, 1u);
  EXPECT_EQ(DumpClosed(), before);

  // The real run does what the dry run said.
  RetentionReport real = Run(D(2026, 5, 11));
  EXPECT_EQ(real.archived[static_cast<int>(ArchiveRule::kAge18)], 1u);
  EXPECT_EQ(real.archived[static_cast<int>(ArchiveRule::kDeath)], 1u);
  EXPECT_EQ(real.deleted, 1u);
  EXPECT_THAT(real.delete_ids, IsEmpty());
}

TEST_F(RetentionTest, ARunAgainChangesNothing) {
  CreateStore();
  Insert("Sia", "Ibis", D(2008, 5, 10), "s1");
  Insert("Tom", "Heron", D(1990, 1, 1), "s2");
  Insert("Uma", "Gull", D(2016, 1, 1), "s3");
  RetentionReport first = Run(D(2026, 5, 11));
  EXPECT_EQ(first.ArchivedTotal(), 1u);
  EXPECT_EQ(first.deleted, 1u);
  auto after_first = DumpClosed();
  RetentionReport second = Run(D(2026, 5, 11));
  EXPECT_EQ(second.ArchivedTotal(), 0u);
  EXPECT_EQ(second.deleted, 0u);
  EXPECT_EQ(second.live, 1u);
  EXPECT_EQ(second.archived_readable, 1u);
  EXPECT_EQ(DumpClosed(), after_first);
}

TEST_F(RetentionTest, AnEmptyDateIsRefused) {
  CreateStore();
  auto r = RunRetention(store_.get(), Date{}, RetentionOptions{});
  EXPECT_TRUE(r.status().IsInvalidArgument());
}

TEST_F(RetentionTest, LifecycleStateSurvivesReopening) {
  CreateStore();
  ChildId a = Insert("Vera", "Finch", D(2010, 5, 10), "v1");
  ChildId b = Insert("Will", "Egret", D(2008, 5, 10), "v2");
  ASSERT_TRUE(store_->SetConsentTo25(a, true).ok());
  Run(D(2026, 5, 11));
  Reopen();
  EXPECT_TRUE(store_->GetRecord(a)->lifecycle.consent_to_25);
  EXPECT_FALSE(store_->GetRecord(a)->lifecycle.archived());
  EXPECT_EQ(store_->GetRecord(b)->lifecycle.archived_on, D(2026, 5, 11));
}

}  // namespace
}  // namespace cp
