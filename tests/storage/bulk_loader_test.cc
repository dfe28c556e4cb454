// Tests for storage/bulk_loader.h. The loader's promise is "as if inserted by
// InsertChildren", so most tests load the same children into a second store through
// InsertChildren and compare what every read path returns. Both stores share one key file
// (the second is a copy of the first, empty database) so that keyed hashes, and therefore
// source fingerprints and place scans, agree.

#include "storage/bulk_loader.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <tuple>
#include <utility>
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

constexpr const char* kPostcodes[] = {"LS1 4AP", "YO1 7HH", "M1 1AE", "SW1A 1AA", ""};

// Varied children: names, dates (one without), genders, identifiers, former names,
// shielded ones, ones without a postcode, one whose record already lists its source.
NewChild Kid(int n) {
  static const char* const kGiven[] = {"Amelia", "Oliver", "Isla", "Jack", "Ava", "Harry",
                                       "Mia",    "George", "Leo",  "Ivy",  "Noah"};
  static const char* const kFamily[] = {"Smith",    "Jones",  "Taylor", "Brown",
                                        "Williams", "Wilson", "Khan",   "Patel"};
  Date dob{static_cast<int16_t>(2008 + n % 5), static_cast<uint8_t>(1 + n % 12),
           static_cast<uint8_t>(1 + n % 28)};
  if (n % 13 == 12) dob = Date{};
  NewChild c = MakeChild(kGiven[n % 11], kFamily[n % 8], dob, "kid-" + std::to_string(n));
  c.record.gender = n % 2 == 0 ? Gender::kFemale : Gender::kMale;
  if (n % 5 == 1) c.record.middle_names = "Rose May";
  if (n % 5 == 2) c.record.former_family_names = {"Oldname"};
  if (n % 3 == 0) c.record.nhs_number = std::to_string(9434765000 + n % 7);
  if (n % 4 == 1) c.record.pupil_number = "A12345678901" + std::to_string(n % 3);
  if (n % 6 == 5) c.record.shield = ShieldState{true, "Leeds City Council", "risk", 1700000000};
  if (n % 9 == 4) c.record.sources.push_back(c.source);
  c.record.provenance = {{"given_name", "test"}};
  c.hidden = MakeHidden(std::to_string(n) + " Bulk Street", kPostcodes[n % 5]);
  c.source_payload = "row " + std::to_string(n);
  return c;
}

std::vector<NewChild> Kids(int first, int count) {
  std::vector<NewChild> kids;
  for (int n = first; n < first + count; ++n) kids.push_back(Kid(n));
  return kids;
}

std::vector<ChildId> Range(ChildId first, ChildId last) {
  std::vector<ChildId> ids;
  for (ChildId id = first; id <= last; ++id) ids.push_back(id);
  return ids;
}

std::vector<SeenPosting> ScanName(const ChildStore& store, TermKind kind, const std::string& token,
                                  uint16_t year) {
  std::vector<SeenPosting> seen;
  bool complete = false;
  Status s = store.ScanName(
      kind, token, year, std::nullopt, 100000,
      [&](const Posting& p) {
        seen.push_back({p.id, p.birth_year, p.birth_month, p.shielded, std::string(p.features)});
      },
      &complete);
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(complete);
  return seen;
}

std::vector<SeenPosting> ScanPlace(const ChildStore& store, const std::string& postcode) {
  std::vector<SeenPosting> seen;
  bool complete = false;
  Status s = store.ScanPlace(
      postcode, 100000,
      [&](const Posting& p) {
        seen.push_back({p.id, p.birth_year, p.birth_month, p.shielded, std::string(p.features)});
      },
      &complete);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return seen;
}

std::vector<ChildId> ScanPlaceIds(const ChildStore& store, const std::string& postcode) {
  std::vector<ChildId> ids;
  for (const auto& p : ScanPlace(store, postcode)) ids.push_back(p.id);
  return ids;
}

using Dump = std::vector<std::pair<ChildRecord, std::optional<HiddenFields>>>;

Dump DumpChildren(const ChildStore& store, const Clearance& clearance) {
  Dump dump;
  Status s = store.ForEachChild(clearance, [&](const ChildView& v) {
    dump.emplace_back(v.record, v.hidden);
    return true;
  });
  EXPECT_TRUE(s.ok()) << s.ToString();
  return dump;
}

uint64_t Count(const ChildStore& store) {
  auto n = store.CountChildren();
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : ~uint64_t{0};
}

// The raw bytes of every file under `dir` (WAL, MANIFEST, LOG, OPTIONS, SST), and the
// decoded keys and values of every SST file (which sees through block compression), as in
// tests/storage/shield_marker_test.cc.
struct LoaderDiskScan {
  std::set<std::string> raw;      // needles found in raw bytes
  std::set<std::string> decoded;  // needles found in SST keys or values
  int files = 0;
  int sst_files = 0;
};

LoaderDiskScan ScanLoaderDirectory(const std::string& dir, const std::vector<std::string>& needles) {
  LoaderDiskScan scan;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    if (!std::filesystem::exists(path)) continue;  // deleted since the listing (a compaction)
    const std::string bytes = testing_util::ReadFileBytes(path);
    ++scan.files;
    for (const auto& needle : needles) {
      if (bytes.find(needle) != std::string::npos) scan.raw.insert(needle);
    }
    if (entry.path().extension() != ".sst") continue;
    ++scan.sst_files;
    rocksdb::Options options = testing_util::SstReaderOptions(path);
    rocksdb::SstFileReader reader(options);
    auto s = reader.Open(path);
    if (!s.ok()) {
      if (std::filesystem::exists(path)) ADD_FAILURE() << path << ": " << s.ToString();
      continue;
    }
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      for (const auto& needle : needles) {
        if (it->key().ToStringView().find(needle) != std::string_view::npos ||
            it->value().ToStringView().find(needle) != std::string_view::npos) {
          scan.decoded.insert(needle);
        }
      }
    }
    EXPECT_TRUE(it->status().ok()) << path << ": " << it->status().ToString();
  }
  EXPECT_FALSE(ec) << "listing " << dir << ": " << ec.message();
  return scan;
}

// Calls fn(properties) for each SST file under `dir` of the column family `family`.
template <typename Fn>
void ForEachTableOf(const std::string& dir, const std::string& family, Fn&& fn) {
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().extension() != ".sst") continue;
    rocksdb::Options options = testing_util::SstReaderOptions(entry.path().string());
    rocksdb::SstFileReader reader(options);
    if (!reader.Open(entry.path().string()).ok()) continue;
    auto properties = reader.GetTableProperties();
    if (properties->column_family_name == family) fn(*properties);
  }
}

// SST files under `dir` that belong to the column family `family`.
int CountSstFiles(const std::string& dir, const std::string& family) {
  int n = 0;
  ForEachTableOf(dir, family, [&](const rocksdb::TableProperties&) { ++n; });
  return n;
}

// The compression of every SST file under `dir` of the column family `family`.
std::set<std::string> Compressions(const std::string& dir, const std::string& family) {
  std::set<std::string> names;
  ForEachTableOf(dir, family,
                 [&](const rocksdb::TableProperties& p) { names.insert(p.compression_name); });
  return names;
}

