// ChildStore: opening, creating and checking a database.
#include <rocksdb/filter_policy.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/slice_transform.h>
#include <rocksdb/table.h>
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <tuple>

#include "storage/child_store_internal.h"
#include "storage/file_encryption.h"
#include "storage/record_codec.h"
#include "util/coding.h"

namespace cp {
namespace {

constexpr const char* kMeta = "meta";
constexpr const char* kChildren = "children";
constexpr const char* kHidden = "hidden";
constexpr const char* kSources = "sources";
constexpr const char* kNameIndex = "name_index";
constexpr const char* kIdIndex = "id_index";
constexpr const char* kPlaceIndex = "place_index";
// Families added after schema 1's first release. A database that lacks them gets them
// created empty when opened (see CheckFamiliesPresent).
constexpr const char* kFeeds = "feeds";
constexpr const char* kReview = "review";
constexpr const char* kMerged = "merged";
constexpr const char* kAccounts = "accounts";
constexpr const char* kAudit = "audit";
constexpr const char* kAuditIndex = "audit_index";

// One posting list is (kind, token, birth year): the bloom filter answers "is there any
// child under this token in this year" without reading a data block.
class NamePostingPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "cp.NamePostingPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), keys::NamePostingPrefixLength(std::string_view(key.data(), key.size())));
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return keys::NamePostingPrefixLength(std::string_view(key.data(), key.size())) != 0;
  }
};

// An identifier's posting list is every key but its last 8 bytes (the child id): the
// bloom filter answers "does any child hold this NHS or pupil number", so a lookup of one
// nobody holds (most of a feed's new records) reads no data block. SST files written
// before 2026-11-29 have whole-key filters, which RocksDB does not consult for a seek, and
// are scanned as before.
class IdPostingPrefix : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "cp.IdPostingPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    return rocksdb::Slice(key.data(), key.size() - 8);
  }
  bool InDomain(const rocksdb::Slice& key) const override { return key.size() > 8; }
};

rocksdb::ColumnFamilyOptions FamilyOptions(const std::shared_ptr<rocksdb::Cache>& cache,
                                           bool prefix_scans) {
  rocksdb::ColumnFamilyOptions cf;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.format_version = 5;
  table.whole_key_filtering = !prefix_scans;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kZSTD;
  cf.level_compaction_dynamic_level_bytes = true;
  // A small base level (RocksDB's default is 256 MB): after a bulk import all data sits in
  // the bottom level, and with the default a family smaller than 256 MB (the name index at
  // 1M children is 240 MB) has no level above it, so every memtable flush of feed updates,
  // which touch keys all over the family, rewrote the whole family with ZSTD.
  cf.max_bytes_for_level_base = uint64_t{16} << 20;
  cf.target_file_size_base = uint64_t{16} << 20;
  if (prefix_scans) cf.memtable_prefix_bloom_size_ratio = 0.05;
  return cf;
}

