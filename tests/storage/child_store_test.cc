// Tests for storage/child_store.h: opening and refusing databases, inserts, reads under a
// clearance, posting scans, shielding, and concurrent use. The index policy is the small
// TestIndexPolicy (tests/storage/store_test_util.h), so these tests do not depend on the
// index layer.

#include "storage/child_store.h"
#include "util/coding.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <sys/stat.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <random>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "storage/crypto.h"
#include "storage/keys.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using testing_util::MakeChild;
using testing_util::MakeHidden;
using testing_util::TestIndexPolicy;

using testing_util::Manager;
using testing_util::SeenPosting;

// Puts `value` under the meta key of the closed store at `db_dir`, or deletes the key.
void SetMeta(const std::string& db_dir, const std::string& key, const std::optional<std::string>& value);

class ChildStoreTest : public testing_util::TempDirTest {
 protected:
  std::vector<ChildId> Insert(std::vector<NewChild> children) {
    auto ids = store_->InsertChildren(children);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<ChildId>{};
  }

  ChildId InsertOne(NewChild child) {
    std::vector<NewChild> batch;
    batch.push_back(std::move(child));
    auto ids = Insert(std::move(batch));
    return ids.empty() ? 0 : ids[0];
  }

  std::vector<SeenPosting> ScanName(TermKind kind, const std::string& token, uint16_t year,
                                    std::optional<uint8_t> month = std::nullopt,
                                    size_t limit = 1000, bool* complete_out = nullptr) {
    std::vector<SeenPosting> seen;
    bool complete = false;
    Status s = store_->ScanName(
        kind, token, year, month, limit,
        [&](const Posting& p) {
          seen.push_back({p.id, p.birth_year, p.birth_month, p.shielded, std::string(p.features)});
        },
        &complete);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (complete_out != nullptr) *complete_out = complete;
    return seen;
  }

  std::vector<ChildId> ScanNameIds(const std::string& family, uint16_t year) {
    std::vector<ChildId> ids;
    for (const auto& p : ScanName(TermKind::kPhonetic, TestIndexPolicy::Upper(family), year)) {
      ids.push_back(p.id);
    }
    return ids;
  }

  std::vector<SeenPosting> ScanPlace(const std::string& postcode, size_t limit = 1000,
                                     bool* complete_out = nullptr) {
    std::vector<SeenPosting> seen;
    bool complete = false;
    Status s = store_->ScanPlace(
        postcode, limit,
        [&](const Posting& p) {
          seen.push_back({p.id, p.birth_year, p.birth_month, p.shielded, std::string(p.features)});
        },
        &complete);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (complete_out != nullptr) *complete_out = complete;
    return seen;
  }

  std::vector<ChildId> ScanPlaceIds(const std::string& postcode) {
    std::vector<ChildId> ids;
    for (const auto& p : ScanPlace(postcode)) ids.push_back(p.id);
    return ids;
  }

  uint64_t Count() {
    auto n = store_->CountChildren();
    EXPECT_TRUE(n.ok()) << n.status().ToString();
    return n.ok() ? *n : ~uint64_t{0};
  }

  Status Shield(ChildId id, bool shielded) {
    return store_->SetShield(id, shielded, "Leeds City Council", "risk of harm");
  }

  // Opening the existing database must fail; returns the status.
  Status OpenFails() {
    auto store = ChildStore::Open(StoreOptions(/*create=*/false));
    EXPECT_FALSE(store.ok()) << "the database opened";
    return store.status();
  }
  // A hash scheme this build does not know (meta `key`) is refused at open, naming it.
  void ExpectUnknownSchemeRefused(const std::string& key) {
    CreateStore();
    store_.reset();
    SetMeta(db_dir_, key, "md5");
    Status s = OpenFails();
    EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr("'md5'"));
  }

  NewChild Alice() {
    NewChild c = MakeChild("Alice", "Smith", Date{2015, 3, 2}, "alice");
    c.record.nhs_number = "9434765919";
    c.record.pupil_number = "A123456789012";
    c.record.provenance = {{"date_of_birth", "test"}, {"address", "la_leeds"}};
    c.hidden = MakeHidden("1 Acacia Avenue, Leeds", "LS1 4AP");
    return c;
  }
  NewChild Bob() {
    NewChild c = MakeChild("Bob", "Smith", Date{2015, 7, 30}, "bob");
    c.record.gender = Gender::kMale;
    c.hidden = MakeHidden("2 Acacia Avenue, Leeds", "LS1 4AP");
    return c;
  }
  NewChild Carol() {
    NewChild c = MakeChild("Carol", "Jones", Date{2016, 1, 15}, "carol");
    c.hidden = MakeHidden("3 Beech Road, York", "YO1 7HH");
    return c;
  }
};

// ---- Opening, creating, refusing --------------------------------------------------------

TEST_F(ChildStoreTest, CreateThenReopenKeepsChildren) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Bob());
  auto ids = Insert(std::move(batch));
  ASSERT_THAT(ids, ElementsAre(1, 2));
  Reopen();
  EXPECT_EQ(Count(), 2u);
  auto alice = store_->Get(1, Clearance::Ordinary());
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->record.given_name, "Alice");
  ASSERT_TRUE(alice->hidden.has_value());
  EXPECT_EQ(*alice->hidden, Alice().hidden);
  EXPECT_THAT(ScanNameIds("Smith", 2015), ElementsAre(1, 2));
}

// RocksDB lets one process at a time write a database; the second is told why, in words an
// operator can act on (a running contactpointd holds its database).
TEST_F(ChildStoreTest, ADatabaseOpenElsewhereIsRefusedWithAClearMessage) {
  CreateStore();
  auto again = ChildStore::Open(StoreOptions(/*create=*/false));
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), Status::Code::kFailedPrecondition) << again.status().ToString();
  EXPECT_THAT(again.status().message(), HasSubstr(db_dir_ + " is open in another process"));
  EXPECT_THAT(again.status().message(), HasSubstr("contactpointd"));
  EXPECT_EQ(Count(), 0u) << "the first store is unharmed";
}

TEST_F(ChildStoreTest, CreateRefusesAnExistingDatabaseDirectory) {
  ASSERT_TRUE(std::filesystem::create_directory(db_dir_));
  auto store = ChildStore::Open(StoreOptions(/*create=*/true));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kAlreadyExists);
  EXPECT_THAT(store.status().message(), HasSubstr(db_dir_));
  // Refused before anything was made: no key file was left behind.
  EXPECT_FALSE(std::filesystem::exists(key_file_));
}

TEST_F(ChildStoreTest, CreateRefusesAnExistingDatabase) {
  CreateStore();
  store_.reset();
  std::filesystem::remove(key_file_);
  auto store = ChildStore::Open(StoreOptions(/*create=*/true));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kAlreadyExists);
}

TEST_F(ChildStoreTest, CreateRefusesAnExistingKeyFileAndCreatesNoDatabase) {
  ASSERT_TRUE(Crypto::CreateKeyFile(key_file_).ok());
  auto store = ChildStore::Open(StoreOptions(/*create=*/true));
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kAlreadyExists);
  EXPECT_FALSE(std::filesystem::exists(db_dir_));
}

TEST_F(ChildStoreTest, OpenRefusesAMissingDatabaseAndNamesInit) {
  ASSERT_TRUE(Crypto::CreateKeyFile(key_file_).ok());
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr("contactpoint init"));
  EXPECT_THAT(s.message(), HasSubstr(db_dir_));
  EXPECT_FALSE(std::filesystem::exists(db_dir_));
}