// Uncompressed bytes (keys and values) per data block over the SST files under `dir` of the
// column family `family`.
double MeanDataBlockBytes(const std::string& dir, const std::string& family) {
  uint64_t bytes = 0, blocks = 0;
  ForEachTableOf(dir, family, [&](const rocksdb::TableProperties& p) {
    bytes += p.raw_key_size + p.raw_value_size;
    blocks += p.num_data_blocks;
  });
  return blocks == 0 ? 0 : static_cast<double>(bytes) / static_cast<double>(blocks);
}

// A family's option as the database's newest OPTIONS file records it (RocksDB writes one at
// each SetOptions); empty when not found.
std::string FamilyOption(const std::string& dir, const std::string& family,
                         const std::string& option) {
  std::string newest;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    const std::string name = entry.path().filename().string();
    // OPTIONS-<number>, numbers growing; compare by length first.
    if (name.starts_with("OPTIONS-") && !name.ends_with(".dbtmp") &&
        (name.size() > newest.size() || (name.size() == newest.size() && name > newest))) {
      newest = name;
    }
  }
  // Read through the database's Env: the file is encrypted like every other.
  std::string text;
  EXPECT_TRUE(rocksdb::ReadFileToString(testing_util::RawDbOptions(dir).env, dir + "/" + newest, &text).ok());
  std::istringstream in(text);
  std::string line;
  bool in_family = false;
  const std::string key = option + "=";
  while (std::getline(in, line)) {
    if (line.starts_with("[")) in_family = line == "[CFOptions \"" + family + "\"]";
    const size_t at = line.find(key);
    if (in_family && at != std::string::npos && (at == 0 || line[at - 1] == ' ')) {
      return line.substr(at + key.size());
    }
  }
  return "";
}

int L0Trigger(const std::string& dir, const std::string& family) {
  const std::string value = FamilyOption(dir, family, "level0_file_num_compaction_trigger");
  return value.empty() ? -1 : std::stoi(value);
}

uint64_t LevelBaseBytes(const std::string& dir, const std::string& family) {
  const std::string value = FamilyOption(dir, family, "max_bytes_for_level_base");
  return value.empty() ? 0 : std::stoull(value);
}

int CountFiles(const std::string& dir) {
  int n = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    n += entry.is_regular_file() ? 1 : 0;
  }
  return n;
}

class BulkLoaderTest : public testing_util::TempDirTest {
 protected:
  std::string TempDir() const { return db_dir_ + ".bulk"; }

  std::unique_ptr<BulkLoader> Loader(size_t chunk_children, int threads = 2,
                                     uint64_t (*key_fingerprint)(std::string_view) = nullptr) {
    BulkLoader::Options options;
    options.chunk_children = chunk_children;
    options.threads = threads;
    options.key_fingerprint = key_fingerprint;
    return std::make_unique<BulkLoader>(store_.get(), options);
  }

  std::vector<ChildId> Add(BulkLoader* loader, std::vector<NewChild> children) {
    auto ids = loader->Add(children);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<ChildId>{};
  }

  // A new store whose children 1..12 were bulk-loaded unshielded, all living at `postcode`.
  void LoadTwelveUnshieldedAt(const std::string& postcode) {
    CreateStore();
    auto loader = Loader(/*chunk_children=*/5);
    std::vector<NewChild> kids;
    for (int n = 0; n < 12; ++n) {
      NewChild c = Kid(n);
      c.record.shield = ShieldState{};
      c.hidden.postcode = postcode;
      kids.push_back(std::move(c));
    }
    EXPECT_EQ(Add(loader.get(), kids), Range(1, 12));
    ASSERT_TRUE(loader->Finish().ok());
  }

  std::vector<ChildId> Insert(ChildStore* store, std::vector<NewChild> children) {
    auto ids = store->InsertChildren(children);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? *ids : std::vector<ChildId>{};
  }

  // store_ and ref_: two empty databases under the same key.
  void CreateTwinStores() {
    CreateStore();
    store_.reset();
    std::filesystem::copy(db_dir_, RefDir(), std::filesystem::copy_options::recursive);
    OpenStore();
    ChildStore::Options options = StoreOptions(/*create=*/false);
    options.db_dir = RefDir();
    auto ref = ChildStore::Open(options);
    ASSERT_TRUE(ref.ok()) << ref.status().ToString();
    ref_ = std::move(*ref);
  }
  std::string RefDir() const { return dir_ + "/ref"; }

  // CreateTwinStores with an index policy of the test's own (which must outlive them).
  void CreateTwinStoresWithPolicy(const IndexPolicy* policy) {
    auto open = [&](const std::string& db_dir, bool create) -> std::unique_ptr<ChildStore> {
      ChildStore::Options options = StoreOptions(create);
      options.db_dir = db_dir;
      options.policy = policy;
      auto store = ChildStore::Open(options);
      EXPECT_TRUE(store.ok()) << store.status().ToString();
      if (!store.ok()) return nullptr;
      return std::move(*store);
    };
    store_ = open(db_dir_, true);
    if (store_ == nullptr) return;
    store_.reset();
    std::filesystem::copy(db_dir_, RefDir(), std::filesystem::copy_options::recursive);
    store_ = open(db_dir_, false);
    ref_ = open(RefDir(), false);
  }

  void TearDown() override {
    ref_.reset();
    TempDirTest::TearDown();
  }

  // Every read path of the loaded store answers as the reference store does.
  void ExpectSameAsReference(const std::vector<NewChild>& children) {
    ASSERT_EQ(Count(*store_), Count(*ref_));
    EXPECT_EQ(DumpChildren(*store_, Manager()), DumpChildren(*ref_, Manager()));
    EXPECT_EQ(DumpChildren(*store_, Clearance::Ordinary()),
              DumpChildren(*ref_, Clearance::Ordinary()));

    std::set<std::tuple<TermKind, std::string, uint16_t>> lists;
    std::set<std::string> postcodes;
    std::set<std::pair<keys::IdKind, std::string>> identifiers;
    for (const auto& c : children) {
      std::vector<IndexTerm> terms;
      policy_.NameTerms(c.record, &terms);
      for (const auto& t : terms) {
        lists.insert({t.kind, t.token, static_cast<uint16_t>(c.record.date_of_birth.year)});
      }
      postcodes.insert(c.hidden.postcode);
      if (!c.record.nhs_number.empty()) {
        identifiers.insert({keys::IdKind::kNhsNumber, c.record.nhs_number});
      }
      if (!c.record.pupil_number.empty()) {
        identifiers.insert({keys::IdKind::kPupilNumber, c.record.pupil_number});
      }
      auto loaded = store_->FindSource(c.source.source, c.source.key);
      auto inserted = ref_->FindSource(c.source.source, c.source.key);
      ASSERT_TRUE(loaded.ok()) << c.source.key << ": " << loaded.status().ToString();
      ASSERT_TRUE(inserted.ok()) << c.source.key << ": " << inserted.status().ToString();
      EXPECT_EQ(loaded->child, inserted->child) << c.source.key;
      EXPECT_EQ(loaded->fingerprint, inserted->fingerprint) << c.source.key;
    }
    for (const auto& [kind, token, year] : lists) {
      auto loaded = ScanName(*store_, kind, token, year);
      EXPECT_FALSE(loaded.empty()) << token << " " << year;
      EXPECT_EQ(loaded, ScanName(*ref_, kind, token, year)) << token << " " << year;
    }
    for (const auto& postcode : postcodes) {
      EXPECT_EQ(ScanPlace(*store_, postcode), ScanPlace(*ref_, postcode)) << postcode;
    }
    for (const auto& [kind, value] : identifiers) {
      std::vector<ChildId> loaded, inserted;
      ASSERT_TRUE(store_->FindByIdentifier(kind, value, &loaded).ok());
      ASSERT_TRUE(ref_->FindByIdentifier(kind, value, &inserted).ok());
      EXPECT_FALSE(loaded.empty()) << value;
      EXPECT_EQ(loaded, inserted) << value;
    }
  }