std::vector<rocksdb::ColumnFamilyDescriptor> Descriptors(
    const std::shared_ptr<rocksdb::Cache>& cache, const std::vector<std::string>& existing) {
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  d.emplace_back(rocksdb::kDefaultColumnFamilyName, FamilyOptions(cache, false));
  d.emplace_back(kMeta, FamilyOptions(cache, false));
  d.emplace_back(kChildren, FamilyOptions(cache, false));
  // Hidden fields are sealed (AES-GCM): ciphertext does not compress, and compressing it
  // anyway cost the bulk loader, flushes and compactions the CPU of every block, for
  // RocksDB to store each block as it was. Files written before keep their compression.
  auto hidden = FamilyOptions(cache, false);
  hidden.compression = rocksdb::kNoCompression;
  hidden.bottommost_compression = rocksdb::kNoCompression;
  d.emplace_back(kHidden, hidden);
  d.emplace_back(kSources, FamilyOptions(cache, false));
  auto name = FamilyOptions(cache, true);
  name.prefix_extractor = std::make_shared<NamePostingPrefix>();
  // LZ4 at the bottom too: a feed batch or a search starting cold decompresses every block
  // of the name index it reads, and with ZSTD that was a fifth of the instructions of 2,000
  // new records matched into 1M children (16% fewer with LZ4; the family is 27% larger,
  // the database 11%: docs/performance.md). Files written before keep ZSTD until compacted.
  name.bottommost_compression = rocksdb::kLZ4Compression;
  d.emplace_back(kNameIndex, name);
  auto id = FamilyOptions(cache, true);
  id.prefix_extractor = std::make_shared<IdPostingPrefix>();
  d.emplace_back(kIdIndex, id);
  auto place = FamilyOptions(cache, true);
  place.prefix_extractor.reset(rocksdb::NewFixedPrefixTransform(keys::kPlaceHashBytes));
  d.emplace_back(kPlaceIndex, place);
  d.emplace_back(kFeeds, FamilyOptions(cache, false));
  d.emplace_back(kReview, FamilyOptions(cache, false));
  d.emplace_back(kMerged, FamilyOptions(cache, false));
  for (const char* name : {kAccounts, kAudit}) {
    d.emplace_back(name, FamilyOptions(cache, false));
  }
  // The audit index takes a key per child id a search returns (twenty a search, in random
  // order) and is read only by audit queries: its memtable is an unsorted vector, sorted
  // when a query or a flush reads it, not a skiplist that every insert searches (that
  // insert was 5% of the server's instructions per search).
  auto audit_index = FamilyOptions(cache, false);
  audit_index.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
  d.emplace_back(kAuditIndex, audit_index);
  // Families written by a newer build are opened too, so that the schema check below can
  // refuse the database with a clear message instead of RocksDB's.
  for (const auto& name_on_disk : existing) {
    bool known = false;
    for (const auto& desc : d) known = known || desc.name == name_on_disk;
    if (!known) d.emplace_back(name_on_disk, FamilyOptions(cache, false));
  }
  return d;
}

// Options every RocksDB open of the directory shares: its file system and info log.
rocksdb::DBOptions BaseDbOptions(const ChildStore::Handles& h) {
  rocksdb::DBOptions db;
  if (h.env != nullptr) db.env = h.env.get();
  db.info_log = h.info_log;
  return db;
}

bool DirExists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_directory(path, ec);
}

}  // namespace

Status FromRocks(const rocksdb::Status& s, std::string_view doing) {
  if (s.ok()) return Status::OK();
  std::string msg = std::string(doing) + ": " + s.ToString();
  if (s.IsNotFound()) return Status::NotFound(msg);
  if (s.IsCorruption()) return Status::Corruption(msg);
  if (s.IsInvalidArgument()) return Status::InvalidArgument(msg);
  return Status::IOError(msg);
}

std::string HiddenAssociatedData(ChildId id) { return "hidden:" + BigEndian64(id); }

ChildStore::Handles::~Handles() {
  if (db == nullptr) return;
  // With the write-ahead log on, RocksDB does not flush memtables on close: the next open
  // would replay the whole log since the last flush (every write of the last feed batch,
  // inserted into memtables again) before answering anything. Flushed here, the log is left
  // empty. Flushing an empty memtable does nothing, so a store that only read pays nothing.
  // Without waiting for a write stall to clear: after a bulk load, L0 holds more files than
  // the stop trigger until compaction catches up, and a waiting flush would sit through that
  // compaction (minutes at England scale: a 12M import's close took 138 s) instead of
  // writing one more small L0 file. Close then stops the compaction; `compact` does it.
  rocksdb::FlushOptions flush;
  flush.allow_write_stall = true;
  db->Flush(flush, all).PermitUncheckedError();
  for (auto* cf : all) db->DestroyColumnFamilyHandle(cf).PermitUncheckedError();
  db->Close().PermitUncheckedError();
  delete db;
}

ChildStore::ChildStore(const Options& options) : options_(options), h_(new Handles) {}
ChildStore::~ChildStore() = default;