TEST_F(ChildStoreTest, OpenRequiresAPolicyAndADirectory) {
  ChildStore::Options options = StoreOptions(/*create=*/true);
  options.policy = nullptr;
  auto store = ChildStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
  options = StoreOptions(/*create=*/true);
  options.db_dir.clear();
  store = ChildStore::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), Status::Code::kInvalidArgument);
}

TEST_F(ChildStoreTest, OpenRefusesAMissingKeyFile) {
  CreateStore();
  store_.reset();
  ASSERT_TRUE(std::filesystem::remove(key_file_));
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kNotFound);
  EXPECT_THAT(s.message(), HasSubstr(key_file_));
}

TEST_F(ChildStoreTest, OpenRefusesAKeyFileOthersCanRead) {
  CreateStore();
  store_.reset();
  const struct {
    mode_t mode;
    bool accepted;
  } cases[] = {{0644, false}, {0640, false}, {0604, false}, {0660, false},
               {0666, false}, {0600, true},  {0400, true}};
  for (const auto& c : cases) {
    ASSERT_EQ(::chmod(key_file_.c_str(), c.mode), 0);
    auto store = ChildStore::Open(StoreOptions(/*create=*/false));
    EXPECT_EQ(store.ok(), c.accepted) << std::oct << c.mode << ": " << store.status().ToString();
    if (!store.ok()) {
      EXPECT_THAT(store.status().message(), HasSubstr(key_file_));
    }
  }
}

TEST_F(ChildStoreTest, OpenRefusesACorruptKeyFile) {
  CreateStore();
  store_.reset();
  std::string good;
  {
    std::ifstream in(key_file_, std::ios::binary);
    good.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_FALSE(good.empty());
  const struct {
    const char* what;
    std::string text;
  } cases[] = {
      {"empty", ""},
      {"header only", "contactpoint-key v1\n"},
      {"truncated key", good.substr(0, good.size() - 10)},
      {"not hex", "contactpoint-key v1\n" + std::string(64, 'g') + "\n"},
      {"wrong header", "contactpoint-key v9\n" + good.substr(good.find('\n') + 1)},
      {"trailing junk", good + "extra\n"},
      {"too large", std::string(100000, 'a')},
  };
  for (const auto& c : cases) {
    {
      std::ofstream out(key_file_, std::ios::binary | std::ios::trunc);
      out << c.text;
    }
    ASSERT_EQ(::chmod(key_file_.c_str(), 0600), 0);
    Status s = OpenFails();
    EXPECT_EQ(s.code(), Status::Code::kCorruption) << c.what << ": " << s.ToString();
    EXPECT_THAT(s.message(), HasSubstr(key_file_)) << c.what;
  }
  // The original key still opens it: the refusals changed nothing.
  {
    std::ofstream out(key_file_, std::ios::binary | std::ios::trunc);
    out << good;
  }
  OpenStore();
}

TEST_F(ChildStoreTest, OpenRefusesADifferentValidKeyFile) {
  CreateStore();
  InsertOne(Alice());
  store_.reset();
  ASSERT_TRUE(std::filesystem::remove(key_file_));
  ASSERT_TRUE(Crypto::CreateKeyFile(key_file_).ok());
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("not the key"));
  EXPECT_THAT(s.message(), HasSubstr("created with"));
  EXPECT_THAT(s.message(), HasSubstr(key_file_));
}

// Opens the store's RocksDB directly, with every column family on disk, and runs `edit`.
void EditRawDatabase(
    const std::string& db_dir,
    const std::function<void(rocksdb::DB*, const std::vector<rocksdb::ColumnFamilyHandle*>&,
                             const std::vector<std::string>&)>& edit) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(testing_util::RawDbOptions(db_dir), db_dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(testing_util::RawDbOptions(db_dir), db_dir, descriptors, &handles, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  edit(db, handles, names);
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

rocksdb::ColumnFamilyHandle* Family(const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                                    const std::vector<std::string>& names,
                                    const std::string& name) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == name) return handles[i];
  }
  ADD_FAILURE() << "no column family " << name;
  return nullptr;
}

void SetSchemaVersion(const std::string& db_dir, const std::string& version,
                      bool add_future_family) {
  EditRawDatabase(db_dir, [&](rocksdb::DB* db, const auto& handles, const auto& names) {
    auto* meta = Family(handles, names, "meta");
    ASSERT_NE(meta, nullptr);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), meta, "schema_version", version).ok());
    if (add_future_family) {
      rocksdb::ColumnFamilyHandle* future = nullptr;
      ASSERT_TRUE(db->CreateColumnFamily(rocksdb::ColumnFamilyOptions(), "audit_v2", &future).ok());
      ASSERT_TRUE(db->DestroyColumnFamilyHandle(future).ok());
    }
  });
}

TEST_F(ChildStoreTest, OpenRefusesANewerSchemaVersion) {
  CreateStore();
  InsertOne(Alice());
  store_.reset();
  SetSchemaVersion(db_dir_, std::to_string(kSchemaVersion + 1), /*add_future_family=*/false);
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("schema version " + std::to_string(kSchemaVersion + 1)));
  EXPECT_THAT(s.message(), HasSubstr("up to " + std::to_string(kSchemaVersion)));
  EXPECT_THAT(s.message(), HasSubstr(db_dir_));
}

// A newer build may add column families; the refusal must still be the schema message,
// not RocksDB's complaint about unopened families.
TEST_F(ChildStoreTest, OpenRefusesANewerSchemaWithExtraColumnFamilies) {
  CreateStore();
  store_.reset();
  SetSchemaVersion(db_dir_, "7", /*add_future_family=*/true);
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("schema version 7"));
}

TEST_F(ChildStoreTest, OpenAcceptsTheCurrentSchemaVersionWrittenBack) {
  CreateStore();
  InsertOne(Alice());
  store_.reset();
  SetSchemaVersion(db_dir_, std::to_string(kSchemaVersion), /*add_future_family=*/false);
  OpenStore();
  EXPECT_EQ(Count(), 1u);
}

// Puts `value` under the meta key, or deletes the key when there is none.
void SetMeta(const std::string& db_dir, const std::string& key, const std::optional<std::string>& value) {
  EditRawDatabase(db_dir, [&](rocksdb::DB* db, const auto& handles, const auto& names) {
    auto* meta = Family(handles, names, "meta");
    ASSERT_NE(meta, nullptr);
    auto s = value ? db->Put(rocksdb::WriteOptions(), meta, key, *value)
                   : db->Delete(rocksdb::WriteOptions(), meta, key);
    ASSERT_TRUE(s.ok()) << s.ToString();
  });
}

// Every key of the place index, read from the closed store's files.
std::vector<std::string> PlaceKeysOnDisk(const std::string& db_dir) {
  std::vector<std::string> out;
  EditRawDatabase(db_dir, [&](rocksdb::DB* db, const auto& handles, const auto& names) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), Family(handles, names, "place_index")));
    for (it->SeekToFirst(); it->Valid(); it->Next()) out.push_back(it->key().ToString());
  });
  return out;
}

