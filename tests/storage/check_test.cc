// Tests for ChildStore::CheckConsistency (storage/check.h): a clean database passes, and
// each kind of damage, written straight into RocksDB, is found and named.

#include "storage/check.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>

#include "storage/child_store.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "storage/retention.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"
#include "util/coding.h"

namespace cp {
namespace {

using ::testing::Contains;
using ::testing::Field;
using ::testing::IsEmpty;
using testing_util::MakeChild;
using testing_util::MakeHidden;
using testing_util::RawDb;

constexpr ChildId kNoSuchChild = 999;

using testing_util::D;

class CheckTest : public testing_util::TempDirTest {
 protected:
  // Four children: plain, shielded, archived (by the age rule) and one merged into plain.
  void SetUp() override {
    TempDirTest::SetUp();
    CreateStore();
    std::vector<NewChild> batch;
    for (const char* name : {"Plain", "Shielded", "Archived", "Merged"}) {
      NewChild c = MakeChild(name, std::string(name) + "son",
                             std::string(name) == "Archived" ? D(2000, 1, 1) : D(2016, 1, 1),
                             std::string("key-") + name);
      c.record.nhs_number = std::string(name) == "Plain" ? "9434765919" : "";
      c.hidden = MakeHidden(std::string(name) + " Street", "LS1 4AB");
      batch.push_back(std::move(c));
    }
    auto ids = store_->InsertChildren(batch);
    ASSERT_TRUE(ids.ok());
    plain_ = ids->at(0);
    shielded_ = ids->at(1);
    archived_ = ids->at(2);
    merged_ = ids->at(3);
    ASSERT_TRUE(store_->SetShield(shielded_, true, "la_leeds", "test").ok());
    ASSERT_TRUE(store_->ArchiveChild(archived_, D(2018, 1, 2)).ok());
    auto kept = store_->Get(plain_, Clearance::Elevated(Clearance::Level::kMatching, "t", "t"));
    ASSERT_TRUE(kept.ok());
    FeedChange merge;
    merge.children.push_back({kept->record, *kept->hidden, {}});
    merge.removals.push_back({merged_, plain_});
    ASSERT_TRUE(store_->ApplyChange(std::move(merge)).ok());
  }

  ConsistencyReport Check() {
    ConsistencyReport report;
    Status s = store_->CheckConsistency(&report);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return report;
  }

  // Closes the store, damages the database through raw RocksDB, reopens.
  void Damage(const std::function<void(RawDb&)>& edit) {
    store_.reset();
    {
      RawDb raw(db_dir_);
      edit(raw);
    }
    OpenStore();
  }

  std::string PostcodeHash(const std::string& postcode) {
    auto crypto = Crypto::LoadKeyFile(key_file_);
    EXPECT_TRUE(crypto.ok());
    return (*crypto)->PlaceHash(postcode);
  }

  void ExpectOnly(ProblemKind kind, ChildId child) {
    ConsistencyReport report = Check();
    EXPECT_FALSE(report.ok());
    ASSERT_FALSE(report.problems.empty()) << ProblemKindName(kind);
    for (const auto& p : report.problems) {
      EXPECT_EQ(p.kind, kind) << "found " << ProblemKindName(p.kind) << " for child " << p.child;
      EXPECT_EQ(p.child, child) << ProblemKindName(p.kind);
    }
  }