Result<std::unique_ptr<ChildStore>> ChildStore::Open(const Options& options) {
  if (options.policy == nullptr) return Status::InvalidArgument("ChildStore needs an index policy");
  if (options.db_dir.empty()) return Status::InvalidArgument("no database directory given");
  std::unique_ptr<ChildStore> store(new ChildStore(options));
  if (options.create) {
    if (DirExists(options.db_dir)) {
      return Status::AlreadyExists("a database already exists at " + options.db_dir);
    }
    auto crypto = Crypto::CreateKeyFile(options.key_file);
    if (!crypto.ok()) return crypto.status();
    store->crypto_ = std::move(*crypto);
  } else {
    if (!DirExists(options.db_dir)) {
      return Status::NotFound("no database at " + options.db_dir +
                              " (create one with: contactpoint init --db " + options.db_dir + ")");
    }
    auto crypto = Crypto::LoadKeyFile(options.key_file);
    if (!crypto.ok()) return crypto.status();
    store->crypto_ = std::move(*crypto);
  }
  // The files say whether they are encrypted (CURRENT's prefix), and under which key: a
  // wrong key is refused here, before RocksDB reads bytes it cannot decrypt.
  bool encrypted = options.encrypt_files;
  if (!options.create) {
    Status k = CheckDbFilesKey(options.db_dir, *store->crypto_, options.key_file, &encrypted);
    if (k.code() == Status::Code::kPermissionDenied) return k;
    if (!k.ok()) encrypted = options.encrypt_files;  // no CURRENT: OpenDb says what is wrong
  }
  if (encrypted) store->h_->env = NewEncryptedFilesEnv(*store->crypto_);
  Status s = store->OpenDb();
  if (s.ok()) s = store->InitMeta(options.create);
  if (!s.ok()) return s;
  return store;
}

// A database lacking one of schema 1's original column families is either newer (a family
// was retired) or damaged. (Families added later — feeds, review, merged — are created empty when
// missing: an older database simply has no feed state yet.) Either way it is refused without being changed: the schema version
// is read through a read-only open, which creates nothing.
Status ChildStore::CheckFamiliesPresent(const std::vector<std::string>& existing) {
  std::string missing;
  for (const char* name : {kMeta, kChildren, kHidden, kSources, kNameIndex, kIdIndex, kPlaceIndex,
                           kAccounts, kAudit, kAuditIndex}) {
    if (std::find(existing.begin(), existing.end(), name) == existing.end()) missing = name;
  }
  if (missing.empty()) return Status::OK();
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : existing) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto rs = rocksdb::DB::OpenForReadOnly(BaseDbOptions(*h_), options_.db_dir, descriptors,
                                         &handles, &raw);
  if (!rs.ok()) return FromRocks(rs, "opening " + options_.db_dir + " read-only");
  std::string version;
  size_t meta = std::find(existing.begin(), existing.end(), kMeta) - existing.begin();
  rs = raw->Get(rocksdb::ReadOptions(), handles[meta], std::string(keys::kMetaSchemaVersion), &version);
  for (auto* h : handles) raw->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete raw;
  if (rs.ok() && std::atoi(version.c_str()) > kSchemaVersion) {
    return Status::NotSupported("database " + options_.db_dir + " was written by schema version " +
                                version + "; this build reads versions up to " +
                                std::to_string(kSchemaVersion) + " (upgrade contactpoint)");
  }
  return Status::Corruption("database " + options_.db_dir + " has no '" + missing +
                            "' column family");
}