// A database created before row fingerprints moved to XXH3 + AES has no scheme in meta:
// its links hold HMAC fingerprints, so the same row sent again must still hash by HMAC,
// and so must rows it links from now on.
TEST_F(ChildStoreTest, ADatabaseWithoutARowFingerprintSchemeKeepsHmacFingerprints) {
  CreateStore();
  InsertOne(Alice());
  store_.reset();
  SetMeta(db_dir_, "row_fingerprint", std::nullopt);
  OpenStore();
  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  const std::string payload = Bob().source_payload;
  const uint64_t hmac = DecodeBigEndian64((*crypto)->KeyedHash(payload).data());
  EXPECT_EQ(store_->Fingerprint(payload), hmac);
  InsertOne(Bob());
  auto link = store_->FindSource("test", "bob");
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(link->fingerprint, hmac);
  EXPECT_NE(link->fingerprint, (*crypto)->RowFingerprint(payload));
  // Reopening does not switch it either.
  store_.reset();
  OpenStore();
  EXPECT_EQ(store_->Fingerprint(payload), hmac);
}

// Place keys of a database created before the XXH3 + AES place hash are HMAC-SHA256 of the
// postcode: such a database keeps writing and finding them so.
TEST_F(ChildStoreTest, ADatabaseWithoutAPlaceHashSchemeKeepsHmacPlaceKeys) {
  CreateStore();
  store_.reset();
  SetMeta(db_dir_, "place_hash", std::nullopt);
  OpenStore();
  auto ids = Insert({Alice(), Bob()});
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(ids[0], ids[1]));
  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  store_.reset();
  const std::vector<std::string> place_keys = PlaceKeysOnDisk(db_dir_);
  const std::string hmac = (*crypto)->KeyedHash("LS1 4AP");
  EXPECT_THAT(place_keys, ElementsAre(keys::PlaceKey(hmac, ids[0]), keys::PlaceKey(hmac, ids[1])));
  // A database created now hashes with XXH3 + AES, and finds its children by postcode too.
  OpenStore();
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(ids[0], ids[1]));
}

TEST_F(ChildStoreTest, ANewDatabaseKeysPlacesWithTheXxh3AesHash) {
  CreateStore();
  auto ids = Insert({Carol()});
  EXPECT_THAT(ScanPlaceIds("YO1 7HH"), ElementsAre(ids[0]));
  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  store_.reset();
  const std::vector<std::string> place_keys = PlaceKeysOnDisk(db_dir_);
  EXPECT_THAT(place_keys, ElementsAre(keys::PlaceKey((*crypto)->PlaceHash("YO1 7HH"), ids[0])));
}

// The raw editor follows the key: a database created again at the same path, with a new
// key file there, is edited under the new key.
TEST_F(ChildStoreTest, ARawEditOfADatabaseCreatedAgainAtTheSamePathUsesItsNewKey) {
  for (int round = 0; round < 2; ++round) {
    CreateStore();
    store_.reset();
    SetMeta(db_dir_, "place_hash", "md5");
    Status s = OpenFails();
    EXPECT_EQ(s.code(), Status::Code::kNotSupported) << "round " << round << ": " << s.ToString();
    std::filesystem::remove_all(db_dir_);
    std::filesystem::remove(key_file_);
  }
}

TEST_F(ChildStoreTest, OpenRefusesAnUnknownRowFingerprintScheme) {
  ExpectUnknownSchemeRefused("row_fingerprint");
}

TEST_F(ChildStoreTest, OpenRefusesAnUnknownPlaceHashScheme) {
  ExpectUnknownSchemeRefused("place_hash");
}

TEST_F(ChildStoreTest, OpenRefusesAnUnreadableSchemaVersion) {
  CreateStore();
  store_.reset();
  SetSchemaVersion(db_dir_, "banana", /*add_future_family=*/false);
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
}

void CreatePlainRocksDb(const std::string& db_dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* db = nullptr;
  auto s = rocksdb::DB::Open(options, db_dir, &db);
  ASSERT_TRUE(s.ok()) << s.ToString();
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "someone", "else's data").ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

TEST_F(ChildStoreTest, OpenRefusesAPlainRocksDbWithoutMeta) {
  CreatePlainRocksDb(db_dir_);
  ASSERT_TRUE(Crypto::CreateKeyFile(key_file_).ok());
  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("not a contactpoint database"));
}

// Refusing a database that is not ours must not modify it.
TEST_F(ChildStoreTest, RefusingAPlainRocksDbLeavesItsColumnFamiliesUnchanged) {
  CreatePlainRocksDb(db_dir_);
  ASSERT_TRUE(Crypto::CreateKeyFile(key_file_).ok());
  OpenFails().PermitUnchecked();
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(testing_util::RawDbOptions(db_dir_), db_dir_, &names).ok());
  EXPECT_THAT(names, ElementsAre(rocksdb::kDefaultColumnFamilyName));
}

// A newer schema may have dropped a family this build knows; refusing that database must
// not recreate the family in it.
TEST_F(ChildStoreTest, RefusingANewerSchemaLeavesItsColumnFamiliesUnchanged) {
  CreateStore();
  store_.reset();
  EditRawDatabase(db_dir_, [&](rocksdb::DB* db, const auto& handles, const auto& names) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), Family(handles, names, "meta"), "schema_version",
                        std::to_string(kSchemaVersion + 1))
                    .ok());
    ASSERT_TRUE(db->DropColumnFamily(Family(handles, names, "id_index")).ok());
  });
  std::vector<std::string> before;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(testing_util::RawDbOptions(db_dir_), db_dir_, &before).ok());
  ASSERT_THAT(before, ::testing::Not(::testing::Contains("id_index")));

  Status s = OpenFails();
  EXPECT_EQ(s.code(), Status::Code::kNotSupported) << s.ToString();
  std::vector<std::string> after;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(testing_util::RawDbOptions(db_dir_), db_dir_, &after).ok());
  EXPECT_EQ(after, before);
}

TEST_F(ChildStoreTest, OpenRefusesAnEmptyDirectory) {
  ASSERT_TRUE(std::filesystem::create_directory(db_dir_));
  ASSERT_TRUE(Crypto::CreateKeyFile(key_file_).ok());
  Status s = OpenFails();
  EXPECT_THAT(s.message(), HasSubstr("not a contactpoint database"));
  EXPECT_TRUE(std::filesystem::is_empty(db_dir_));
}

// ---- Inserting ----------------------------------------------------------------------------

TEST_F(ChildStoreTest, InsertAssignsIdsOneToN) {
  CreateStore();
  std::vector<NewChild> batch;
  for (int i = 0; i < 5; ++i) {
    batch.push_back(MakeChild("Child" + std::to_string(i), "Smith", Date{2015, 3, 2},
                              "key" + std::to_string(i)));
  }
  EXPECT_THAT(Insert(std::move(batch)), ElementsAre(1, 2, 3, 4, 5));
  EXPECT_EQ(Count(), 5u);
  for (ChildId id = 1; id <= 5; ++id) {
    auto record = store_->GetRecord(id);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->id, id);
    EXPECT_EQ(record->given_name, "Child" + std::to_string(id - 1));
    EXPECT_THAT(record->sources, ElementsAre(SourceRef{"test", "key" + std::to_string(id - 1)}));
  }
}

TEST_F(ChildStoreTest, InsertDoesNotDuplicateASourceTheRecordAlreadyLists) {
  CreateStore();
  NewChild c = Alice();
  c.record.sources.push_back(c.source);
  c.record.sources.push_back({"births", "B-9"});
  ChildId id = InsertOne(std::move(c));
  auto record = store_->GetRecord(id);
  ASSERT_TRUE(record.ok());
  EXPECT_THAT(record->sources, ElementsAre(SourceRef{"test", "alice"}, SourceRef{"births", "B-9"}));
}

