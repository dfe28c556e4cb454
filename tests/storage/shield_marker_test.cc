// The marker test: a shielded child's hidden fields never reach the disk in clear.
//
// A child is inserted with unique marker strings in every hidden field (address, postcode,
// parent name and phone, school and its contact point) and in its raw source payload,
// then shielded. Every file under the database directory (SST files, write-ahead logs,
// MANIFEST, OPTIONS, LOG and LOG.old.*) is then read as raw bytes, and every SST file is
// also read through RocksDB's SstFileReader, which sees through block compression. No
// marker may appear in either.
//
// A scan that cannot see anything would pass too, so each check also looks for a CONTROL
// marker: the child's given name, which is stored in clear by design (records and name
// postings). The control must be found, which proves the scan reads the files.

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "storage/child_store.h"
#include "storage/crypto.h"
#include "storage/keys.h"
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"

namespace cp {
namespace {

using testing_util::MakeChild;
using testing_util::MakeHidden;

constexpr char kAddressMarker[] = "MARKER-7f3a9";
constexpr char kAddress[] = "MARKER-7f3a9 Acacia Avenue, Leeds";
constexpr char kPostcode[] = "ZZ9 9ZZ";  // canonical UK shape (AA9 9AA)
constexpr char kPostcodeNoSpace[] = "ZZ99ZZ";
constexpr char kParentMarker[] = "PARENTMARK-c41d";
constexpr char kPhoneMarker[] = "07700 900417";
constexpr char kSchoolMarker[] = "SCHOOLMARK-b83e";
constexpr char kContactMarker[] = "CONTACTMARK-19aa";
constexpr char kPayloadMarker[] = "PAYLOADMARK-d02c";
// Stored in clear by design: the child's given name.
constexpr char kControlMarker[] = "Ctrlmarkq";

const std::vector<std::string>& Secrets() {
  static const auto* secrets = new std::vector<std::string>{
      kAddressMarker, kAddress,      kPostcode,      kPostcodeNoSpace, kParentMarker,
      kPhoneMarker,   kSchoolMarker, kContactMarker, kPayloadMarker};
  return *secrets;
}

// Where each needle was found: "<file>" for raw bytes, "<file> (decoded)" for SST contents.
using Hits = std::map<std::string, std::vector<std::string>>;

struct DiskScan {
  Hits raw;      // raw file bytes
  Hits decoded;  // SST keys and values, decompressed by RocksDB
  int files = 0;
  int sst_files = 0;
  int wal_files = 0;
  uint64_t bytes = 0;

  bool Found(const std::string& needle) const {
    return raw.count(needle) != 0 || decoded.count(needle) != 0;
  }
};

bool Contains(std::string_view haystack, const std::string& needle) {
  return haystack.find(needle) != std::string_view::npos;
}

void ScanSstContents(const std::string& path, const std::vector<std::string>& needles,
                     DiskScan* scan) {
  rocksdb::Options options = testing_util::SstReaderOptions(path);
  rocksdb::SstFileReader reader(options);
  auto s = reader.Open(path);
  if (!s.ok()) {
    // A background compaction may have deleted it since the listing; that file can no
    // longer leak anything. A file that is there and does not open is a test failure.
    if (std::filesystem::exists(path))
      ADD_FAILURE() << "cannot read " << path << ": " << s.ToString();
    return;
  }
  std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    for (const auto& needle : needles) {
      if (Contains(key, needle) || Contains(value, needle)) {
        auto& where = scan->decoded[needle];
        if (where.empty() || where.back() != path) where.push_back(path);
      }
    }
  }
  EXPECT_TRUE(it->status().ok()) << path << ": " << it->status().ToString();
}

DiskScan ScanDirectory(const std::string& dir, const std::vector<std::string>& needles) {
  DiskScan scan;
  std::error_code ec;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file()) continue;
    const std::string path = entry.path().string();
    if (!std::filesystem::exists(path)) continue;  // deleted since the listing
    const std::string bytes = testing_util::ReadFileBytes(path);
    ++scan.files;
    scan.bytes += bytes.size();
    for (const auto& needle : needles) {
      if (Contains(bytes, needle)) scan.raw[needle].push_back(path);
    }
    if (entry.path().extension() == ".sst") {
      ++scan.sst_files;
      ScanSstContents(path, needles, &scan);
    }
    if (entry.path().extension() == ".log") ++scan.wal_files;
  }
  EXPECT_FALSE(ec) << "listing " << dir << ": " << ec.message();
  return scan;
}