  std::unique_ptr<ChildStore> ref_;
};

// ---- Equivalence with InsertChildren ----------------------------------------------------

class BulkLoaderThreadsTest : public BulkLoaderTest, public ::testing::WithParamInterface<int> {};

TEST_P(BulkLoaderThreadsTest, LoadsAcrossChunksExactlyAsInsertChildrenWould) {
  CreateTwinStores();
  constexpr int kChildren = 61;
  auto loader = Loader(/*chunk_children=*/7, /*threads=*/GetParam());
  std::vector<ChildId> ids;
  // Calls smaller than, equal to and several times the chunk.
  const int calls[] = {1, 3, 7, 2, 20, 5, 16, 7};
  int n = 0;
  for (int size : calls) {
    auto got = Add(loader.get(), Kids(n, size));
    ASSERT_EQ(got.size(), static_cast<size_t>(size));
    ids.insert(ids.end(), got.begin(), got.end());
    n += size;
  }
  ASSERT_EQ(n, kChildren);
  EXPECT_EQ(loader->stats().chunks, 8u);  // 56 children ingested, 5 staged
  EXPECT_EQ(loader->stats().children, 56u);
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(ids, Range(1, kChildren));
  EXPECT_EQ(loader->stats().chunks, 9u);
  EXPECT_EQ(loader->stats().children, static_cast<size_t>(kChildren));
  size_t entries = 0;  // record, hidden fields, source link, postings
  for (const auto& c : Kids(0, kChildren)) {
    std::vector<IndexTerm> terms;
    policy_.NameTerms(c.record, &terms);
    entries += 3 + terms.size() + !c.record.nhs_number.empty() + !c.record.pupil_number.empty() +
               (!c.record.shield.shielded && !c.hidden.postcode.empty());
    // A shielded child's phonetic codes are filed again, year-free, for feed matching.
    // And once under its date of birth (keys::kShieldedBirthDayToken).
    if (c.record.shield.shielded) {
      for (const auto& t : terms) entries += t.kind == TermKind::kPhonetic;
      entries += !c.record.date_of_birth.empty();
    }
  }
  EXPECT_EQ(loader->stats().entries, entries);

  for (int first = 0; first < kChildren; first += 2048) {
    EXPECT_EQ(Insert(ref_.get(), Kids(first, std::min(2048, kChildren - first))),
              Range(1, kChildren));
  }
  const auto kids = Kids(0, kChildren);
  ExpectSameAsReference(kids);

  // Get and MultiGet under ordinary clearance: hidden fields for the unshielded only.
  auto views = store_->MultiGet(ids, Clearance::Ordinary());
  ASSERT_EQ(views.size(), ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    ASSERT_TRUE(views[i].ok()) << views[i].status().ToString();
    const bool shielded = kids[i].record.shield.shielded;
    EXPECT_EQ(views[i]->record.shield.shielded, shielded);
    EXPECT_EQ(views[i]->hidden.has_value(), !shielded) << "child " << ids[i];
    if (!shielded) {
      EXPECT_EQ(*views[i]->hidden, kids[i].hidden);
    }
    auto one = store_->Get(ids[i], Clearance::Ordinary());
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->record, views[i]->record);
  }

  // And after a reopen, from the files alone.
  Reopen();
  ExpectSameAsReference(kids);
}

INSTANTIATE_TEST_SUITE_P(BulkLoaderThreads, BulkLoaderThreadsTest, ::testing::Values(1, 2, 3));

// Chunks of several blocks, built partly while children are still being added, with
// chunk boundaries in the middle of calls.
TEST_F(BulkLoaderTest, ManyBlocksPerChunkLoadLikeInsertChildren) {
  CreateTwinStores();
  constexpr int kChildren = 6000;
  auto loader = Loader(/*chunk_children=*/2500, /*threads=*/3);
  for (int first = 0; first < kChildren; first += 700) {
    const int count = std::min(700, kChildren - first);
    EXPECT_EQ(Add(loader.get(), Kids(first, count)), Range(first + 1, first + count));
  }
  EXPECT_EQ(loader->stats().chunks, 2u);
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(loader->stats().children, static_cast<size_t>(kChildren));
  EXPECT_EQ(Insert(ref_.get(), Kids(0, kChildren)), Range(1, kChildren));
  ExpectSameAsReference(Kids(0, kChildren));
}

// With many postings per child a family is split into files of disjoint key ranges, one
// per thread; scans cross the split.
class ManyTermsPolicy : public TestIndexPolicy {
 public:
  void NameTerms(const ChildRecord& record, std::vector<IndexTerm>* terms) const override {
    TestIndexPolicy::NameTerms(record, terms);
    for (int i = 0; i < 40; ++i)
      terms->push_back({TermKind::kNickname, "NICK" + std::to_string(i)});
  }
};

TEST_F(BulkLoaderTest, LargeChunkSplitAcrossFilesScansLikeInsertChildren) {
  static const ManyTermsPolicy many;  // outlives the stores, which TearDown closes
  CreateTwinStoresWithPolicy(&many);
  ASSERT_NE(store_, nullptr);
  ASSERT_NE(ref_, nullptr);

  constexpr int kChildren = 3500;  // 140,000 nickname postings: more than one file's worth
  BulkLoader loader(store_.get(), BulkLoader::Options{kChildren, 2, ""});
  std::vector<NewChild> kids = Kids(0, kChildren);
  auto ids = loader.Add(kids);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  EXPECT_EQ(loader.stats().chunks, 1u);
  ASSERT_TRUE(loader.Finish().ok());
  EXPECT_EQ(CountSstFiles(db_dir_, "name_index"), 2);
  EXPECT_EQ(CountSstFiles(db_dir_, "children"), 1);
  EXPECT_EQ(Insert(ref_.get(), Kids(0, kChildren)), *ids);
  for (int i : {0, 17, 39}) {
    for (uint16_t year = 2008; year <= 2012; ++year) {
      auto loaded = ScanName(*store_, TermKind::kNickname, "NICK" + std::to_string(i), year);
      EXPECT_GT(loaded.size(), 600u);
      EXPECT_EQ(loaded, ScanName(*ref_, TermKind::kNickname, "NICK" + std::to_string(i), year));
    }
  }
  EXPECT_EQ(DumpChildren(*store_, Manager()), DumpChildren(*ref_, Manager()));
}