TEST_F(ChildStoreTest, IdsPersistAcrossReopenAndContinue) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Bob());
  EXPECT_THAT(Insert(std::move(batch)), ElementsAre(1, 2));
  Reopen();
  EXPECT_EQ(InsertOne(Carol()), 3u);
  Reopen();
  EXPECT_EQ(InsertOne(MakeChild("Dan", "Evans", Date{2014, 2, 2}, "dan")), 4u);
  EXPECT_EQ(Count(), 4u);
}

TEST_F(ChildStoreTest, EmptyBatchInsertsNothing) {
  CreateStore();
  std::vector<NewChild> none;
  auto ids = store_->InsertChildren(none);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_THAT(*ids, IsEmpty());
  EXPECT_EQ(InsertOne(Alice()), 1u);
}

TEST_F(ChildStoreTest, DuplicateSourceInOneBatchWritesNothing) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Carol());
  NewChild twin = Bob();
  twin.source = Alice().source;
  batch.push_back(std::move(twin));
  auto ids = store_->InsertChildren(batch);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(Count(), 0u);
  EXPECT_THAT(ScanNameIds("Smith", 2015), IsEmpty());
  EXPECT_THAT(ScanNameIds("Jones", 2016), IsEmpty());
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), IsEmpty());
  EXPECT_TRUE(store_->FindSource("test", "carol").status().IsNotFound());
  std::vector<ChildId> by_nhs;
  ASSERT_TRUE(store_->FindByIdentifier(keys::IdKind::kNhsNumber, "9434765919", &by_nhs).ok());
  EXPECT_THAT(by_nhs, IsEmpty());
  // No id was consumed.
  EXPECT_EQ(InsertOne(Carol()), 1u);
}

TEST_F(ChildStoreTest, SameKeyFromDifferentSourcesIsNotADuplicate) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  NewChild other = Bob();
  other.source = SourceRef{"births", Alice().source.key};
  batch.push_back(std::move(other));
  EXPECT_THAT(Insert(std::move(batch)), ElementsAre(1, 2));
}

TEST_F(ChildStoreTest, AlreadyLinkedSourceWritesNothing) {
  CreateStore();
  ASSERT_EQ(InsertOne(Alice()), 1u);
  std::vector<NewChild> batch;
  batch.push_back(Carol());
  NewChild again = Bob();
  again.source = Alice().source;
  batch.push_back(std::move(again));
  auto ids = store_->InsertChildren(batch);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), Status::Code::kAlreadyExists);
  EXPECT_THAT(ids.status().message(), HasSubstr("alice"));
  EXPECT_EQ(Count(), 1u);
  EXPECT_THAT(ScanNameIds("Jones", 2016), IsEmpty());
  EXPECT_THAT(ScanNameIds("Smith", 2015), ElementsAre(1));  // Alice only, not Bob
  EXPECT_THAT(ScanPlaceIds("YO1 7HH"), IsEmpty());
  EXPECT_TRUE(store_->FindSource("test", "carol").status().IsNotFound());
  auto link = store_->FindSource("test", "alice");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, 1u);
  EXPECT_EQ(InsertOne(Carol()), 2u);
}

TEST_F(ChildStoreTest, EmptySourceNameIsRefusedAndWritesNothing) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  NewChild nameless = Bob();
  nameless.source.source.clear();
  batch.push_back(std::move(nameless));
  auto ids = store_->InsertChildren(batch);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Count(), 0u);
}

// ---- Reading under a clearance ------------------------------------------------------------

TEST_F(ChildStoreTest, OrdinaryClearanceSeesAnUnshieldedChildsHiddenFields) {
  CreateStore();
  ChildId id = InsertOne(Alice());
  auto view = store_->Get(id, Clearance::Ordinary());
  ASSERT_TRUE(view.ok()) << view.status().ToString();
  EXPECT_FALSE(view->record.shield.shielded);
  EXPECT_EQ(view->record.given_name, "Alice");
  EXPECT_EQ(view->record.nhs_number, "9434765919");
  ASSERT_TRUE(view->hidden.has_value());
  EXPECT_EQ(*view->hidden, Alice().hidden);
}

TEST_F(ChildStoreTest, OrdinaryClearanceDoesNotSeeAShieldedChildsHiddenFields) {
  CreateStore();
  ChildId id = InsertOne(Alice());
  ASSERT_TRUE(Shield(id, true).ok());
  for (const auto& result :
       {store_->Get(id, Clearance::Ordinary()),
        store_->MultiGet(std::vector<ChildId>{id}, Clearance::Ordinary())[0]}) {
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    EXPECT_TRUE(result->record.shield.shielded);
    EXPECT_EQ(result->record.shield.by, "Leeds City Council");
    EXPECT_EQ(result->record.shield.reason, "risk of harm");
    EXPECT_GT(result->record.shield.since_unix, 0);
    EXPECT_EQ(result->record.given_name, "Alice");  // names stay visible
    EXPECT_EQ(result->record.date_of_birth, (Date{2015, 3, 2}));
    EXPECT_EQ(result->record.nhs_number, "9434765919");
    EXPECT_EQ(result->hidden, std::nullopt);
    // A source's name ("la_leeds") can place a child as surely as an address.
    EXPECT_THAT(result->record.sources, IsEmpty());
    EXPECT_THAT(result->record.provenance, IsEmpty());
  }
}

TEST_F(ChildStoreTest, ElevatedClearanceSeesAShieldedChildsHiddenFields) {
  CreateStore();
  ChildId id = InsertOne(Alice());
  ASSERT_TRUE(Shield(id, true).ok());
  for (auto level : {Clearance::Level::kShieldingManager, Clearance::Level::kBreakGlass,
                     Clearance::Level::kMatching}) {
    Clearance clearance = Clearance::Elevated(level, "someone", "a reason");
    auto view = store_->Get(id, clearance);
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    EXPECT_TRUE(view->record.shield.shielded);
    ASSERT_TRUE(view->hidden.has_value()) << static_cast<int>(level);
    EXPECT_EQ(*view->hidden, Alice().hidden);
    EXPECT_THAT(view->record.sources, ElementsAre(SourceRef{"test", "alice"}));
    EXPECT_EQ(view->record.provenance, Alice().record.provenance);
  }
}

TEST_F(ChildStoreTest, ChildInsertedShieldedIsShieldedFromTheStart) {
  CreateStore();
  NewChild c = Alice();
  c.record.shield = ShieldState{true, "Leeds City Council", "at birth", 1};
  ChildId id = InsertOne(std::move(c));
  auto view = store_->Get(id, Clearance::Ordinary());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->hidden, std::nullopt);
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), IsEmpty());
  auto postings = ScanName(TermKind::kPhonetic, "SMITH", 2015);
  ASSERT_EQ(postings.size(), 1u);
  EXPECT_TRUE(postings[0].shielded);
}

TEST_F(ChildStoreTest, UnknownIdsAreNotFound) {
  CreateStore();
  InsertOne(Alice());
  for (ChildId id : {ChildId{0}, ChildId{2}, ChildId{999}, ~ChildId{0}}) {
    EXPECT_EQ(store_->Get(id, Clearance::Ordinary()).status().code(), Status::Code::kNotFound)
        << id;
    EXPECT_EQ(store_->Get(id, Manager()).status().code(), Status::Code::kNotFound) << id;
    EXPECT_EQ(store_->GetRecord(id).status().code(), Status::Code::kNotFound) << id;
  }
}