std::string Describe(const std::vector<std::string>& files) {
  std::string out;
  for (const auto& f : files) out += "\n    " + f;
  return out;
}

class ShieldMarkerTest : public testing_util::TempDirTest {
 protected:
  static NewChild MarkerChild() {
    NewChild c = MakeChild(kControlMarker, "Hartley", Date{2016, 4, 12}, "marker-child");
    c.hidden.address = kAddress;
    c.hidden.postcode = kPostcode;
    c.hidden.parent_name = std::string(kParentMarker) + " Hartley";
    c.hidden.parent_phone = kPhoneMarker;
    c.hidden.services.push_back(
        {ServiceKind::kSchool, std::string(kSchoolMarker) + " Primary School", kContactMarker});
    c.hidden.services.push_back({ServiceKind::kGpPractice, "Park Surgery", ""});
    // The source's raw record holds the same hidden fields; it is stored sealed too.
    c.source_payload = std::string("births,") + kPayloadMarker + "," + kAddress + "," + kPostcode +
                       "," + kParentMarker;
    return c;
  }

  static NewChild Filler(int n) {
    static const char* const kPostcodes[] = {"LS1 4AP", "YO1 7HH", "M1 1AE", "SW1A 1AA"};
    NewChild c = MakeChild("Filler" + std::to_string(n), "Family" + std::to_string(n % 97),
                           Date{static_cast<int16_t>(2008 + n % 10),
                                static_cast<uint8_t>(1 + n % 12), static_cast<uint8_t>(1 + n % 28)},
                           "filler-" + std::to_string(n));
    c.hidden = MakeHidden(std::to_string(n) + " Filler Street", kPostcodes[n % 4]);
    return c;
  }

  void InsertFillers(int first, int count) {
    constexpr int kBatch = 500;
    for (int start = first; start < first + count; start += kBatch) {
      std::vector<NewChild> batch;
      for (int n = start; n < std::min(first + count, start + kBatch); ++n) {
        batch.push_back(Filler(n));
      }
      auto ids = store_->InsertChildren(batch);
      ASSERT_TRUE(ids.ok()) << ids.status().ToString();
    }
  }

  ChildId InsertMarkerChild() {
    std::vector<NewChild> batch;
    batch.push_back(MarkerChild());
    auto ids = store_->InsertChildren(batch);
    EXPECT_TRUE(ids.ok()) << ids.status().ToString();
    return ids.ok() ? (*ids)[0] : 0;
  }

  // No secret anywhere on disk; the control is found (in raw bytes when `control_in_raw`,
  // else at least in the decoded SST contents).
  void ExpectNoSecretsOnDisk(const std::string& when, bool control_in_raw) {
    SCOPED_TRACE(when);
    std::vector<std::string> needles = Secrets();
    needles.push_back(kControlMarker);
    DiskScan scan = ScanDirectory(db_dir_, needles);
    ASSERT_GT(scan.files, 0);
    for (const auto& secret : Secrets()) {
      auto raw = scan.raw.find(secret);
      EXPECT_TRUE(raw == scan.raw.end())
          << "'" << secret << "' is in clear in" << Describe(raw->second);
      auto decoded = scan.decoded.find(secret);
      EXPECT_TRUE(decoded == scan.decoded.end())
          << "'" << secret << "' is in clear in the contents of" << Describe(decoded->second);
    }
    if (control_in_raw) {
      EXPECT_TRUE(scan.raw.count(kControlMarker))
          << "the control marker was not found in the raw bytes of " << scan.files
          << " files: the scan proves nothing";
    }
    EXPECT_TRUE(scan.Found(kControlMarker))
        << "the control marker was not found in " << scan.files << " files (" << scan.sst_files
        << " SST): the scan proves nothing";
    if (scan.sst_files > 0) {
      EXPECT_TRUE(scan.decoded.count(kControlMarker))
          << "the control marker is in none of " << scan.sst_files << " SST files' contents";
    }
  }