// Tokens longer than the 22 bytes the sort's integer heads hold of them, alike in those
// bytes and different after: the loader's sort must fall back to comparing whole keys.
class LongTermsPolicy : public TestIndexPolicy {
 public:
  void NameTerms(const ChildRecord& record, std::vector<IndexTerm>* terms) const override {
    TestIndexPolicy::NameTerms(record, terms);
    for (int i = 0; i < 30; i += 1 + record.date_of_birth.day % 3) {
      terms->push_back({TermKind::kNickname, std::string(kSharedBytes, 'Q') + std::to_string(i)});
    }
    std::sort(terms->begin(), terms->end(), [](const IndexTerm& a, const IndexTerm& b) {
      return a.kind != b.kind ? a.kind < b.kind : a.token < b.token;
    });
  }
  static constexpr size_t kSharedBytes = 40;
};

TEST_F(BulkLoaderTest, KeysAlikeBeyondTheSortHeadsLoadLikeInsertChildren) {
  static const LongTermsPolicy long_terms;  // outlives the stores, which TearDown closes
  CreateTwinStoresWithPolicy(&long_terms);
  ASSERT_NE(store_, nullptr);
  ASSERT_NE(ref_, nullptr);
  constexpr int kChildren = 600;
  BulkLoader loader(store_.get(), BulkLoader::Options{kChildren, 2, ""});
  std::vector<NewChild> kids = Kids(0, kChildren);
  auto ids = loader.Add(kids);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  ASSERT_TRUE(loader.Finish().ok());
  EXPECT_EQ(Insert(ref_.get(), Kids(0, kChildren)), *ids);
  size_t postings = 0;
  for (int i = 0; i < 30; ++i) {
    const std::string token = std::string(LongTermsPolicy::kSharedBytes, 'Q') + std::to_string(i);
    for (uint16_t year = 2008; year <= 2012; ++year) {
      auto loaded = ScanName(*store_, TermKind::kNickname, token, year);
      postings += loaded.size();
      EXPECT_EQ(loaded, ScanName(*ref_, TermKind::kNickname, token, year)) << token << " " << year;
    }
  }
  EXPECT_GT(postings, 5000u);
  EXPECT_EQ(DumpChildren(*store_, Manager()), DumpChildren(*ref_, Manager()));
}

// A policy that names a term twice gets the posting once, as a WriteBatch would store it.
class RepeatingPolicy : public TestIndexPolicy {
 public:
  void NameTerms(const ChildRecord& record, std::vector<IndexTerm>* terms) const override {
    TestIndexPolicy::NameTerms(record, terms);
    TestIndexPolicy::NameTerms(record, terms);
  }
};

TEST_F(BulkLoaderTest, ATermNamedTwiceIsPostedOnce) {
  static const RepeatingPolicy repeating;  // outlives the store, which TearDown closes
  ChildStore::Options options = StoreOptions(/*create=*/true);
  options.policy = &repeating;
  auto store = ChildStore::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(*store);
  auto loader = Loader(10);
  Add(loader.get(), Kids(0, 3));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_THAT(ScanName(*store_, TermKind::kPhonetic, "SMITH", 2008),
              ElementsAre(SeenPosting{1, 2008, 1, false, "Amelia"}));
}

// Loaded files are compressed as flushes are; CompactAll gives the bottommost level ZSTD,
// but for the name index, which stays LZ4 (cheaper to read cold). Sealed hidden fields are
// never compressed: ciphertext does not shrink.
TEST_F(BulkLoaderTest, CompactAllRecompressesLoadedFilesAndKeepsEveryChild) {
  CreateTwinStores();
  auto loader = Loader(/*chunk_children=*/10);
  Add(loader.get(), Kids(0, 35));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Insert(ref_.get(), Kids(0, 35)), Range(1, 35));
  EXPECT_THAT(Compressions(db_dir_, "name_index"), ElementsAre("LZ4"));
  EXPECT_THAT(Compressions(db_dir_, "hidden"), ElementsAre("NoCompression"));
  ASSERT_TRUE(store_->CompactAll().ok());
  EXPECT_THAT(Compressions(db_dir_, "name_index"), ElementsAre("LZ4"));
  EXPECT_THAT(Compressions(db_dir_, "children"), ElementsAre("ZSTD"));
  EXPECT_THAT(Compressions(db_dir_, "hidden"), ElementsAre("NoCompression"));
  ExpectSameAsReference(Kids(0, 35));
}

// The loader writes 16 KB data blocks (fewer blocks to compress and index, each compressed
// better); compactions write the family's own 4 KB.
TEST_F(BulkLoaderTest, LoadedFilesHaveLargerBlocksThanCompactedOnes) {
  CreateStore();
  auto loader = Loader(/*chunk_children=*/3000);
  Add(loader.get(), Kids(0, 3000));
  ASSERT_TRUE(loader->Finish().ok());
  // Raw sizes count every key whole, with its 8-byte sequence number: blocks hold them
  // prefix-compressed, so raw bytes per block run above the block size.
  const double loaded = MeanDataBlockBytes(db_dir_, "name_index");
  ASSERT_TRUE(store_->CompactAll().ok());
  const double compacted = MeanDataBlockBytes(db_dir_, "name_index");
  EXPECT_GT(loaded, 16 * 1024) << loaded;
  EXPECT_LT(compacted, 8 * 1024) << compacted;
  EXPECT_GT(loaded, 3 * compacted) << loaded << " " << compacted;
  EXPECT_EQ(Count(*store_), 3000u);
}

// AddMoving stages the same children as Add; only the caller's copies differ.
TEST_F(BulkLoaderTest, AddMovingLoadsLikeInsertChildren) {
  CreateTwinStores();
  constexpr int kChildren = 45;
  auto loader = Loader(/*chunk_children=*/10);
  for (int first = 0; first < kChildren; first += 15) {
    std::vector<NewChild> call = Kids(first, 15);
    auto ids = loader->AddMoving(call);
    ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    EXPECT_EQ(*ids, Range(first + 1, first + 15));
  }
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Insert(ref_.get(), Kids(0, kChildren)), Range(1, kChildren));
  ExpectSameAsReference(Kids(0, kChildren));
}

TEST_F(BulkLoaderTest, ARefusedAddMovingMovesNothing) {
  CreateStore();
  auto loader = Loader(100);
  EXPECT_EQ(Add(loader.get(), Kids(0, 2)), Range(1, 2));
  std::vector<NewChild> call = Kids(2, 3);
  call.push_back(Kid(1));
  const std::vector<NewChild> before = call;
  auto ids = loader->AddMoving(call);
  ASSERT_EQ(ids.status().code(), Status::Code::kAlreadyExists) << ids.status().ToString();
  for (size_t i = 0; i < call.size(); ++i) {
    EXPECT_EQ(call[i].record, before[i].record) << i;
    EXPECT_EQ(call[i].hidden, before[i].hidden) << i;
    EXPECT_EQ(call[i].source_payload, before[i].source_payload) << i;
  }
  // The refused call's children can still be added, one by one.
  for (int i = 0; i < 3; ++i) {
    auto one = loader->AddMoving(std::span<NewChild>(&call[i], 1));
    ASSERT_TRUE(one.ok()) << one.status().ToString();
  }
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 5u);
}

// ---- Compaction while loading -----------------------------------------------------------