TEST_F(ChildStoreTest, MultiGetReturnsOneResultPerIdInOrder) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Bob());
  batch.push_back(Carol());
  Insert(std::move(batch));
  ASSERT_TRUE(Shield(2, true).ok());
  const std::vector<ChildId> ids = {3, 999, 2, 1, 3};
  auto results = store_->MultiGet(ids, Clearance::Ordinary());
  ASSERT_EQ(results.size(), ids.size());
  ASSERT_TRUE(results[0].ok());
  EXPECT_EQ(results[0]->record.given_name, "Carol");
  EXPECT_TRUE(results[0]->hidden.has_value());
  EXPECT_EQ(results[1].status().code(), Status::Code::kNotFound);
  ASSERT_TRUE(results[2].ok());
  EXPECT_EQ(results[2]->record.given_name, "Bob");
  EXPECT_EQ(results[2]->hidden, std::nullopt);
  ASSERT_TRUE(results[3].ok());
  EXPECT_EQ(results[3]->record.given_name, "Alice");
  EXPECT_TRUE(results[3]->hidden.has_value());
  ASSERT_TRUE(results[4].ok());
  EXPECT_EQ(results[4]->record.id, 3u);
  EXPECT_TRUE(store_->MultiGet(std::vector<ChildId>{}, Clearance::Ordinary()).empty());
}

TEST_F(ChildStoreTest, GetRecordReturnsTheVisibleRecord) {
  CreateStore();
  NewChild c = Alice();
  c.record.middle_names = "Rose";
  c.record.former_family_names = {"Brown"};
  c.record.provenance = {{"date_of_birth", "test"}};
  ChildRecord expected = c.record;
  ChildId id = InsertOne(std::move(c));
  expected.id = id;
  expected.sources = {SourceRef{"test", "alice"}};
  auto record = store_->GetRecord(id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ(*record, expected);
}

// ---- Name scans -----------------------------------------------------------------------------

class ChildStoreScanTest : public ChildStoreTest {
 protected:
  void SetUp() override {
    ChildStoreTest::SetUp();
    CreateStore();
    // Smiths born 2015 in months 7, 3, 3, 12, 1 (inserted out of order), one Smith in
    // 2016, and a Smithson (a token with SMITH as its prefix) in 2015.
    std::vector<NewChild> batch;
    batch.push_back(MakeChild("Amy", "Smith", Date{2015, 7, 1}, "s1"));     // 1
    batch.push_back(MakeChild("Ben", "Smith", Date{2015, 3, 9}, "s2"));     // 2
    batch.push_back(MakeChild("Cal", "smith", Date{2015, 3, 1}, "s3"));     // 3
    batch.push_back(MakeChild("Dee", "Smith", Date{2015, 12, 31}, "s4"));   // 4
    batch.push_back(MakeChild("Eve", "Smith", Date{2015, 1, 20}, "s5"));    // 5
    batch.push_back(MakeChild("Fay", "Smith", Date{2016, 3, 9}, "s6"));     // 6
    batch.push_back(MakeChild("Gus", "Smithson", Date{2015, 3, 9}, "s7"));  // 7
    batch.push_back(MakeChild("Amelia", "Brown", Date{2015, 3, 9}, "s8"));  // 8
    ASSERT_THAT(Insert(std::move(batch)), ElementsAre(1, 2, 3, 4, 5, 6, 7, 8));
  }
};

TEST_F(ChildStoreScanTest, ScanNameVisitsOneYearInMonthThenIdOrder) {
  bool complete = false;
  auto postings = ScanName(TermKind::kPhonetic, "SMITH", 2015, std::nullopt, 100, &complete);
  EXPECT_TRUE(complete);
  EXPECT_THAT(
      postings,
      ElementsAre(SeenPosting{5, 2015, 1, false, "Eve"}, SeenPosting{2, 2015, 3, false, "Ben"},
                  SeenPosting{3, 2015, 3, false, "Cal"}, SeenPosting{1, 2015, 7, false, "Amy"},
                  SeenPosting{4, 2015, 12, false, "Dee"}));
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMITH", 2016),
              ElementsAre(SeenPosting{6, 2016, 3, false, "Fay"}));
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMITHSON", 2015),
              ElementsAre(SeenPosting{7, 2015, 3, false, "Gus"}));
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMIT", 2015), IsEmpty());
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMITH", 2014), IsEmpty());
  EXPECT_THAT(ScanName(TermKind::kNickname, "SMITH", 2015), IsEmpty());
}

TEST_F(ChildStoreScanTest, TrigramPostingsCarryNoFeatures) {
  EXPECT_THAT(ScanName(TermKind::kTrigram, "AMY", 2015),
              ElementsAre(SeenPosting{1, 2015, 7, false, ""}));
  EXPECT_THAT(ScanName(TermKind::kTrigram, "AME", 2015),
              ElementsAre(SeenPosting{8, 2015, 3, false, ""}));
}

TEST_F(ChildStoreScanTest, ScanNameRestrictedToOneMonth) {
  bool complete = false;
  auto march = ScanName(TermKind::kPhonetic, "SMITH", 2015, uint8_t{3}, 100, &complete);
  EXPECT_TRUE(complete);
  EXPECT_THAT(march, ElementsAre(SeenPosting{2, 2015, 3, false, "Ben"},
                                 SeenPosting{3, 2015, 3, false, "Cal"}));
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMITH", 2015, uint8_t{12}),
              ElementsAre(SeenPosting{4, 2015, 12, false, "Dee"}));
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMITH", 2015, uint8_t{2}), IsEmpty());
  EXPECT_THAT(ScanName(TermKind::kPhonetic, "SMITH", 2016, uint8_t{7}), IsEmpty());
}

TEST_F(ChildStoreScanTest, ScanNameLimitReportsIncomplete) {
  const struct {
    std::optional<uint8_t> month;
    size_t limit;
    std::vector<ChildId> ids;
    bool complete;
  } cases[] = {
      {std::nullopt, 0, {}, false},
      {std::nullopt, 1, {5}, false},
      {std::nullopt, 3, {5, 2, 3}, false},
      {std::nullopt, 4, {5, 2, 3, 1}, false},
      {std::nullopt, 5, {5, 2, 3, 1, 4}, true},
      {std::nullopt, 6, {5, 2, 3, 1, 4}, true},
      {uint8_t{3}, 1, {2}, false},
      {uint8_t{3}, 2, {2, 3}, true},
      {uint8_t{2}, 0, {}, true},
  };
  for (const auto& c : cases) {
    bool complete = !c.complete;
    std::vector<ChildId> ids;
    for (const auto& p :
         ScanName(TermKind::kPhonetic, "SMITH", 2015, c.month, c.limit, &complete)) {
      ids.push_back(p.id);
    }
    EXPECT_EQ(ids, c.ids) << "limit " << c.limit;
    EXPECT_EQ(complete, c.complete) << "limit " << c.limit;
  }
}

TEST_F(ChildStoreScanTest, ScanNameRefusesBadTokens) {
  bool complete = false;
  auto visit = [](const Posting&) {};
  EXPECT_EQ(
      store_->ScanName(TermKind::kPhonetic, "", 2015, std::nullopt, 10, visit, &complete).code(),
      Status::Code::kInvalidArgument);
  EXPECT_EQ(store_
                ->ScanName(TermKind::kPhonetic, std::string(256, 'A'), 2015, std::nullopt, 10,
                           visit, &complete)
                .code(),
            Status::Code::kInvalidArgument);
}