  ChildId plain_ = 0, shielded_ = 0, archived_ = 0, merged_ = 0;
};

TEST_F(CheckTest, ACleanDatabasePasses) {
  ConsistencyReport report = Check();
  for (const auto& p : report.problems)
    ADD_FAILURE() << ProblemKindName(p.kind) << " child " << p.child;
  EXPECT_TRUE(report.ok());
  EXPECT_EQ(report.children, 3u);
  EXPECT_GT(report.postings, 0u);
  EXPECT_EQ(report.source_links, 4u);  // the merged child's link still resolves, through the merge
  EXPECT_EQ(report.merge_records, 1u);
  EXPECT_EQ(report.looked_up, 0u);  // the digests agreed: nothing was looked up
}

TEST_F(CheckTest, APostingForAMissingChildIsFound) {
  Damage([](RawDb& raw) {
    raw.Put("name_index", keys::NamePostingKey(TermKind::kPhonetic, "GHOST", 2016, 1, kNoSuchChild),
            std::string(1, '\0'));
  });
  ExpectOnly(ProblemKind::kPostingForMissingChild, kNoSuchChild);
}

TEST_F(CheckTest, APostingTheRecordDoesNotYieldIsFound) {
  Damage([this](RawDb& raw) {
    raw.Put("name_index", keys::NamePostingKey(TermKind::kPhonetic, "STALE", 2016, 1, plain_),
            std::string(1, '\0'));
  });
  ExpectOnly(ProblemKind::kPostingNotFromRecord, plain_);
}

TEST_F(CheckTest, APostingWithAnotherValueIsFound) {
  Damage([this](RawDb& raw) {
    raw.Put("name_index", keys::NamePostingKey(TermKind::kPhonetic, "PLAINSON", 2016, 1, plain_),
            std::string(1, '\x01'));
  });
  ExpectOnly(ProblemKind::kPostingNotFromRecord, plain_);
}

TEST_F(CheckTest, AMissingPostingIsFound) {
  Damage([this](RawDb& raw) {
    raw.Delete("name_index",
               keys::NamePostingKey(TermKind::kPhonetic, "PLAINSON", 2016, 1, plain_));
  });
  ExpectOnly(ProblemKind::kPostingMissing, plain_);
}

// check compares a digest of what each index holds with one of what the records yield
// before it looks anything up: a posting moved to a key the record does not yield leaves the
// index's count as it was, and is found all the same.
TEST_F(CheckTest, AMovedPostingIsFoundThoughTheCountIsUnchanged) {
  Damage([this](RawDb& raw) {
    raw.Delete("name_index",
               keys::NamePostingKey(TermKind::kPhonetic, "PLAINSON", 2016, 1, plain_));
    raw.Put("name_index", keys::NamePostingKey(TermKind::kPhonetic, "PLAINSON", 2016, 2, plain_),
            std::string(1, '\0'));
  });
  ConsistencyReport report = Check();
  ASSERT_EQ(report.problems.size(), 2u);
  EXPECT_EQ(report.problems[0].kind, ProblemKind::kPostingMissing);
  EXPECT_EQ(report.problems[1].kind, ProblemKind::kPostingNotFromRecord);
  for (const auto& p : report.problems) EXPECT_EQ(p.child, plain_);
  EXPECT_GT(report.looked_up, 0u);
}

TEST_F(CheckTest, AMissingIdentifierPostingIsFound) {
  Damage([this](RawDb& raw) {
    raw.Delete("id_index", keys::IdKey(keys::IdKind::kNhsNumber, "9434765919", plain_));
  });
  ExpectOnly(ProblemKind::kPostingMissing, plain_);
}

TEST_F(CheckTest, AShieldedChildInThePlaceIndexIsFound) {
  const std::string hash = PostcodeHash("LS1 4AB");
  Damage([&](RawDb& raw) {
    raw.Put("place_index", keys::PlaceKey(hash, shielded_), std::string(1, '\0'));
  });
  ExpectOnly(ProblemKind::kShieldedChildInPlaceIndex, shielded_);
}

TEST_F(CheckTest, AnArchivedChildInASearchedIndexIsFound) {
  Damage([this](RawDb& raw) {
    raw.Put("name_index",
            keys::NamePostingKey(TermKind::kPhonetic, "ARCHIVEDSON", 2000, 1, archived_),
            std::string(1, '\0'));
  });
  ExpectOnly(ProblemKind::kArchivedChildSearchable, archived_);
}

TEST_F(CheckTest, ASourceLinkToAMissingChildIsFound) {
  Damage([](RawDb& raw) {
    raw.Put("sources", keys::SourceKey("health", "H1"), BigEndian64(kNoSuchChild) + BigEndian64(7));
  });
  ExpectOnly(ProblemKind::kSourceLinkToMissingChild, kNoSuchChild);
}

TEST_F(CheckTest, AMergeRecordToAMissingChildIsFound) {
  Damage([](RawDb& raw) { raw.Put("merged", keys::ChildKey(50), BigEndian64(kNoSuchChild)); });
  ExpectOnly(ProblemKind::kMergeToMissingChild, 50);
}

TEST_F(CheckTest, ARecordWithoutHiddenFieldsIsFound) {
  Damage([this](RawDb& raw) { raw.Delete("hidden", keys::ChildKey(plain_)); });
  ExpectOnly(ProblemKind::kRecordWithoutHidden, plain_);
}

TEST_F(CheckTest, HiddenFieldsWithoutARecordAreFound) {
  Damage([](RawDb& raw) { raw.Put("hidden", keys::ChildKey(kNoSuchChild), "sealed"); });
  ExpectOnly(ProblemKind::kHiddenWithoutRecord, kNoSuchChild);
}

TEST_F(CheckTest, AProblemNamesIdsNotPersonalData) {
  Damage([this](RawDb& raw) {
    raw.Delete("name_index",
               keys::NamePostingKey(TermKind::kPhonetic, "PLAINSON", 2016, 1, plain_));
  });
  ConsistencyReport report = Check();
  ASSERT_EQ(report.problems.size(), 1u);
  const auto& p = report.problems[0];
  EXPECT_EQ(p.family, "name_index");
  EXPECT_EQ(p.detail, "posting kind P");
  EXPECT_EQ(p.detail.find("PLAIN"), std::string::npos);
}

}  // namespace
}  // namespace cp