TEST_F(BulkLoaderTest, L0CompactionTriggerIsRaisedWhileLoadingAndRestoredAfter) {
  CreateStore();
  const int normal = L0Trigger(db_dir_, "name_index");
  ASSERT_GT(normal, 0);
  {
    auto loader = Loader(/*chunk_children=*/5);
    Add(loader.get(), Kids(0, 12));
    EXPECT_GT(L0Trigger(db_dir_, "name_index"), normal);
    EXPECT_GT(L0Trigger(db_dir_, "sources"), normal);
    ASSERT_TRUE(loader->Finish().ok());
    EXPECT_EQ(L0Trigger(db_dir_, "name_index"), normal);
    EXPECT_EQ(L0Trigger(db_dir_, "sources"), normal);
    // Used again after Finish, the loader raises it again; its destructor restores it.
    Add(loader.get(), Kids(12, 3));
    EXPECT_GT(L0Trigger(db_dir_, "name_index"), normal);
  }
  EXPECT_EQ(L0Trigger(db_dir_, "name_index"), normal);
  EXPECT_EQ(Count(*store_), 12u);  // the last 3 were staged and dropped, never ingested
}

// With level_compaction_dynamic_level_bytes, RocksDB compacts L0 once its bytes reach the
// base level's, whatever the file count: at 256 MB, a 12M-child import merged every family's
// L0 into the bottommost level again and again, each time rewriting all loaded so far, and
// the CPU per child grew with the database. While loading, no L0 of any size may qualify.
TEST_F(BulkLoaderTest, L0SizeCannotStartACompactionWhileLoading) {
  CreateStore();
  const uint64_t normal = LevelBaseBytes(db_dir_, "name_index");
  ASSERT_GT(normal, 0u);
  {
    auto loader = Loader(/*chunk_children=*/5);
    Add(loader.get(), Kids(0, 12));
    for (const char* family : {"name_index", "sources", "id_index", "place_index"}) {
      EXPECT_GE(LevelBaseBytes(db_dir_, family), uint64_t{1} << 40) << family;
    }
    ASSERT_TRUE(loader->Finish().ok());
  }
  EXPECT_EQ(LevelBaseBytes(db_dir_, "name_index"), normal);
  EXPECT_EQ(LevelBaseBytes(db_dir_, "sources"), normal);
  EXPECT_EQ(Count(*store_), 12u);
}

TEST_F(BulkLoaderTest, TheLastOfTwoLoadersRestoresTheL0Trigger) {
  CreateStore();
  const int normal = L0Trigger(db_dir_, "name_index");
  auto first = Loader(/*chunk_children=*/5);
  auto second = Loader(/*chunk_children=*/5);
  Add(first.get(), Kids(0, 6));
  Add(second.get(), Kids(6, 6));
  ASSERT_TRUE(first->Finish().ok());
  EXPECT_GT(L0Trigger(db_dir_, "name_index"), normal) << "the second loader still runs";
  ASSERT_TRUE(second->Finish().ok());
  EXPECT_EQ(L0Trigger(db_dir_, "name_index"), normal);
  EXPECT_EQ(Count(*store_), 12u);
}

// ---- Visibility -------------------------------------------------------------------------

TEST_F(BulkLoaderTest, NothingIsVisibleBeforeItsChunkIsIngested) {
  CreateStore();
  auto loader = Loader(/*chunk_children=*/7);
  EXPECT_EQ(Add(loader.get(), Kids(0, 10)), Range(1, 10));
  // The first 7 are ingested; the last 3 wait for Finish.
  EXPECT_EQ(Count(*store_), 7u);
  EXPECT_TRUE(store_->Get(7, Manager()).ok());
  for (ChildId id : {8, 9, 10}) {
    EXPECT_TRUE(store_->Get(id, Manager()).status().IsNotFound()) << id;
  }
  EXPECT_TRUE(store_->FindSource("test", "kid-8").status().IsNotFound());
  EXPECT_TRUE(store_->FindSource("test", "kid-6").ok());
  // Kid 8 is Leo Smith, born 2011-09-09.
  EXPECT_THAT(ScanName(*store_, TermKind::kPhonetic, "SMITH", 2011), IsEmpty());

  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 10u);
  EXPECT_THAT(ScanName(*store_, TermKind::kPhonetic, "SMITH", 2011),
              ElementsAre(SeenPosting{9, 2011, 9, false, "Leo"}));
  auto link = store_->FindSource("test", "kid-8");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, 9u);
}

TEST_F(BulkLoaderTest, FinishWithNothingStagedIsOk) {
  CreateStore();
  auto loader = Loader(7);
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(loader->stats().chunks, 0u);
  EXPECT_FALSE(std::filesystem::exists(TempDir()));
  auto none = loader->Add({});
  ASSERT_TRUE(none.ok());
  EXPECT_THAT(*none, IsEmpty());
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 0u);
}

TEST_F(BulkLoaderTest, DestructorWithoutFinishLeavesNothingAndGivesBackTheIds) {
  CreateStore();
  {
    auto loader = Loader(/*chunk_children=*/100);
    EXPECT_EQ(Add(loader.get(), Kids(0, 5)), Range(1, 5));
  }
  EXPECT_EQ(Count(*store_), 0u);
  EXPECT_TRUE(store_->FindSource("test", "kid-0").status().IsNotFound());
  EXPECT_FALSE(std::filesystem::exists(TempDir()));
  EXPECT_EQ(Insert(store_.get(), Kids(0, 1)), Range(1, 1));
  Reopen();
  EXPECT_EQ(Count(*store_), 1u);
}

TEST_F(BulkLoaderTest, DestructorKeepsIngestedChunksAndDropsOnlyTheStage) {
  CreateStore();
  {
    auto loader = Loader(/*chunk_children=*/4);
    EXPECT_EQ(Add(loader.get(), Kids(0, 6)), Range(1, 6));
  }
  EXPECT_EQ(Count(*store_), 4u);
  EXPECT_FALSE(std::filesystem::exists(TempDir()));
  EXPECT_EQ(Insert(store_.get(), Kids(4, 1)), Range(5, 5));
  Reopen();
  EXPECT_EQ(Count(*store_), 5u);
  EXPECT_EQ(Insert(store_.get(), Kids(5, 1)), Range(6, 6));
}

// ---- Temporary files --------------------------------------------------------------------

TEST_F(BulkLoaderTest, TempDirHoldsNoFilesBetweenChunksAndIsRemovedByFinish) {
  CreateStore();
  auto loader = Loader(/*chunk_children=*/3);
  Add(loader.get(), Kids(0, 4));
  EXPECT_EQ(loader->stats().chunks, 1u);
  EXPECT_EQ(CountFiles(TempDir()), 0);
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_FALSE(std::filesystem::exists(TempDir()));
  // Nothing left beside the database either: only the database, its key and the reference.
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir_)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  EXPECT_THAT(names, ElementsAre("db", "master.key"));
}

TEST_F(BulkLoaderTest, AnExistingTempDirIsKeptButLeftEmpty) {
  CreateStore();
  const std::string temp = dir_ + "/scratch";
  std::filesystem::create_directories(temp);
  {
    BulkLoader loader(store_.get(), BulkLoader::Options{3, 2, temp});
    Add(&loader, Kids(0, 8));
    ASSERT_TRUE(loader.Finish().ok());
  }
  EXPECT_TRUE(std::filesystem::is_directory(temp));
  EXPECT_TRUE(std::filesystem::is_empty(temp));
  EXPECT_EQ(Count(*store_), 8u);
}