TEST_F(ChildStoreScanTest, ShieldSetsAndClearsTheShieldFlagOnNamePostings) {
  ASSERT_TRUE(Shield(2, true).ok());
  auto postings = ScanName(TermKind::kPhonetic, "SMITH", 2015, uint8_t{3});
  EXPECT_THAT(postings, ElementsAre(SeenPosting{2, 2015, 3, true, "Ben"},
                                    SeenPosting{3, 2015, 3, false, "Cal"}));
  EXPECT_THAT(ScanName(TermKind::kTrigram, "BEN", 2015),
              ElementsAre(SeenPosting{2, 2015, 3, true, ""}));
  ASSERT_TRUE(Shield(2, false).ok());
  EXPECT_THAT(
      ScanName(TermKind::kPhonetic, "SMITH", 2015, uint8_t{3}),
      ElementsAre(SeenPosting{2, 2015, 3, false, "Ben"}, SeenPosting{3, 2015, 3, false, "Cal"}));
  EXPECT_THAT(ScanName(TermKind::kTrigram, "BEN", 2015),
              ElementsAre(SeenPosting{2, 2015, 3, false, ""}));
}

TEST_F(ChildStoreScanTest, ScansSurviveFlushAndCompaction) {
  ASSERT_TRUE(store_->CompactAll().ok());
  Reopen();
  EXPECT_THAT(ScanNameIds("Smith", 2015), ElementsAre(5, 2, 3, 1, 4));
  EXPECT_GT(store_->LiveDataBytes(), 0u);
}

// ---- Place scans and shielding --------------------------------------------------------------

TEST_F(ChildStoreTest, ScanPlaceFollowsTheShield) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());  // LS1 4AP
  batch.push_back(Bob());    // LS1 4AP
  batch.push_back(Carol());  // YO1 7HH
  Insert(std::move(batch));

  EXPECT_THAT(ScanPlace("LS1 4AP"), ElementsAre(SeenPosting{1, 0, 0, false, "Alice"},
                                                SeenPosting{2, 0, 0, false, "Bob"}));
  EXPECT_THAT(ScanPlaceIds("YO1 7HH"), ElementsAre(3));
  EXPECT_THAT(ScanPlaceIds("LS1 4AQ"), IsEmpty());

  ASSERT_TRUE(Shield(1, true).ok());
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(2));
  Reopen();
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(2));

  ASSERT_TRUE(Shield(1, false).ok());
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(1, 2));
  Reopen();
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(1, 2));
  auto view = store_->Get(1, Clearance::Ordinary());
  ASSERT_TRUE(view.ok());
  EXPECT_FALSE(view->record.shield.shielded);
  EXPECT_TRUE(view->hidden.has_value());
}

TEST_F(ChildStoreTest, ScanPlaceLimitReportsIncomplete) {
  CreateStore();
  std::vector<NewChild> batch;
  for (int i = 0; i < 4; ++i) {
    NewChild c = MakeChild("Kid" + std::to_string(i), "Kay", Date{2017, 5, 5}, std::to_string(i));
    c.hidden = MakeHidden(std::to_string(i) + " High Street", "M1 1AE");
    batch.push_back(std::move(c));
  }
  Insert(std::move(batch));
  bool complete = true;
  EXPECT_EQ(ScanPlace("M1 1AE", 3, &complete).size(), 3u);
  EXPECT_FALSE(complete);
  EXPECT_EQ(ScanPlace("M1 1AE", 4, &complete).size(), 4u);
  EXPECT_TRUE(complete);
  EXPECT_EQ(ScanPlace("M1 1AE", 0, &complete).size(), 0u);
  EXPECT_FALSE(complete);
}

TEST_F(ChildStoreTest, ChildWithoutPostcodeHasNoPlacePostingAndCanBeShielded) {
  CreateStore();
  NewChild c = Alice();
  c.hidden.postcode.clear();
  ChildId id = InsertOne(std::move(c));
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), IsEmpty());
  ASSERT_TRUE(Shield(id, true).ok());
  auto view = store_->Get(id, Manager());
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->record.shield.shielded);
  EXPECT_EQ(view->hidden->address, "1 Acacia Avenue, Leeds");
}

TEST_F(ChildStoreTest, SetShieldIsIdempotent) {
  CreateStore();
  ChildId id = InsertOne(Alice());
  ASSERT_TRUE(store_->SetShield(id, true, "Leeds City Council", "first").ok());
  auto first = store_->GetRecord(id);
  ASSERT_TRUE(first.ok());
  // Setting the state the child already has is OK and changes nothing.
  ASSERT_TRUE(store_->SetShield(id, true, "York Council", "second").ok());
  auto second = store_->GetRecord(id);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->shield, first->shield);
  EXPECT_EQ(second->shield.by, "Leeds City Council");
  EXPECT_EQ(second->shield.reason, "first");
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), IsEmpty());

  ChildId other = InsertOne(Bob());
  auto before = store_->GetRecord(other);
  ASSERT_TRUE(before.ok());
  ASSERT_TRUE(store_->SetShield(other, false, "York Council", "unshield an unshielded").ok());
  auto after = store_->GetRecord(other);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(*after, *before);
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), ElementsAre(other));
}

TEST_F(ChildStoreTest, SetShieldOnAnUnknownChildIsNotFound) {
  CreateStore();
  InsertOne(Alice());
  for (ChildId id : {ChildId{0}, ChildId{2}, ChildId{12345}}) {
    EXPECT_EQ(Shield(id, true).code(), Status::Code::kNotFound) << id;
    EXPECT_EQ(Shield(id, false).code(), Status::Code::kNotFound) << id;
  }
  EXPECT_EQ(Count(), 1u);
}

TEST_F(ChildStoreTest, ShieldPersistsAcrossReopen) {
  CreateStore();
  ChildId id = InsertOne(Alice());
  ASSERT_TRUE(Shield(id, true).ok());
  Reopen();
  auto view = store_->Get(id, Clearance::Ordinary());
  ASSERT_TRUE(view.ok());
  EXPECT_TRUE(view->record.shield.shielded);
  EXPECT_EQ(view->hidden, std::nullopt);
  EXPECT_THAT(ScanPlaceIds("LS1 4AP"), IsEmpty());
}

// ---- Identifiers and sources ----------------------------------------------------------------

TEST_F(ChildStoreTest, FindByIdentifierFindsNhsAndPupilNumbers) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());  // NHS 9434765919, UPN A123456789012
  NewChild twin = Bob();
  twin.record.nhs_number = "9434765919";  // a duplicate identifier across two children
  batch.push_back(std::move(twin));
  NewChild carol = Carol();
  carol.record.nhs_number = "4010232137";
  batch.push_back(std::move(carol));
  Insert(std::move(batch));

  const struct {
    keys::IdKind kind;
    std::string value;
    std::vector<ChildId> ids;
  } cases[] = {
      {keys::IdKind::kNhsNumber, "9434765919", {1, 2}},
      {keys::IdKind::kNhsNumber, "4010232137", {3}},
      {keys::IdKind::kPupilNumber, "A123456789012", {1}},
      {keys::IdKind::kNhsNumber, "A123456789012", {}},  // right value, wrong kind
      {keys::IdKind::kPupilNumber, "9434765919", {}},
      {keys::IdKind::kNhsNumber, "943476591", {}},    // a prefix of a stored value
      {keys::IdKind::kNhsNumber, "94347659190", {}},  // a stored value is its prefix
      {keys::IdKind::kNhsNumber, "1111111111", {}},
  };
  for (const auto& c : cases) {
    std::vector<ChildId> ids;
    ASSERT_TRUE(store_->FindByIdentifier(c.kind, c.value, &ids).ok());
    EXPECT_EQ(ids, c.ids) << c.value;
  }
}