Status ChildStore::OpenDb() {
  h_->cache = rocksdb::NewLRUCache(options_.block_cache_bytes);
  std::vector<std::string> existing;
  if (!options_.create) {
    auto s = rocksdb::DB::ListColumnFamilies(BaseDbOptions(*h_), options_.db_dir, &existing);
    if (!s.ok()) {
      return Status::Corruption("not a contactpoint database: " + options_.db_dir + " (" +
                                s.ToString() + ")");
    }
    // Refuse before opening: opening creates missing column families, which would
    // change a database that is not ours.
    if (std::find(existing.begin(), existing.end(), kMeta) == existing.end()) {
      return Status::Corruption("not a contactpoint database: " + options_.db_dir +
                                " has no meta column family");
    }
  }
  // The info log, once the directory is known to be a database (or is being created):
  // a refused directory is left as it was.
  if (h_->env != nullptr) {
    auto log = NewEncryptedInfoLog(h_->env.get(), options_.db_dir);
    if (!log.ok()) return log.status();
    h_->info_log = *log;
  }
  if (!options_.create) {
    Status present = CheckFamiliesPresent(existing);
    if (!present.ok()) return present;
    if (h_->env == nullptr && options_.encrypt_files) {
      return Status::FailedPrecondition(
          "database " + options_.db_dir +
          " is not encrypted at rest (written before file encryption, or created with it "
          "turned off); refused unless opened with --unencrypted-files. To encrypt it, back it "
          "up and restore it (docs/operations.md, \"Encryption at rest\")");
    }
  }
  rocksdb::DBOptions db = BaseDbOptions(*h_);
  db.create_if_missing = options_.create;
  db.error_if_exists = options_.create;
  db.create_missing_column_families = true;
  db.max_background_jobs = 2;
  // Required by the audit index's vector memtable; writers are few (the store's write
  // lock, the audit committer, the accounts), so concurrent memtable inserts gained little.
  db.allow_concurrent_memtable_write = false;
  db.keep_log_file_num = 5;
  db.bytes_per_sync = 1 << 20;
  // Roll the MANIFEST at every version edit. A MANIFEST records each SST file's first and
  // last key and keeps the history until it rolls; a fresh one holds only live files, so
  // once a shield's compaction has dropped a place posting, no file boundary names it.
  // Each roll writes a snapshot of the live files: a few KB, once per flush or compaction.
  db.max_manifest_file_size = 1;
  if (options_.statistics) {
    h_->statistics = rocksdb::CreateDBStatistics();
    h_->statistics->set_stats_level(rocksdb::StatsLevel::kExceptHistogramOrTimers);
    db.statistics = h_->statistics;
  }
  h_->listener = std::make_shared<EngineListener>(options_.engine_events);
  db.listeners.push_back(h_->listener);
  auto descriptors = Descriptors(h_->cache, existing);
  // A new database opens with the default family and then creates the others in one call.
  // DB::Open creates missing families one at a time, and after each RocksDB rewrites its
  // OPTIONS file and parses it back to check it: thirteen times, each longer (under the
  // sanitizers a test that only creates a store and appends to the audit log took 0.48 s,
  // 0.22 s with the families made in one call). CreateColumnFamilies writes the file once.
  // An older database missing a newer family still has it created by DB::Open
  // (create_missing_column_families).
  std::vector<rocksdb::ColumnFamilyDescriptor> later;
  if (options_.create) later.assign(descriptors.begin() + 1, descriptors.end());
  descriptors.resize(descriptors.size() - later.size());
  auto s = rocksdb::DB::Open(db, options_.db_dir, descriptors, &h_->all, &h_->db);
  if (s.IsIOError() && s.ToString().find("/LOCK:") != std::string::npos) {
    // RocksDB's "While lock file: DIR/LOCK: Resource temporarily unavailable" (another
    // process) or "lock hold by current process ...: DIR/LOCK" (this one).
    return Status::FailedPrecondition(
        options_.db_dir + " is open in another process (a running contactpointd, or another "
        "command): stop it first, or make the change through the server (contactpoint client)");
  }
  if (!s.ok()) return FromRocks(s, "opening " + options_.db_dir);
  if (!later.empty()) {
    std::vector<rocksdb::ColumnFamilyHandle*> created;
    s = h_->db->CreateColumnFamilies(later, &created);
    h_->all.insert(h_->all.end(), created.begin(), created.end());
    if (!s.ok()) return FromRocks(s, "creating the column families of " + options_.db_dir);
  }
  for (auto* cf : h_->all) {
    const std::string& name = cf->GetName();
    if (name == kMeta) h_->meta = cf;
    if (name == kChildren) h_->children = cf;
    if (name == kHidden) h_->hidden = cf;
    if (name == kSources) h_->sources = cf;
    if (name == kNameIndex) h_->name_index = cf;
    if (name == kIdIndex) h_->id_index = cf;
    if (name == kPlaceIndex) h_->place_index = cf;
    if (name == kFeeds) h_->feeds = cf;
    if (name == kReview) h_->review = cf;
    if (name == kMerged) h_->merged = cf;
    if (name == kAccounts) h_->accounts = cf;
    if (name == kAudit) h_->audit = cf;
    if (name == kAuditIndex) h_->audit_index = cf;
  }
  return Status::OK();
}