TEST_F(BulkLoaderTest, AFailedChunkShowsNothingEndsTheLoadAndGivesBackItsIds) {
  CreateStore();
  // A temporary directory that cannot be created: under a regular file.
  const std::string blocker = dir_ + "/blocker";
  std::ofstream(blocker) << "x";
  BulkLoader loader(store_.get(), BulkLoader::Options{4, 2, blocker + "/bulk"});
  std::vector<NewChild> kids = Kids(0, 6);
  auto ids = loader.Add(kids);
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), Status::Code::kIOError) << ids.status().ToString();
  EXPECT_EQ(Count(*store_), 0u);
  EXPECT_EQ(loader.stats().children, 0u);
  // The load is over: later calls return the same error.
  std::vector<NewChild> more = Kids(10, 1);
  EXPECT_EQ(loader.Add(more).status().code(), Status::Code::kIOError);
  EXPECT_EQ(loader.Finish().code(), Status::Code::kIOError);
  EXPECT_EQ(Insert(store_.get(), Kids(0, 1)), Range(1, 1));
}

// ---- Duplicates -------------------------------------------------------------------------

TEST_F(BulkLoaderTest, ADuplicateWithinOneCallStagesNothingFromTheCall) {
  CreateStore();
  auto loader = Loader(100);
  EXPECT_EQ(Add(loader.get(), Kids(0, 2)), Range(1, 2));
  std::vector<NewChild> call = Kids(2, 3);
  call.push_back(Kid(3));
  auto ids = loader->Add(call);
  ASSERT_EQ(ids.status().code(), Status::Code::kAlreadyExists) << ids.status().ToString();
  EXPECT_THAT(ids.status().message(), HasSubstr("kid-3"));
  EXPECT_EQ(call[0].record.id, 0u) << "a refused call's records are left as they were";
  EXPECT_EQ(Add(loader.get(), Kids(2, 2)), Range(3, 4));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 4u);
}

TEST_F(BulkLoaderTest, AKeyAddedEarlierIsRefusedWhetherStagedOrIngested) {
  CreateStore();
  auto loader = Loader(/*chunk_children=*/3);
  EXPECT_EQ(Add(loader.get(), Kids(0, 4)), Range(1, 4));  // 0..2 ingested, 3 staged
  for (int n : {1, 3}) {
    std::vector<NewChild> call = Kids(10, 2);
    call.push_back(Kid(n));
    auto ids = loader->Add(call);
    ASSERT_EQ(ids.status().code(), Status::Code::kAlreadyExists) << n;
    EXPECT_THAT(ids.status().message(), HasSubstr("earlier"));
  }
  EXPECT_EQ(Add(loader.get(), Kids(10, 2)), Range(5, 6));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 6u);
  // The same key from another source is another record.
  NewChild other = Kid(1);
  other.source.source = "school_census";
  EXPECT_EQ(Add(loader.get(), {other}), Range(7, 7));
}

// The loader remembers fingerprints of keys, not keys: a fingerprint it has seen is checked
// against the stage and the store before a row is refused. Here every key has the same one.
TEST_F(BulkLoaderTest, KeysSharingAFingerprintAreLoadedAndRepeatsStillRefused) {
  CreateTwinStores();
  auto loader = Loader(/*chunk_children=*/3, /*threads=*/2, [](std::string_view) -> uint64_t { return 42; });
  EXPECT_EQ(Add(loader.get(), Kids(0, 2)), Range(1, 2));  // two keys, one fingerprint, one call
  EXPECT_EQ(Add(loader.get(), Kids(2, 2)), Range(3, 4));  // 0..2 ingested, 3 staged
  EXPECT_EQ(Add(loader.get(), Kids(4, 1)), Range(5, 5));
  for (int n : {1, 3, 4}) {  // ingested; staged; staged
    std::vector<NewChild> call = Kids(10, 1);
    call.push_back(Kid(n));
    auto ids = loader->Add(call);
    ASSERT_EQ(ids.status().code(), Status::Code::kAlreadyExists) << n;
    EXPECT_THAT(ids.status().message(), HasSubstr("kid-" + std::to_string(n)));
    EXPECT_THAT(ids.status().message(), HasSubstr("earlier"));
  }
  std::vector<NewChild> twice = {Kid(20), Kid(21), Kid(20)};  // not side by side once sorted
  auto ids = loader->Add(twice);
  EXPECT_EQ(ids.status().code(), Status::Code::kAlreadyExists);
  EXPECT_THAT(ids.status().message(), HasSubstr("kid-20' appears twice"));
  EXPECT_EQ(Add(loader.get(), Kids(10, 3)), Range(6, 8));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Insert(ref_.get(), Kids(0, 5)), Range(1, 5));
  EXPECT_EQ(Insert(ref_.get(), Kids(10, 3)), Range(6, 8));
  std::vector<NewChild> all = Kids(0, 5);
  for (auto& c : Kids(10, 3)) all.push_back(c);
  ExpectSameAsReference(all);
}

TEST_F(BulkLoaderTest, AKeyInsertedBeforeTheLoadIsRefused) {
  CreateStore();
  EXPECT_EQ(Insert(store_.get(), Kids(0, 2)), Range(1, 2));
  auto loader = Loader(100);
  std::vector<NewChild> call = Kids(5, 2);
  call.push_back(Kid(1));
  auto ids = loader->Add(call);
  ASSERT_EQ(ids.status().code(), Status::Code::kAlreadyExists);
  EXPECT_THAT(ids.status().message(), HasSubstr("already linked to child 2"));
  EXPECT_EQ(Add(loader.get(), Kids(5, 2)), Range(3, 4));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 4u);
}

TEST_F(BulkLoaderTest, ABadSourceNameIsRefused) {
  CreateStore();
  auto loader = Loader(100);
  std::vector<NewChild> call = Kids(0, 2);
  call[1].source.source = "";
  EXPECT_EQ(loader->Add(call).status().code(), Status::Code::kInvalidArgument);
  call[1].source.source = std::string(256, 's');
  EXPECT_EQ(loader->Add(call).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(Add(loader.get(), Kids(0, 1)), Range(1, 1));
}

// A key InsertChildren links while the loader holds it staged fails that chunk at ingest.
TEST_F(BulkLoaderTest, AKeyLinkedByAnotherWriterWhileStagedFailsItsChunk) {
  CreateStore();
  auto loader = Loader(100);
  EXPECT_EQ(Add(loader.get(), Kids(0, 3)), Range(1, 3));
  EXPECT_EQ(Insert(store_.get(), Kids(1, 1)), Range(4, 4));
  Status s = loader->Finish();
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("kid-1"));
  EXPECT_EQ(Count(*store_), 1u);
  auto link = store_->FindSource("test", "kid-1");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, 4u);
  EXPECT_EQ(loader->Finish().code(), Status::Code::kFailedPrecondition);
  std::vector<NewChild> more = Kids(10, 1);
  EXPECT_EQ(loader->Add(more).status().code(), Status::Code::kFailedPrecondition);
  EXPECT_FALSE(std::filesystem::exists(TempDir()));
}