// Identifier postings in files written before the identifier index had a prefix bloom
// filter (written here by RocksDB without one) are found as before, beside new ones.
TEST_F(ChildStoreTest, FindByIdentifierReadsFilesWrittenWithoutThePrefixFilter) {
  CreateStore();
  store_.reset();
  EditRawDatabase(db_dir_, [&](rocksdb::DB* db, const auto& handles, const auto& names) {
    auto* ids = Family(handles, names, "id_index");
    ASSERT_NE(ids, nullptr);
    for (const auto& key : {keys::IdKey(keys::IdKind::kNhsNumber, "9434765919", 7),
                            keys::IdKey(keys::IdKind::kNhsNumber, "9434765919", 9),
                            keys::IdKey(keys::IdKind::kNhsNumber, "943476591", 3),
                            keys::IdKey(keys::IdKind::kPupilNumber, "A123456789012", 5)}) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), ids, key, "").ok());
    }
    ASSERT_TRUE(db->Flush(rocksdb::FlushOptions(), ids).ok());
  });
  OpenStore();
  Insert({Alice()});  // NHS 9434765919, UPN A123456789012: in a new file beside the old one
  Reopen();           // the store flushes its memtables when it closes
  const struct {
    keys::IdKind kind;
    std::string value;
    std::vector<ChildId> ids;
  } cases[] = {
      {keys::IdKind::kNhsNumber, "9434765919", {1, 7, 9}},
      {keys::IdKind::kNhsNumber, "943476591", {3}},
      {keys::IdKind::kPupilNumber, "A123456789012", {1, 5}},
      {keys::IdKind::kNhsNumber, "1111111111", {}},
  };
  for (bool compacted : {false, true}) {
    if (compacted) {
      ASSERT_TRUE(store_->CompactAll().ok());  // one file, with the filter
    }
    for (const auto& c : cases) {
      std::vector<ChildId> ids;
      ASSERT_TRUE(store_->FindByIdentifier(c.kind, c.value, &ids).ok());
      std::sort(ids.begin(), ids.end());
      EXPECT_EQ(ids, c.ids) << c.value << (compacted ? " (compacted)" : "");
    }
  }
}

TEST_F(ChildStoreTest, FindSourceReturnsTheChildAndPayloadFingerprint) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Bob());
  Insert(std::move(batch));
  auto link = store_->FindSource("test", "bob");
  ASSERT_TRUE(link.ok()) << link.status().ToString();
  EXPECT_EQ(link->child, 2u);
  // Keyed: the payload holds an address, so an unkeyed hash would confirm a guess.
  const std::string payload = Bob().source_payload;
  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  EXPECT_EQ(link->fingerprint, (*crypto)->RowFingerprint(payload));
  EXPECT_EQ(link->fingerprint, store_->Fingerprint(payload));
  EXPECT_NE(link->fingerprint, XXH3_64bits(payload.data(), payload.size()));
  EXPECT_NE(link->fingerprint, DecodeBigEndian64((*crypto)->KeyedHash(payload).data()));
  EXPECT_NE(link->fingerprint, store_->FindSource("test", "alice")->fingerprint);

  EXPECT_TRUE(store_->FindSource("test", "nobody").status().IsNotFound());
  EXPECT_TRUE(store_->FindSource("births", "bob").status().IsNotFound());
  EXPECT_TRUE(store_->FindSource("tes", "tbob").status().IsNotFound());
  Reopen();
  link = store_->FindSource("test", "bob");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, 2u);
}

// ---- Whole-store reads ------------------------------------------------------------------------

TEST_F(ChildStoreTest, ForEachChildHidesShieldedHiddenFieldsFromOrdinaryClearance) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Bob());
  batch.push_back(Carol());
  Insert(std::move(batch));
  ASSERT_TRUE(Shield(2, true).ok());

  std::vector<ChildId> ids;
  std::vector<bool> has_hidden;
  std::vector<size_t> source_counts;
  ASSERT_TRUE(store_
                  ->ForEachChild(Clearance::Ordinary(),
                                 [&](const ChildView& v) {
                                   ids.push_back(v.record.id);
                                   has_hidden.push_back(v.hidden.has_value());
                                   source_counts.push_back(v.record.sources.size());
                                   if (v.record.shield.shielded) {
                                     EXPECT_FALSE(v.hidden);
                                     EXPECT_THAT(v.record.provenance, IsEmpty());
                                   }
                                   return true;
                                 })
                  .ok());
  EXPECT_THAT(ids, ElementsAre(1, 2, 3));
  EXPECT_THAT(has_hidden, ElementsAre(true, false, true));
  EXPECT_THAT(source_counts, ElementsAre(1, 0, 1));

  ids.clear();
  std::vector<std::string> addresses;
  ASSERT_TRUE(store_
                  ->ForEachChild(Manager(),
                                 [&](const ChildView& v) {
                                   ids.push_back(v.record.id);
                                   addresses.push_back(v.hidden ? v.hidden->address : "<none>");
                                   return true;
                                 })
                  .ok());
  EXPECT_THAT(ids, ElementsAre(1, 2, 3));
  EXPECT_THAT(addresses, ElementsAre("1 Acacia Avenue, Leeds", "2 Acacia Avenue, Leeds",
                                     "3 Beech Road, York"));
}

TEST_F(ChildStoreTest, ForEachChildStopsWhenTheVisitorSaysSo) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(Alice());
  batch.push_back(Bob());
  batch.push_back(Carol());
  Insert(std::move(batch));
  int visits = 0;
  ASSERT_TRUE(
      store_->ForEachChild(Clearance::Ordinary(), [&](const ChildView&) { return ++visits < 2; })
          .ok());
  EXPECT_EQ(visits, 2);
}

// 200 children compacted into SST files and read back after a reopen, so that every read
// comes from an SST block (values sit at arbitrary, unaligned offsets there).
class ChildStoreSstTest : public ChildStoreTest {
 protected:
  void SetUp() override {
    ChildStoreTest::SetUp();
    CreateStore();
    std::vector<NewChild> batch;
    for (int i = 0; i < 200; ++i) {
      NewChild c = MakeChild("Name" + std::to_string(i), "Family", Date{2010, 1, 1},
                             "k" + std::to_string(i));
      c.hidden = MakeHidden(std::to_string(i) + " Road", "LS1 4AP");
      batch.push_back(std::move(c));
    }
    Insert(std::move(batch));
    ASSERT_TRUE(store_->CompactAll().ok());
    Reopen();
  }
};

TEST_F(ChildStoreSstTest, ForEachChildReadsFromSstFiles) {
  ChildId expected = 1;
  ASSERT_TRUE(
      store_
          ->ForEachChild(Clearance::Ordinary(),
                         [&](const ChildView& v) {
                           EXPECT_EQ(v.record.id, expected);
                           EXPECT_EQ(v.record.given_name, "Name" + std::to_string(expected - 1));
                           EXPECT_EQ(v.hidden->address, std::to_string(expected - 1) + " Road");
                           ++expected;
                           return true;
                         })
          .ok());
  EXPECT_EQ(expected, 201u);
}