Status ChildStore::InitMeta(bool create) {
  auto* db = h_->db;
  if (create) {
    rocksdb::WriteBatch batch;
    batch.Put(h_->meta, std::string(keys::kMetaSchemaVersion), std::to_string(kSchemaVersion));
    batch.Put(h_->meta, std::string(keys::kMetaKeyFingerprint), crypto_->KeyFingerprint());
    batch.Put(h_->meta, std::string(keys::kMetaNextChildId), BigEndian64(1));
    batch.Put(h_->meta, std::string(keys::kMetaRowFingerprint), std::string(keys::kRowFingerprintXxh3Aes));
    batch.Put(h_->meta, std::string(keys::kMetaPlaceHash), std::string(keys::kPlaceHashXxh3Aes));
    batch.Put(h_->meta, std::string(keys::kMetaShieldedBirth), "1");
    batch.Put(h_->meta, std::string(keys::kMetaShieldedBirthDays), "1");
    batch.Put(h_->meta, std::string(keys::kMetaBirthday), "1");
    batch.Put(h_->meta, std::string(keys::kMetaDayPostings), "1");
    rocksdb::WriteOptions wo;
    wo.sync = true;
    Status ws = FromRocks(db->Write(wo, &batch), "writing database metadata");
    if (ws.ok()) {
      h_->row_fingerprint_xxh3 = h_->place_hash_xxh3 = h_->birthday_postings = h_->day_postings =
          true;
    }
    return ws;
  }
  std::string version, fingerprint, next;
  auto s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(keys::kMetaSchemaVersion), &version);
  if (s.IsNotFound()) {
    return Status::Corruption("not a contactpoint database: " + options_.db_dir +
                              " has no schema version");
  }
  if (!s.ok()) return FromRocks(s, "reading the schema version");
  int on_disk = std::atoi(version.c_str());
  if (on_disk > kSchemaVersion) {
    return Status::NotSupported("database " + options_.db_dir + " was written by schema version " +
                                version + "; this build reads versions up to " +
                                std::to_string(kSchemaVersion) + " (upgrade contactpoint)");
  }
  if (on_disk < 1) return Status::Corruption("unreadable schema version '" + version + "'");
  s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(keys::kMetaKeyFingerprint), &fingerprint);
  if (!s.ok()) return FromRocks(s, "reading the key fingerprint");
  if (fingerprint != crypto_->KeyFingerprint()) {
    return Status::PermissionDenied("key file " + options_.key_file +
                                    " is not the key database " + options_.db_dir +
                                    " was created with");
  }
  s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(keys::kMetaNextChildId), &next);
  if (!s.ok() || next.size() != 8) return Status::Corruption("next child id is missing or malformed");
  next_id_ = DecodeBigEndian64(next.data());
  // Hash schemes chosen when the database was created; absent: the HMAC of older builds.
  for (auto [name, known, flag, what] :
       {std::tuple{keys::kMetaRowFingerprint, keys::kRowFingerprintXxh3Aes, &h_->row_fingerprint_xxh3,
                   "fingerprints source rows"},
        std::tuple{keys::kMetaPlaceHash, keys::kPlaceHashXxh3Aes, &h_->place_hash_xxh3,
                   "hashes postcodes"}}) {
    std::string scheme;
    s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(name), &scheme);
    if (s.ok()) {
      if (scheme != known) {
        return Status::NotSupported("database " + options_.db_dir + " " + what + " as '" + scheme +
                                    "', which this build does not know (upgrade contactpoint)");
      }
      *flag = true;
    } else if (!s.IsNotFound()) {
      return FromRocks(s, std::string("reading how the database ") + what);
    }
  }
  std::string day;
  s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(keys::kMetaBirthday), &day);
  if (s.ok()) h_->birthday_postings = true;
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading whether children have birthday postings");
  s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(keys::kMetaDayPostings), &day);
  if (s.ok()) h_->day_postings = true;
  if (!s.ok() && !s.IsNotFound())
    return FromRocks(s, "reading whether children have birth day postings");
  std::string birth;
  s = db->Get(rocksdb::ReadOptions(), h_->meta, std::string(keys::kMetaShieldedBirthDays), &birth);
  if (s.IsNotFound()) return AddShieldedBirthPostings();  // writes the version too
  if (!s.ok()) return FromRocks(s, "reading whether shielded children have birth postings");
  if (on_disk >= kSchemaVersion) return Status::OK();
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(
      db->Put(wo, h_->meta, std::string(keys::kMetaSchemaVersion), std::to_string(kSchemaVersion)),
      "writing the schema version");
}