// Links written after the loader started are seen by the next Add.
TEST_F(BulkLoaderTest, AKeyInsertedDuringTheLoadIsRefused) {
  CreateStore();
  auto loader = Loader(100);
  EXPECT_EQ(Insert(store_.get(), Kids(5, 1)), Range(1, 1));
  std::vector<NewChild> call = Kids(5, 1);
  auto ids = loader->Add(call);
  ASSERT_EQ(ids.status().code(), Status::Code::kAlreadyExists);
  EXPECT_THAT(ids.status().message(), HasSubstr("already linked to child 1"));
  EXPECT_EQ(Add(loader.get(), Kids(6, 1)), Range(2, 2));
  ASSERT_TRUE(loader->Finish().ok());
  EXPECT_EQ(Count(*store_), 2u);
}

// Two loaders on one store do not know each other's keys; the store does.
TEST_F(BulkLoaderTest, TwoLoadersCannotLinkOneKeyTwice) {
  CreateStore();
  auto first = Loader(100);
  auto second = Loader(100);
  EXPECT_EQ(Add(first.get(), Kids(0, 2)), Range(1, 2));
  EXPECT_EQ(Add(second.get(), Kids(1, 2)), Range(3, 4));  // kid-1 is staged in both
  ASSERT_TRUE(second->Finish().ok());
  Status s = first->Finish();
  EXPECT_EQ(s.code(), Status::Code::kFailedPrecondition) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("kid-1"));
  EXPECT_EQ(Count(*store_), 2u);
  auto link = store_->FindSource("test", "kid-1");
  ASSERT_TRUE(link.ok());
  EXPECT_EQ(link->child, 3u);

  // A key another loader has ingested is refused at once.
  auto third = Loader(100);
  std::vector<NewChild> call = Kids(2, 1);
  EXPECT_EQ(third->Add(call).status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(Add(third.get(), Kids(7, 1)), Range(5, 5));
  ASSERT_TRUE(third->Finish().ok());
  EXPECT_FALSE(std::filesystem::exists(TempDir()));
}

// ---- Ids --------------------------------------------------------------------------------

TEST_F(BulkLoaderTest, IdsContinueAcrossReopenAndMixWithInsertChildren) {
  CreateStore();
  {
    auto loader = Loader(/*chunk_children=*/4);
    EXPECT_EQ(Add(loader.get(), Kids(0, 10)), Range(1, 10));
    ASSERT_TRUE(loader->Finish().ok());
  }
  EXPECT_EQ(Insert(store_.get(), Kids(10, 3)), Range(11, 13));
  Reopen();
  EXPECT_EQ(Insert(store_.get(), Kids(13, 1)), Range(14, 14));
  {
    auto loader = Loader(/*chunk_children=*/100);
    EXPECT_EQ(Add(loader.get(), Kids(14, 5)), Range(15, 19));
    // InsertChildren while the loader holds ids 15..19 staged takes the next ones.
    EXPECT_EQ(Insert(store_.get(), Kids(19, 2)), Range(20, 21));
    EXPECT_EQ(Add(loader.get(), Kids(21, 2)), Range(22, 23));
    ASSERT_TRUE(loader->Finish().ok());
  }
  Reopen();  // the counter came back from disk
  EXPECT_EQ(Insert(store_.get(), Kids(23, 1)), Range(24, 24));
  EXPECT_EQ(Count(*store_), 24u);
  std::vector<ChildId> seen;
  ASSERT_TRUE(store_
                  ->ForEachChild(Manager(),
                                 [&](const ChildView& v) {
                                   seen.push_back(v.record.id);
                                   EXPECT_EQ(v.record.sources.size(), 1u);
                                   return true;
                                 })
                  .ok());
  EXPECT_EQ(seen, Range(1, 24));
  for (int n = 0; n < 24; ++n) {
    auto link = store_->FindSource("test", "kid-" + std::to_string(n));
    ASSERT_TRUE(link.ok()) << n;
    EXPECT_EQ(link->child, static_cast<ChildId>(n + 1));
  }
}

// Ids handed out by someone else between the loader's own are never given back.
TEST_F(BulkLoaderTest, OnlyTheLoadersOwnLastIdsAreGivenBack) {
  CreateStore();
  {
    auto loader = Loader(100);
    EXPECT_EQ(Add(loader.get(), Kids(0, 3)), Range(1, 3));
    EXPECT_EQ(Insert(store_.get(), Kids(3, 1)), Range(4, 4));
    EXPECT_EQ(Add(loader.get(), Kids(4, 2)), Range(5, 6));
  }
  // 5 and 6 come back; 1 to 3 stay unused, below someone else's 4.
  EXPECT_EQ(Insert(store_.get(), Kids(10, 2)), Range(5, 6));
  {
    auto loader = Loader(/*chunk_children=*/2);
    EXPECT_EQ(Add(loader.get(), Kids(20, 3)), Range(7, 9));  // 7 and 8 ingested
  }
  EXPECT_EQ(Insert(store_.get(), Kids(30, 1)), Range(9, 9));
  Reopen();
  EXPECT_EQ(Insert(store_.get(), Kids(31, 1)), Range(10, 10));
  std::vector<ChildId> seen;
  ASSERT_TRUE(store_
                  ->ForEachChild(Manager(),
                                 [&](const ChildView& v) {
                                   seen.push_back(v.record.id);
                                   return true;
                                 })
                  .ok());
  EXPECT_THAT(seen, ElementsAre(4, 5, 6, 7, 8, 9, 10));
}

// ---- Shielding --------------------------------------------------------------------------

TEST_F(BulkLoaderTest, AShieldedChildGetsNoPlacePosting) {
  CreateStore();
  NewChild shielded = MakeChild("Sally", "Hidden", Date{2014, 5, 6}, "shielded");
  shielded.hidden = MakeHidden("1 Secret Lane", "LS1 4AP");
  shielded.record.shield = ShieldState{true, "Leeds City Council", "risk", 1700000000};
  NewChild neighbour = MakeChild("Nora", "Hidden", Date{2014, 5, 7}, "neighbour");
  neighbour.hidden = MakeHidden("2 Secret Lane", "LS1 4AP");
  auto loader = Loader(100);
  EXPECT_EQ(Add(loader.get(), {shielded, neighbour}), Range(1, 2));
  ASSERT_TRUE(loader->Finish().ok());

  EXPECT_THAT(ScanPlaceIds(*store_, "LS1 4AP"), ElementsAre(2));
  EXPECT_THAT(
      ScanName(*store_, TermKind::kPhonetic, "HIDDEN", 2014),
      ElementsAre(SeenPosting{1, 2014, 5, true, "Sally"}, SeenPosting{2, 2014, 5, false, "Nora"}));
  auto ordinary = store_->Get(1, Clearance::Ordinary());
  ASSERT_TRUE(ordinary.ok());
  EXPECT_EQ(ordinary->hidden, std::nullopt);
  EXPECT_THAT(ordinary->record.sources, IsEmpty());
  auto manager = store_->Get(1, Manager());
  ASSERT_TRUE(manager.ok());
  ASSERT_TRUE(manager->hidden.has_value());
  EXPECT_EQ(manager->hidden->address, "1 Secret Lane");
}

