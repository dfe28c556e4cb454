// Shared pieces of the storage tests: a fixture that gives each test a fresh temporary
// directory, a small IndexPolicy that keeps these tests independent of the index layer,
// and builders for children.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <memory>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include "storage/child_store.h"
#include "storage/index_policy.h"
#include "storage/record.h"

namespace cp::testing_util {

// A posting copied out of a scan (Posting::features is only valid during the visit).
struct SeenPosting {
  ChildId id;
  uint16_t year;
  uint8_t month;
  bool shielded;
  std::string features;
  friend bool operator==(const SeenPosting&, const SeenPosting&) = default;
};

inline std::ostream& operator<<(std::ostream& os, const SeenPosting& p) {
  return os << "{id " << p.id << ", " << p.year << "-" << int{p.month}
            << (p.shielded ? ", shielded" : "") << ", '" << p.features << "'}";
}

// The shielding manager's clearance the storage tests read shielded children with.
inline Clearance Manager() {
  return Clearance::Elevated(Clearance::Level::kShieldingManager, "Leeds City Council", "test");
}

inline Date D(int y, int m, int d) {
  return Date{static_cast<int16_t>(y), static_cast<uint8_t>(m), static_cast<uint8_t>(d)};
}

// Terms: one kPhonetic term (the upper-cased family name) and one kTrigram term (the first
// three bytes of the upper-cased given name). Features: the given name's bytes. Both are
// deterministic in the visible record, as the IndexPolicy contract requires.
class TestIndexPolicy : public IndexPolicy {
 public:
  static std::string Upper(std::string s) {
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }
  static std::string TrigramOf(const std::string& given_name) {
    return Upper(given_name).substr(0, 3);
  }

  void NameTerms(const ChildRecord& record, std::vector<IndexTerm>* terms) const override {
    if (!record.family_name.empty()) {
      terms->push_back({TermKind::kPhonetic, Upper(record.family_name)});
    }
    if (!record.given_name.empty()) {
      terms->push_back({TermKind::kTrigram, TrigramOf(record.given_name)});
    }
  }
  void EncodeFeatures(const ChildRecord& record, std::string* out) const override {
    out->append(record.given_name);
  }
};

// A fresh directory per test (mkdtemp), removed afterwards. The database goes in
// <dir>/db and the key file beside it, outside the database directory.
class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern =
        (std::filesystem::temp_directory_path() / "cp-storage-test-XXXXXX").string();
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << "mkdtemp failed";
    dir_ = pattern;
    db_dir_ = dir_ + "/db";
    key_file_ = dir_ + "/master.key";
  }
  void TearDown() override {
    store_.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  ChildStore::Options StoreOptions(bool create) const {
    ChildStore::Options options;
    options.db_dir = db_dir_;
    options.key_file = key_file_;
    options.create = create;
    options.policy = &policy_;
    options.block_cache_bytes = size_t{8} << 20;
    return options;
  }

  // Creates the database and keeps it open in store_.
  void CreateStore() {
    auto store = ChildStore::Open(StoreOptions(/*create=*/true));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  // Opens the existing database into store_.
  void OpenStore() {
    auto store = ChildStore::Open(StoreOptions(/*create=*/false));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
  }
  void Reopen() {
    store_.reset();
    OpenStore();
  }

  TestIndexPolicy policy_;
  std::string dir_;
  std::string db_dir_;
  std::string key_file_;
  std::unique_ptr<ChildStore> store_;
};

// A child with the given names and date of birth, linked to ("test", source_key).
inline NewChild MakeChild(const std::string& given, const std::string& family, Date dob,
                          const std::string& source_key) {
  NewChild c;
  c.record.given_name = given;
  c.record.family_name = family;
  c.record.date_of_birth = dob;
  c.record.gender = Gender::kFemale;
  c.source = SourceRef{"test", source_key};
  c.source_payload = "payload of " + source_key;
  return c;
}

inline HiddenFields MakeHidden(const std::string& address, const std::string& postcode) {
  HiddenFields h;
  h.address = address;
  h.postcode = postcode;
  h.parent_name = "Parent of " + address;
  h.parent_phone = "01632 960001";
  h.services.push_back({ServiceKind::kSchool, "Hillside Primary School", "0113 496 0000"});
  return h;
}

}  // namespace cp::testing_util