// Every shielded child's birth posting in its present form, for a database written before
// they existed or before that form (keys::kMetaShieldedBirthDays): the shielded children
// are those with year-free shielded postings (a few per thousand, found without reading
// the rest), each written as PutIndexEntries would and its posting in the earlier form
// deleted, then the meta markers, in one synced batch.
Status ChildStore::AddShieldedBirthPostings() {
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->name_index));
  const std::string kind(1, static_cast<char>(TermKind::kShieldedPhonetic));
  std::set<ChildId> ids;
  for (it->Seek(kind); it->Valid() && it->key().starts_with(kind); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() >= 8) ids.insert(DecodeBigEndian64(key.data() + key.size() - 8));
  }
  Status s = FromRocks(it->status(), "finding shielded children");
  if (!s.ok()) return s;
  rocksdb::WriteBatch batch;
  for (ChildId id : ids) {
    std::string bytes;
    auto rs = h_->db->Get(rocksdb::ReadOptions(), h_->children, keys::ChildKey(id), &bytes);
    if (rs.IsNotFound()) continue;  // a stale posting: `check` reports it
    if (!rs.ok()) return FromRocks(rs, "reading a shielded child");
    auto record = DecodeChildRecord(bytes);
    if (!record.ok()) return record.status();
    const std::string key = ShieldedBirthPostingKey(*record);
    if (!record->shield.shielded || key.empty()) continue;
    batch.Delete(h_->name_index, EarlierShieldedBirthPostingKey(*record));
    batch.Put(h_->name_index, key,
              MakeIndexImage(*options_.policy, *record, std::nullopt).posting_value);
  }
  batch.Put(h_->meta, std::string(keys::kMetaShieldedBirth), "1");
  batch.Put(h_->meta, std::string(keys::kMetaShieldedBirthDays), "1");
  // An older build would look for the postings where they were: it must refuse the database.
  batch.Put(h_->meta, std::string(keys::kMetaSchemaVersion), std::to_string(kSchemaVersion));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(h_->db->Write(wo, &batch), "writing shielded children's birth postings");
}

bool ChildStore::files_encrypted() const { return h_->env != nullptr; }

bool ChildStore::HasBirthdayPostings() const { return h_->birthday_postings; }
bool ChildStore::HasDayPostings() const { return h_->day_postings; }

// Every live, dated child's birth day and name pair postings (TermKind::kBirthDay,
// kNamePair), for a database created before they existed: the children read in key order,
// their postings written as PutIndexEntries would, in batches; then, in one batch, the
// markers and the deletion of every kBirthday posting, which matching no longer reads once
// the marker is there. Holding write_mu_ throughout, nothing written meanwhile can miss
// them. Stopped part way, it leaves some children's postings without the marker (`check`
// accepts them as an unfinished upgrade; matching does not read them): running it again
// writes them all again and finishes.
Status ChildStore::AddDayPostings(size_t* children) {
  std::lock_guard<std::mutex> lock(write_mu_);
  *children = 0;
  if (h_->day_postings) return Status::OK();
  constexpr uint32_t kBatchEntries = 50000;
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->children));
  rocksdb::WriteBatch batch;
  std::string key;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto record = DecodeChildRecord(View(it->value()));
    if (!record.ok()) return record.status();
    if (record->lifecycle.archived() || record->date_of_birth.empty()) continue;
    const IndexImage image = MakeIndexImage(*options_.policy, *record, std::nullopt);
    bool any = false;
    for (const auto& t : image.terms) {
      if (t.kind != TermKind::kBirthDay && t.kind != TermKind::kNamePair) continue;
      keys::NameTermKeyInto(&key, t.kind, t.token, record->date_of_birth, record->id);
      batch.Put(h_->name_index, key, image.posting_value);
      any = true;
    }
    *children += any;
    if (batch.Count() >= kBatchEntries) {
      Status s =
          FromRocks(h_->db->Write(rocksdb::WriteOptions(), &batch), "writing birth day postings");
      if (!s.ok()) return s;
      batch.Clear();
    }
  }
  Status s = FromRocks(it->status(), "reading children");
  if (!s.ok()) return s;
  const std::string birthday(1, static_cast<char>(TermKind::kBirthday));
  const std::string after(1, static_cast<char>(static_cast<char>(TermKind::kBirthday) + 1));
  batch.DeleteRange(h_->name_index, birthday, after);
  batch.Put(h_->meta, std::string(keys::kMetaBirthday), "1");
  batch.Put(h_->meta, std::string(keys::kMetaDayPostings), "1");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  s = FromRocks(h_->db->Write(wo, &batch), "writing birth day postings");
  if (s.ok()) h_->birthday_postings = h_->day_postings = true;
  return s;
}