// Several children shielded in one call: each its own change, one purge at the end, and
// that purge runs even when a later child fails, so no shielded child's place key stays on
// disk.
TEST_F(BulkLoaderTest, SetShieldsStopsAtTheFirstFailureAndStillLeavesNoPlaceKeyOnDisk) {
  ASSERT_NO_FATAL_FAILURE(LoadTwelveUnshieldedAt("ZZ9 9ZZ"));

  const std::vector<ChildId> ids{2, 5, 99, 7};
  size_t done = 9;
  Status s = store_->SetShields(ids, true, "Leeds City Council", "risk", &done);
  EXPECT_TRUE(s.IsNotFound()) << s.ToString();
  EXPECT_EQ(done, 2u);
  std::vector<ChildId> expected = Range(1, 12);
  std::erase(expected, ChildId{2});
  std::erase(expected, ChildId{5});
  EXPECT_EQ(ScanPlaceIds(*store_, "ZZ9 9ZZ"), expected) << "7, after the failure, is untouched";
  EXPECT_TRUE(store_->Get(5, Clearance::Ordinary())->record.shield.shielded);
  EXPECT_FALSE(store_->Get(7, Clearance::Ordinary())->record.shield.shielded);

  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  const std::string hash = (*crypto)->PlaceHash("ZZ9 9ZZ");
  const std::vector<std::string> shielded_keys{keys::PlaceKey(hash, 2), keys::PlaceKey(hash, 5)};
  const std::string control_key = keys::PlaceKey(hash, 7);
  LoaderDiskScan scan = ScanLoaderDirectory(db_dir_, {shielded_keys[0], shielded_keys[1], control_key});
  for (const auto& key : shielded_keys) {
    EXPECT_EQ(scan.raw.count(key) + scan.decoded.count(key), 0u) << "a shielded child's place key is still on disk";
  }
  EXPECT_EQ(scan.decoded.count(control_key), 1u) << "the scan does not see place keys";

  ASSERT_TRUE(store_->SetShields(std::vector<ChildId>{2, 5}, false, "Leeds City Council", "lifted", &done).ok());
  EXPECT_EQ(done, 2u);
  EXPECT_EQ(ScanPlaceIds(*store_, "ZZ9 9ZZ"), Range(1, 12));
}

TEST_F(BulkLoaderTest, SetShieldWorksOnBulkLoadedChildrenAndLeavesNoPlaceKeyOnDisk) {
  ASSERT_NO_FATAL_FAILURE(LoadTwelveUnshieldedAt("ZZ9 9ZZ"));
  EXPECT_EQ(ScanPlaceIds(*store_, "ZZ9 9ZZ"), Range(1, 12));

  ASSERT_TRUE(store_->SetShield(3, true, "Leeds City Council", "risk").ok());
  std::vector<ChildId> expected = Range(1, 12);
  expected.erase(expected.begin() + 2);
  EXPECT_EQ(ScanPlaceIds(*store_, "ZZ9 9ZZ"), expected);
  auto ordinary = store_->Get(3, Clearance::Ordinary());
  ASSERT_TRUE(ordinary.ok());
  EXPECT_TRUE(ordinary->record.shield.shielded);
  EXPECT_EQ(ordinary->hidden, std::nullopt);
  for (const auto& p : ScanName(*store_, TermKind::kPhonetic, "TAYLOR", 2010)) {
    EXPECT_EQ(p.shielded, p.id == 3) << p;
  }

  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  const std::string hash = (*crypto)->PlaceHash("ZZ9 9ZZ");
  const std::string shielded_key = keys::PlaceKey(hash, 3);
  const std::string control_key = keys::PlaceKey(hash, 4);
  LoaderDiskScan scan = ScanLoaderDirectory(db_dir_, {shielded_key, control_key});
  EXPECT_EQ(scan.raw.count(shielded_key) + scan.decoded.count(shielded_key), 0u)
      << "the shielded child's place key is still on disk";
  EXPECT_EQ(scan.decoded.count(control_key), 1u) << "the scan does not see place keys";

  ASSERT_TRUE(store_->SetShield(3, false, "Leeds City Council", "lifted").ok());
  EXPECT_EQ(ScanPlaceIds(*store_, "ZZ9 9ZZ"), Range(1, 12));
}

// No hidden field reaches the disk in clear; the given name, stored in clear by design, is
// found, which shows that the scan reads the files.
TEST_F(BulkLoaderTest, HiddenFieldsAreNotOnDiskInClear) {
  constexpr char kAddress[] = "MARKER-5e1b Bulk Avenue, Leeds";
  constexpr char kAddressMarker[] = "MARKER-5e1b";
  constexpr char kPostcode[] = "ZZ9 9ZZ";
  constexpr char kPostcodeNoSpace[] = "ZZ99ZZ";
  constexpr char kParentMarker[] = "PARENTMARK-77f0";
  constexpr char kSchoolMarker[] = "SCHOOLMARK-0a2c";
  constexpr char kPayloadMarker[] = "PAYLOADMARK-9d31";
  constexpr char kControl[] = "Ctrlbulkq";
  const std::vector<std::string> secrets = {kAddress,         kAddressMarker, kPostcode,
                                            kPostcodeNoSpace, kParentMarker,  kSchoolMarker,
                                            kPayloadMarker};
  CreateStore();
  std::vector<NewChild> kids = Kids(0, 20);
  for (bool shielded : {false, true}) {
    NewChild marker =
        MakeChild(kControl, "Hartley", Date{2016, 4, 12}, shielded ? "marker-shielded" : "marker");
    marker.hidden.address = kAddress;
    marker.hidden.postcode = kPostcode;
    marker.hidden.parent_name = std::string(kParentMarker) + " Hartley";
    marker.hidden.services.push_back({ServiceKind::kSchool, kSchoolMarker, "0113 496 0000"});
    marker.source_payload = std::string("births,") + kPayloadMarker + "," + kAddress + "," +
                            kPostcode + "," + kParentMarker;
    if (shielded) marker.record.shield = ShieldState{true, "Leeds", "risk", 1700000000};
    kids.insert(kids.begin() + 7, std::move(marker));
  }
  auto loader = Loader(/*chunk_children=*/6);
  Add(loader.get(), kids);
  ASSERT_TRUE(loader->Finish().ok());

  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    std::vector<std::string> needles = secrets;
    needles.push_back(kControl);
    LoaderDiskScan scan = ScanLoaderDirectory(db_dir_, needles);
    EXPECT_GT(scan.sst_files, 0);
    for (const auto& secret : secrets) {
      EXPECT_EQ(scan.raw.count(secret), 0u) << "'" << secret << "' is in clear in a file";
      EXPECT_EQ(scan.decoded.count(secret), 0u) << "'" << secret << "' is in clear in an SST";
    }
    EXPECT_EQ(scan.decoded.count(kControl), 1u) << "the scan does not see SST contents";
  };
  check("after Finish");
  store_.reset();
  check("closed");
  OpenStore();
  check("reopened");
  auto manager = store_->Get(9, Manager());  // the unshielded marker, after the shielded one
  ASSERT_TRUE(manager.ok());
  EXPECT_EQ(manager->record.given_name, kControl);
  ASSERT_TRUE(manager->hidden.has_value());
  EXPECT_EQ(manager->hidden->address, kAddress);
  EXPECT_THAT(ScanPlaceIds(*store_, kPostcode), ElementsAre(9));
}

}  // namespace
}  // namespace cp