  void ExpectMarkerChildReadable(ChildId id) {
    auto ordinary = store_->Get(id, Clearance::Ordinary());
    ASSERT_TRUE(ordinary.ok()) << ordinary.status().ToString();
    EXPECT_TRUE(ordinary->record.shield.shielded);
    EXPECT_EQ(ordinary->record.given_name, kControlMarker);
    EXPECT_EQ(ordinary->hidden, std::nullopt);

    auto elevated = store_->Get(
        id, Clearance::Elevated(Clearance::Level::kShieldingManager, "Leeds", "marker test"));
    ASSERT_TRUE(elevated.ok()) << elevated.status().ToString();
    ASSERT_TRUE(elevated->hidden.has_value());
    EXPECT_EQ(*elevated->hidden, MarkerChild().hidden);
    EXPECT_EQ(elevated->hidden->address, kAddress);
    EXPECT_EQ(elevated->hidden->postcode, kPostcode);

    bool complete = false;
    std::vector<ChildId> at_postcode;
    ASSERT_TRUE(
        store_
            ->ScanPlace(
                kPostcode, 100, [&](const Posting& p) { at_postcode.push_back(p.id); }, &complete)
            .ok());
    EXPECT_THAT(at_postcode, ::testing::IsEmpty());
  }

  Status ShieldMarkerChild(ChildId id) {
    return store_->SetShield(id, true, "Leeds City Council", "marker test");
  }
};

// The contract seals hidden fields for every child, shielded or not.
TEST_F(ShieldMarkerTest, UnshieldedChildsHiddenFieldsAreNotOnDiskInClear) {
  CreateStore();
  InsertFillers(0, 3);
  InsertMarkerChild();
  InsertFillers(3, 3);
  ExpectNoSecretsOnDisk("open, nothing flushed", /*control_in_raw=*/true);
  store_.reset();
  ExpectNoSecretsOnDisk("closed", /*control_in_raw=*/true);
  OpenStore();
  ExpectNoSecretsOnDisk("reopened", /*control_in_raw=*/true);
}

TEST_F(ShieldMarkerTest, ShieldedChildsHiddenFieldsAreNotOnDiskInClear) {
  CreateStore();
  InsertFillers(0, 3);
  const ChildId id = InsertMarkerChild();
  InsertFillers(3, 3);
  ASSERT_TRUE(ShieldMarkerChild(id).ok());
  ExpectNoSecretsOnDisk("open, after the shield", /*control_in_raw=*/true);
  ExpectMarkerChildReadable(id);

  store_.reset();
  ExpectNoSecretsOnDisk("closed", /*control_in_raw=*/true);
  OpenStore();
  ExpectNoSecretsOnDisk("reopened", /*control_in_raw=*/true);
  ExpectMarkerChildReadable(id);
}

// With thousands of children before and after, data is flushed and compacted into SST
// files (the bottommost level is ZSTD-compressed, so the decoded SST scan matters there).
TEST_F(ShieldMarkerTest, ShieldedChildsHiddenFieldsAreNotOnDiskAfterBulkInsertAndCompaction) {
  CreateStore();
  InsertFillers(0, 2500);
  const ChildId id = InsertMarkerChild();
  InsertFillers(2500, 2500);
  // The child was unshielded long enough to reach SST files with a place posting.
  ASSERT_TRUE(store_->CompactAll().ok());
  ASSERT_TRUE(ShieldMarkerChild(id).ok());
  InsertFillers(5000, 500);
  // The rewritten name postings (features: the given name) are still in the WAL.
  ExpectNoSecretsOnDisk("open, after the shield", /*control_in_raw=*/true);
  ExpectMarkerChildReadable(id);

  ASSERT_TRUE(store_->CompactAll().ok());
  ExpectNoSecretsOnDisk("open, after CompactAll", /*control_in_raw=*/false);

  store_.reset();
  ExpectNoSecretsOnDisk("closed", /*control_in_raw=*/false);
  OpenStore();
  ExpectNoSecretsOnDisk("reopened", /*control_in_raw=*/false);
  ExpectMarkerChildReadable(id);
  auto count = store_->CountChildren();
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 5501u);
}

// Shield first, then bury the child among thousands of inserts and compactions.
TEST_F(ShieldMarkerTest, ShieldedBeforeBulkInsertStaysSealed) {
  CreateStore();
  const ChildId id = InsertMarkerChild();
  ASSERT_TRUE(ShieldMarkerChild(id).ok());
  InsertFillers(0, 5000);
  ASSERT_TRUE(store_->CompactAll().ok());
  ExpectNoSecretsOnDisk("open, after CompactAll", /*control_in_raw=*/false);
  store_.reset();
  OpenStore();
  ExpectNoSecretsOnDisk("reopened", /*control_in_raw=*/false);
  ExpectMarkerChildReadable(id);
}

std::string Hex(const std::string& bytes, bool upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  std::string out(2 * bytes.size(), '0');
  for (size_t i = 0; i < bytes.size(); ++i) {
    const unsigned byte = static_cast<uint8_t>(bytes[i]);
    out[2 * i] = digits[byte >> 4];
    out[2 * i + 1] = digits[byte & 15];
  }
  return out;
}