Status ChildStore::AddShieldedDistricts(size_t* children) {
  std::lock_guard<std::mutex> lock(write_mu_);
  *children = 0;
  // The shielded children are those with shielded postings (year-free codes and birth
  // postings); one without the digest on any of them is rewritten.
  std::unique_ptr<rocksdb::Iterator> it(
      h_->db->NewIterator(rocksdb::ReadOptions(), h_->name_index));
  const std::string kind(1, static_cast<char>(TermKind::kShieldedPhonetic));
  std::set<ChildId> lacking;
  for (it->Seek(kind); it->Valid() && it->key().starts_with(kind); it->Next()) {
    const std::string_view key(it->key().data(), it->key().size());
    if (key.size() < 8 || it->value().empty()) continue;
    if (!(static_cast<uint8_t>(it->value()[0]) & keys::kPostingDistrict)) {
      lacking.insert(DecodeBigEndian64(key.data() + key.size() - 8));
    }
  }
  Status s = FromRocks(it->status(), "finding shielded children");
  if (!s.ok()) return s;
  const auto clearance = Clearance::Elevated(Clearance::Level::kMatching, "storage", "upgrade");
  constexpr uint32_t kBatchEntries = 50000;
  rocksdb::WriteBatch batch;
  for (ChildId id : lacking) {
    auto view = Get(id, clearance);
    if (view.status().IsNotFound()) continue;  // a stale posting: `check` reports it
    if (!view.ok()) return view.status();
    const ChildRecord& r = view->record;
    const auto district = ShieldedDistrict(*crypto_, r, *view->hidden);
    if (r.id != id || !district) continue;  // merged away, or no district to give
    PutIndexEntries(h_.get(), *crypto_, MakeIndexImage(*options_.policy, r, district), r,
                    *view->hidden, &batch);
    ++*children;
    if (batch.Count() >= kBatchEntries) {
      s = FromRocks(h_->db->Write(rocksdb::WriteOptions(), &batch), "writing shielded postings");
      if (!s.ok()) return s;
      batch.Clear();
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(h_->db->Write(wo, &batch), "writing shielded postings");
}

Status ChildStore::CompactAll() {
  rocksdb::CompactRangeOptions options;
  options.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForceOptimized;
  for (auto* cf : h_->all) {
    Status s = FromRocks(h_->db->CompactRange(options, cf, nullptr, nullptr), "compacting");
    if (!s.ok()) return s;
  }
  return Status::OK();
}

uint64_t ChildStore::LiveDataBytes() const {
  uint64_t total = 0;
  for (const auto& [name, bytes] : LiveDataBytesByFamily()) total += bytes;
  return total;
}

std::vector<std::pair<std::string, uint64_t>> ChildStore::LiveDataBytesByFamily() const {
  std::vector<std::pair<std::string, uint64_t>> sizes;
  for (auto* cf : h_->all) {
    uint64_t bytes = 0;
    if (!h_->db->GetIntProperty(cf, "rocksdb.total-sst-files-size", &bytes)) bytes = 0;
    sizes.emplace_back(cf->GetName(), bytes);
  }
  return sizes;
}

}  // namespace cp