TEST_F(ChildStoreSstTest, GetRecordReadsFromSstFiles) {
  for (ChildId id = 1; id <= 200; ++id) {
    auto record = store_->GetRecord(id);
    ASSERT_TRUE(record.ok()) << record.status().ToString();
    EXPECT_EQ(record->given_name, "Name" + std::to_string(id - 1));
  }
}

TEST_F(ChildStoreSstTest, GetAndMultiGetReadFromSstFiles) {
  std::vector<ChildId> ids;
  for (ChildId id = 1; id <= 200; ++id) ids.push_back(id);
  auto views = store_->MultiGet(ids, Clearance::Ordinary());
  ASSERT_EQ(views.size(), ids.size());
  for (ChildId id : ids) {
    ASSERT_TRUE(views[id - 1].ok()) << views[id - 1].status().ToString();
    EXPECT_EQ(views[id - 1]->record.given_name, "Name" + std::to_string(id - 1));
    EXPECT_EQ(views[id - 1]->hidden->address, std::to_string(id - 1) + " Road");
  }
  auto view = store_->Get(123, Clearance::Ordinary());
  ASSERT_TRUE(view.ok());
  EXPECT_EQ(view->record.given_name, "Name122");
}

TEST_F(ChildStoreTest, CountChildrenCountsEveryChild) {
  CreateStore();
  EXPECT_EQ(Count(), 0u);
  InsertOne(Alice());
  EXPECT_EQ(Count(), 1u);
  std::vector<NewChild> batch;
  batch.push_back(Bob());
  batch.push_back(Carol());
  Insert(std::move(batch));
  EXPECT_EQ(Count(), 3u);
  ASSERT_TRUE(Shield(1, true).ok());
  EXPECT_EQ(Count(), 3u);  // shielded children are still children
  Reopen();
  EXPECT_EQ(Count(), 3u);
}

// ---- Concurrency ------------------------------------------------------------------------------

NewChild NumberedChild(int n) {
  NewChild c = MakeChild("Given" + std::to_string(n), "Parallel",
                         Date{2018, static_cast<uint8_t>(1 + n % 12), 1}, "k" + std::to_string(n));
  c.hidden = MakeHidden(std::to_string(n) + " Parallel Road", "LS2 9JT");
  return c;
}

// Checks that a view is one coherent child: record and hidden fields of the same n.
// Every reader here holds ordinary clearance.
void ExpectCoherent(const ChildView& v) {
  ASSERT_TRUE(v.record.given_name.starts_with("Given")) << v.record.given_name;
  const std::string n = v.record.given_name.substr(5);
  if (v.record.shield.shielded) {
    EXPECT_FALSE(v.hidden.has_value());
    EXPECT_THAT(v.record.sources, IsEmpty());
  } else {
    ASSERT_TRUE(v.hidden.has_value());
    EXPECT_EQ(v.hidden->address, n + " Parallel Road");
    EXPECT_THAT(v.record.sources, ElementsAre(SourceRef{"test", "k" + n}));
  }
}

TEST_F(ChildStoreTest, ConcurrentReadersSeeConsistentRecordsWhileAWriterInserts) {
  CreateStore();
  constexpr int kBatches = 40;
  constexpr int kBatchSize = 25;
  std::atomic<ChildId> inserted{0};
  std::atomic<bool> done{false};
  std::atomic<int> failures{0};

  std::thread writer([&] {
    int n = 0;
    for (int b = 0; b < kBatches; ++b) {
      std::vector<NewChild> batch;
      for (int i = 0; i < kBatchSize; ++i) batch.push_back(NumberedChild(n++));
      auto ids = store_->InsertChildren(batch);
      if (!ids.ok() || ids->size() != kBatchSize) {
        ++failures;
        break;
      }
      inserted = ids->back();
      if (b % 10 == 9) {
        if (!store_->SetShield(ids->front(), true, "LA", "test").ok()) ++failures;
      }
    }
    done = true;
  });

  auto reader = [&](unsigned seed) {
    std::mt19937_64 rng(seed);
    uint64_t last_count = 0;
    while (!done) {
      const ChildId max = inserted.load();
      if (max == 0) continue;
      const ChildId id = 1 + rng() % max;
      auto view = store_->Get(id, Clearance::Ordinary());
      if (!view.ok()) {
        ADD_FAILURE() << "child " << id << " of " << max << ": " << view.status().ToString();
        ++failures;
        return;
      }
      ExpectCoherent(*view);
      std::vector<ChildId> ids = {id, max, 1};
      for (const auto& r : store_->MultiGet(ids, Clearance::Ordinary())) {
        if (!r.ok()) {
          ++failures;
          return;
        }
        ExpectCoherent(*r);
      }
      bool complete = false;
      Status s = store_->ScanName(
          TermKind::kPhonetic, "PARALLEL", 2018, static_cast<uint8_t>(1 + rng() % 12), 10000,
          [&](const Posting& p) { EXPECT_EQ(p.features.substr(0, 5), "Given"); }, &complete);
      if (!s.ok()) ++failures;
      auto count = store_->CountChildren();
      if (!count.ok() || *count < last_count || *count < max) {
        ADD_FAILURE() << "count went from " << last_count << " to " << (count.ok() ? *count : 0)
                      << " with " << max << " inserted";
        ++failures;
        return;
      }
      last_count = *count;
    }
  };
  std::vector<std::thread> readers;
  for (unsigned t = 0; t < 4; ++t) readers.emplace_back(reader, 1000 + t);
  writer.join();
  for (auto& t : readers) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(Count(), static_cast<uint64_t>(kBatches * kBatchSize));

  // Every child is still coherent once everything has settled. (MultiGet, not
  // ForEachChild: this test is about concurrency, and ForEachChild has its own tests.)
  std::vector<ChildId> all(kBatches * kBatchSize);
  std::iota(all.begin(), all.end(), ChildId{1});
  auto views = store_->MultiGet(all, Clearance::Ordinary());
  int shielded = 0;
  for (const auto& view : views) {
    ASSERT_TRUE(view.ok()) << view.status().ToString();
    ExpectCoherent(*view);
    shielded += view->record.shield.shielded ? 1 : 0;
  }
  EXPECT_EQ(shielded, kBatches / 10);
}

TEST_F(ChildStoreTest, ConcurrentWritersGetDistinctIds) {
  CreateStore();
  constexpr int kThreads = 4;
  constexpr int kPerThread = 50;
  std::vector<std::vector<ChildId>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::vector<NewChild> batch;
        batch.push_back(NumberedChild(t * kPerThread + i));
        auto got = store_->InsertChildren(batch);
        ASSERT_TRUE(got.ok()) << got.status().ToString();
        ids[t].push_back((*got)[0]);
      }
    });
  }
  for (auto& t : threads) t.join();
  std::vector<ChildId> all;
  for (const auto& v : ids) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  std::vector<ChildId> expected(kThreads * kPerThread);
  std::iota(expected.begin(), expected.end(), ChildId{1});
  EXPECT_EQ(all, expected);
  for (ChildId id : {ChildId{1}, ChildId{77}, ChildId{200}}) {
    auto view = store_->Get(id, Clearance::Ordinary());
    ASSERT_TRUE(view.ok());
    ExpectCoherent(*view);
  }
}

}  // namespace
}  // namespace cp
