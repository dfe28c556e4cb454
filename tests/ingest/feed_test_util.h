// Shared pieces of the feed tests: a store with the real name index, rows built in code,
// and a batch applied in one call.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "index/index_policy.h"
#include "ingest/feed_applier.h"
#include "storage/child_store.h"

namespace cp::feed_test {

struct RowSpec {
  RowSpec(std::string key_, std::string given_, std::string family_, std::string dob_,
          std::string gender_ = "F", std::string address_ = "", std::string postcode_ = "",
          std::string nhs_ = "")
      : key(std::move(key_)), given(std::move(given_)), family(std::move(family_)),
        dob(std::move(dob_)), gender(std::move(gender_)), address(std::move(address_)),
        postcode(std::move(postcode_)), nhs(std::move(nhs_)) {}
  std::string key;
  std::string given;
  std::string family;
  std::string dob;  // YYYY-MM-DD or empty
  std::string gender = "F";
  std::string address;
  std::string postcode;
  std::string nhs;
  std::vector<std::string> former;
  std::string school;
  std::string gp;
  bool withdraw = false;
};

inline FeedRow MakeRow(const RowSpec& s) {
  FeedRow row;
  row.record.ref = {"", s.key};
  ChildRecord& r = row.record.record;
  r.given_name = s.given;
  r.family_name = s.family;
  r.former_family_names = s.former;
  if (!s.dob.empty()) r.date_of_birth = *ParseDate(s.dob);
  r.gender = *ParseGender(s.gender);
  r.nhs_number = s.nhs;
  row.record.hidden.address = s.address;
  row.record.hidden.postcode = s.postcode;
  if (!s.school.empty()) row.record.hidden.services.push_back({ServiceKind::kSchool, s.school, ""});
  if (!s.gp.empty()) row.record.hidden.services.push_back({ServiceKind::kGpPractice, s.gp, ""});
  row.withdraw = s.withdraw;
  row.raw = s.key + "|" + s.given + "|" + s.family + "|" + s.dob + "|" + s.gender + "|" + s.address + "|" +
            s.postcode + "|" + s.nhs + "|" + s.school + "|" + s.gp + (s.withdraw ? "|w" : "");
  for (const auto& f : s.former) row.raw += "|" + f;
  return row;
}

// The rows as children of `source`, to insert straight into a store (not matched with one
// another).
inline std::vector<NewChild> AsNewChildren(const std::vector<RowSpec>& specs,
                                           const std::string& source = "births") {
  std::vector<NewChild> children(specs.size());
  for (size_t i = 0; i < specs.size(); ++i) {
    FeedRow row = MakeRow(specs[i]);
    children[i].record = row.record.record;
    children[i].hidden = row.record.hidden;
    children[i].source = {source, specs[i].key};
    children[i].source_payload = row.raw;
  }
  return children;
}

class FeedTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = (std::filesystem::temp_directory_path() / "cp-feed-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
    Open(true);
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  void Open(bool create) {
    store_.reset();
    ChildStore::Options o;
    o.db_dir = dir_ + "/db";
    o.key_file = dir_ + "/db.key";
    o.create = create;
    o.policy = &NameIndexPolicy::Instance();
    o.block_cache_bytes = size_t{8} << 20;
    auto s = ChildStore::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
  }

  // Applies rows as batch `batch` of `source`; reports go to `reports_`.
  Status Apply(const std::string& source, uint64_t batch, const std::vector<RowSpec>& specs,
               FeedBatchResult* result = nullptr, FeedOptions options = {}) {
    std::vector<FeedRow> rows;
    for (const auto& s : specs) rows.push_back(MakeRow(s));
    size_t next = 0;
    FeedRowSource source_fn = [&](FeedRow* row, std::string*) {
      if (next == rows.size()) return false;
      *row = rows[next++];
      row->line = next + 1;
      return true;
    };
    FeedBatchResult local;
    FeedApplier applier(store_.get(), options);
    return applier.ApplyBatch(source, batch, source_fn,
                              [this](const std::string& m) { reports_.push_back(m); },
                              result ? result : &local);
  }

  ChildView Ordinary(ChildId id) {
    auto v = store_->Get(id, Clearance::Ordinary());
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ChildView{};
  }
  ChildView Full(ChildId id) {
    auto v = store_->Get(id, Clearance::Elevated(Clearance::Level::kShieldingManager, "test", "test"));
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : ChildView{};
  }
  ChildId LinkedChild(const std::string& source, const std::string& key) {
    auto link = store_->FindSource(source, key);
    return link.ok() ? link->child : 0;
  }
  uint64_t Children() { return *store_->CountChildren(); }
  // The children the place index files under `postcode` (never a shielded or archived one).
  std::vector<ChildId> PlaceHits(const std::string& postcode) {
    std::vector<ChildId> ids;
    bool complete = false;
    EXPECT_TRUE(store_
                    ->ScanPlace(
                        postcode, 100, [&](const Posting& p) { ids.push_back(p.id); }, &complete)
                    .ok());
    return ids;
  }

  std::string dir_;
  std::unique_ptr<ChildStore> store_;
  std::vector<std::string> reports_;
};

}  // namespace cp::feed_test