// SetShield's contract: it removes the child's place posting "and then flushes and
// compacts the touched ranges so that no superseded version remains on disk". The place
// key (keyed hash of the postcode | child id) ties a shielded child to a postcode hash
// that unshielded neighbours still carry in place_index, and a neighbour's postcode is
// visible to ordinary clearance; so the shielded child's key must leave no trace: not in
// a write-ahead log, not as a file boundary in the MANIFEST, not in the LOG (RocksDB logs
// manual compaction ranges as hex), not in an SST.
TEST_F(ShieldMarkerTest, ShieldLeavesNoTraceOfThePlaceKeyOnDisk) {
  CreateStore();
  std::vector<NewChild> batch;
  batch.push_back(MarkerChild());
  NewChild neighbour = Filler(1);
  neighbour.hidden.postcode = kPostcode;  // an unshielded child at the same postcode
  batch.push_back(std::move(neighbour));
  auto ids = store_->InsertChildren(batch);
  ASSERT_TRUE(ids.ok()) << ids.status().ToString();
  const ChildId shielded = (*ids)[0];
  const ChildId control = (*ids)[1];

  auto crypto = Crypto::LoadKeyFile(key_file_);
  ASSERT_TRUE(crypto.ok()) << crypto.status().ToString();
  const std::string hash = (*crypto)->PlaceHash(kPostcode);
  const std::string shielded_key = keys::PlaceKey(hash, shielded);
  const std::string control_key = keys::PlaceKey(hash, control);
  const std::vector<std::string> traces = {shielded_key, Hex(shielded_key, true),
                                           Hex(shielded_key, false)};

  ASSERT_TRUE(ShieldMarkerChild(shielded).ok());

  auto check = [&](const std::string& when) {
    SCOPED_TRACE(when);
    std::vector<std::string> needles = traces;
    needles.push_back(control_key);
    DiskScan scan = ScanDirectory(db_dir_, needles);
    for (size_t i = 0; i < traces.size(); ++i) {
      auto raw = scan.raw.find(traces[i]);
      EXPECT_TRUE(raw == scan.raw.end())
          << "the shielded child's place key (" << (i == 0 ? "binary" : "hex")
          << ") is still on disk in" << Describe(raw->second);
      auto decoded = scan.decoded.find(traces[i]);
      EXPECT_TRUE(decoded == scan.decoded.end())
          << "the shielded child's place key is still in the contents of"
          << Describe(decoded->second);
    }
    // Control: the unshielded neighbour's place key is on disk, so the scan can see keys.
    EXPECT_TRUE(scan.Found(control_key)) << "the control place key was not found";
  };
  check("open, after the shield");
  store_.reset();
  check("closed");
  OpenStore();
  check("reopened");

  std::vector<ChildId> at_postcode;
  bool complete = false;
  ASSERT_TRUE(
      store_
          ->ScanPlace(
              kPostcode, 10, [&](const Posting& p) { at_postcode.push_back(p.id); }, &complete)
          .ok());
  EXPECT_THAT(at_postcode, ::testing::ElementsAre(control));
}

// The scanner itself: a marker written in clear into a file is found, both raw and in the
// decoded contents of an SST file whose blocks are compressed.
TEST_F(ShieldMarkerTest, ScannerFindsMarkersInRawFilesAndCompressedSsts) {
  const std::string dir = dir_ + "/scanner";
  std::filesystem::create_directories(dir + "/nested");
  {
    std::ofstream out(dir + "/nested/LOG.old.123", std::ios::binary);
    out << "prefix " << kAddressMarker << " suffix";
  }
  rocksdb::Options options;
  options.compression = rocksdb::kZSTD;
  rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
  ASSERT_TRUE(writer.Open(dir + "/000001.sst").ok());
  for (int i = 0; i < 2000; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%06d", i);
    std::string value = "value value value value " + std::to_string(i);
    if (i == 1234) value += kPostcode;
    ASSERT_TRUE(writer.Put(key, value).ok());
  }
  ASSERT_TRUE(writer.Finish().ok());

  DiskScan scan = ScanDirectory(dir, {kAddressMarker, kPostcode, kSchoolMarker});
  EXPECT_EQ(scan.files, 2);
  EXPECT_EQ(scan.sst_files, 1);
  EXPECT_TRUE(scan.raw.count(kAddressMarker));
  EXPECT_TRUE(scan.decoded.count(kPostcode));
  EXPECT_FALSE(scan.Found(kSchoolMarker));
}

}  // namespace
}  // namespace cp
