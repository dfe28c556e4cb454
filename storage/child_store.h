// ChildStore: the database of children, and the only code that touches RocksDB.
//
// Column families (byte layouts in docs/key_format.md):
//   meta         schema version, next child id, key fingerprint
//   children     child id -> visible record (never holds a hidden field)
//   hidden       child id -> hidden fields, sealed with AES-256-GCM
//   sources      (source, source key) -> child id, fingerprint, sealed source record
//   name_index   (kind, token, birth year, birth month, child id) -> flags + features
//   id_index     (identifier kind, value, child id) -> empty
//   place_index  (keyed hash of postcode, child id) -> flags + features; never for a
//                shielded child
//   feeds        source -> feed state (last batch, progress of an open batch, counts)
//   review       the review queue (sealed feed records) and reviewers' decisions
//   merged       child id merged away -> the child id it was merged into
//   accounts     organisations and users (storage/accounts.h)
//   audit        sequence number -> hash-chained audit entry (storage/audit_log.h)
//   audit_index  (child id | user, time, sequence number) -> empty
//
// Shielding is enforced here. Hidden fields are sealed for every child, shielded or not,
// so no address, postcode, parent contact or service ever reaches the write-ahead log or
// an SST file in clear. The read path takes a Clearance: with ordinary clearance a
// shielded child's hidden fields are not returned, and a place (postcode) scan never
// yields a shielded child.
//
// Every logical change — children inserted, a shield set — is one atomic WriteBatch
// across all the column families it touches.
//
// Thread safety: a ChildStore may be shared by many threads. Reads run concurrently;
// writes are serialised internally.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/clearance.h"
#include "storage/crypto.h"
#include "storage/feed_change.h"
#include "storage/index_policy.h"
#include "storage/keys.h"
#include "storage/record.h"
#include "util/status.h"

namespace rocksdb {
class DB;
class Iterator;
class ColumnFamilyHandle;
class Cache;
}  // namespace rocksdb

namespace cp {

class Accounts;
class AuditLog;
class AuditReader;
class BulkLoader;
class PostingScanner;
struct ConsistencyReport;
struct IndexImage;

// The on-disk schema this build writes. A database with a higher version is refused.
// 2 since 2026-11-30: shielded children's birth postings are filed by day
// (keys::kShieldedBirthDayToken), and `upgrade` deletes the birthday postings its birth day
// postings replace; a build of version 1 would find neither, and miss shielded children a
// record's date reaches. A database of version 1 is moved to 2 when this build opens it.
inline constexpr int kSchemaVersion = 2;

// A child to insert: a new record linked to the source record it came from.
struct NewChild {
  ChildRecord record;  // `id` is assigned by the store; `sources` gains `source`
  HiddenFields hidden;
  SourceRef source;
  std::string source_payload;  // the source's raw row: its keyed fingerprint is stored, to
                               // tell an unchanged record cheaply. The parsed record is the
                               // child as created, sealed beside the link only once a change
                               // to the child would lose it (GetSourceRecord reads either)
};

// One name posting as a scan yields it. `features` points into the scan's buffer and is
// valid only during the visit.
struct Posting {
  ChildId id;
  uint16_t birth_year;
  uint8_t birth_month;
  bool shielded;
  std::string_view features;  // empty for postings that carry none (trigrams)
  // A shielded child's postcode district, as ChildStore::DistrictDigest gives it; none
  // for a child without one, an unshielded child, and postings written before 2026-11-30.
  std::optional<uint8_t> district = std::nullopt;
};
using PostingVisitor = std::function<void(const Posting&)>;

// RocksDB's background work, as ChildStore::Options::engine_events reports it: a memtable
// flushed to a file, a compaction finished, or writes slowed or stopped (and resumed)
// because flushes or compactions fell behind. Names a column family, never a key.
struct EngineEvent {
  enum class Kind { kFlush, kCompaction, kStall };
  Kind kind = Kind::kFlush;
  std::string family;          // the column family ("name_index", "audit", ...)
  std::string reason;          // why RocksDB flushed or compacted ("write_buffer_full", ...)
  uint64_t micros = 0;         // the flush's or the compaction's duration
  uint64_t bytes_written = 0;  // the files it wrote
  uint64_t entries = 0;        // a flush: the entries written
  int output_level = 0;        // a compaction: the level it wrote to
  // A stall: the family's write condition now and before: "normal", "delayed" (writes
  // slowed) or "stopped".
  std::string condition, previous;
};

struct SourceLink {
  ChildId child = 0;
  uint64_t fingerprint = 0;  // keyed hash (HMAC-SHA256, first 8 bytes) of the source payload
};

class ChildStore {
 public:
  struct Options {
    std::string db_dir;    // the RocksDB directory
    std::string key_file;  // the master key; kept outside db_dir
    bool create = false;   // create db_dir and key_file; both must not exist
    const IndexPolicy* policy = nullptr;  // required; must outlive the store
    size_t block_cache_bytes = size_t{256} << 20;
    // Collect RocksDB's tickers (counters only: no histograms or timers) for
    // GetEngineStats' block-cache hits and misses. The daemon turns it on; the cost is
    // measured in docs/operations.md ("Metrics").
    bool statistics = false;
    // Encryption at rest of every database file (storage/file_encryption.h). With create:
    // whether the new database's files are encrypted. On open the files say whether they
    // are: an encrypted database is always opened encrypted, and one written without file
    // encryption is refused unless this is false (docs/operations.md, "Encryption at
    // rest"). Turn it off only to measure what encryption costs.
    bool encrypt_files = true;
    // Called for each EngineEvent, on RocksDB's background threads (keep it short; it must
    // not call back into the store). GetEngineStats counts them whether or not it is set.
    std::function<void(const EngineEvent&)> engine_events;
  };

  // Opens (or with options.create, creates) the database. Refused with a clear message:
  // a missing database (without create), an existing one (with create), a database with
  // a newer schema version, a missing, corrupt or world-readable key file, or a key file
  // that is not the one the database was created with (whose files then cannot even be
  // read: refused before RocksDB reads them), and a database written without file
  // encryption unless options.encrypt_files is false. On success *store owns it.
  static Result<std::unique_ptr<ChildStore>> Open(const Options& options);

  ChildStore(const ChildStore&) = delete;
  ChildStore& operator=(const ChildStore&) = delete;
  ~ChildStore();

  // ---- Writes -------------------------------------------------------------------------

  // Inserts the children as one atomic batch and returns their new ids in order.
  // AlreadyExists (and nothing written) when any (source, key) is already linked or
  // appears twice in the batch.
  Result<std::vector<ChildId>> InsertChildren(std::span<NewChild> children);

  // Sets or clears the shield. Shielding rewrites the child's postings with the shield
  // bit, removes its place posting, and then flushes and compacts the touched ranges so
  // that no superseded version remains on disk. NotFound for an unknown child; setting
  // the state a child already has is OK and changes nothing.
  Status SetShield(ChildId id, bool shielded, std::string_view by, std::string_view reason);
  // The same for each child in `ids`, in order, each its own atomic change, with one flush
  // and compaction at the end (for the place postings of every child shielded, including
  // when a later one failed). Stops at the first failure; `done` (optional) says how many
  // children were set before it.
  Status SetShields(std::span<const ChildId> ids, bool shielded, std::string_view by,
                    std::string_view reason, size_t* done = nullptr);

  // ---- Feeds (storage/child_store_feed.cc) --------------------------------------------

  // Applies everything one feed record changes as one WriteBatch, and returns the ids
  // given to new children, in order. Storage rewrites an existing child's postings from
  // its old and new records, and never writes a place posting for a shielded child.
  // Refused with nothing written: FailedPrecondition when a child written would lose its
  // shield (only SetShield lifts one); NotFound when an existing child written, or a
  // review item erased, is missing; InvalidArgument for a link to no child; and the status
  // IsChangedSince() recognises when a shield was set after `change.shields_seen`, or a
  // written child's standing differs from its `read_as` (the caller decides it again).
  Result<std::vector<ChildId>> ApplyChange(FeedChange change);
  // How many times a shield has been set since the store opened (FeedChange::shields_seen).
  uint64_t ShieldsSet() const { return shields_set_.load(std::memory_order_acquire); }

  // The fingerprint a source link stores for this raw row (SourceLink::fingerprint).
  uint64_t Fingerprint(std::string_view raw_row) const;

  // A source's feed state; a fresh state (nothing applied, not paused) when unknown.
  Result<FeedState> GetFeedState(std::string_view source) const;
  Status ListFeedStates(std::vector<FeedState>* out) const;
  // Writes a state alone (pause, resume), synced.
  Status PutFeedState(const FeedState& state);

  // Named settings kept with the data (the feed rules and weights every writer must share).
  // NotFound when never set. PutSetting is synced.
  Result<std::string> GetSetting(std::string_view name) const;
  Status PutSetting(std::string_view name, std::string_view value);

  // A linked source record, parsed. It holds hidden fields, so it needs a clearance that
  // sees them (PermissionDenied otherwise). NotFound when the record is not linked.
  Result<SourceRecord> GetSourceRecord(const SourceRef& ref, const Clearance& clearance) const;

  // Every record one source has linked, in key order, until `visit` returns false.
  Status ForEachSourceLink(std::string_view source,
                           const std::function<bool(const std::string& key, const SourceLink& link)>& visit) const;

  // The review item waiting for a source record; NotFound when there is none. Its payload
  // is returned only under a clearance that sees hidden fields (empty otherwise).
  Result<ReviewItem> FindReview(const SourceRef& ref, const Clearance& clearance) const;
  Result<ReviewItem> GetReview(uint64_t id, const Clearance& clearance) const;
  // Every waiting item in id order, without payloads.
  Status ListReview(std::vector<ReviewItem>* out) const;
  // Every decision recorded about a source record.
  Status GetDecisions(const SourceRef& ref, std::vector<PairDecision>* out) const;

  // ---- Lifecycle (storage/child_store_lifecycle.cc; the rules: storage/retention.h) ----

  // Records (or withdraws) consent to stay on the index until 25. NotFound for an unknown
  // child; FailedPrecondition for an archived one: archiving is one way.
  Status SetConsentTo25(ChildId id, bool consent);
  // Records (or refuses, or withdraws) consent to show the child's sensitive services
  // (storage/record.h IsSensitiveService). Without it no read path releases them except to
  // the engine's own matching clearance; they stay sealed with the hidden fields, so a
  // consent recorded later shows what the sources already sent. Allowed on an archived
  // child too (a withdrawal must always be possible). NotFound for an unknown child.
  Status SetSensitiveServicesConsent(ChildId id, bool consent);

  // Archives a live child on `archived_on`, which must be the date the lifecycle rules give
  // for its record as it is now (FailedPrecondition otherwise: say, a date of birth corrected
  // since the caller decided). In one WriteBatch the record gains the date and loses every
  // posting a search reads (name, identifier, place); a shielded child keeps its shielded
  // phonetic postings, which only feed matching reads. The hidden fields are not rewritten
  // (opened in memory only to find the place posting). NotFound for an unknown child (or an
  // id merged away); archiving an archived child is OK and changes nothing.
  Status ArchiveChild(ChildId id, const Date& archived_on);

  // Deletes children for good, each in one WriteBatch: record, hidden fields, every index
  // entry, source links (sealed source records with them; links still naming a child merged
  // into it too), review items of its source
  // records, reviewers' decisions naming it or its source records, and the merge records
  // of children merged into it. The audit trail is left whole: it holds child ids only.
  // *deleted counts the children deleted; an id with no record is skipped (already deleted).
  Status DeleteChildren(std::span<const ChildId> ids, uint64_t* deleted);

  // Checks that the indexes, source links and merge records agree with the records
  // (storage/check.h). Problems go to *report; Status is not OK only when reading fails.
  Status CheckConsistency(ConsistencyReport* report) const;

  // ---- Reads --------------------------------------------------------------------------

  // The child as `clearance` may see it; an id merged into another child resolves to
  // that child (the view's record.id says which). For a shielded child under ordinary clearance
  // that is no hidden fields, no source references and no provenance (a source's name
  // can place a child as well as an address). NotFound when there is no such child.
  Result<ChildView> Get(ChildId id, const Clearance& clearance) const;
  // Many children at once (RocksDB MultiGet); one Result per id, in order.
  std::vector<Result<ChildView>> MultiGet(std::span<const ChildId> ids,
                                          const Clearance& clearance) const;
  // The visible record only (no decryption), e.g. for scoring.
  Result<ChildRecord> GetRecord(ChildId id) const;

  // Which child a source record is linked to. NotFound when unlinked.
  Result<SourceLink> FindSource(std::string_view source, std::string_view key) const;
  // The same for many keys of one source at once (RocksDB's batched MultiGet: keys near
  // each other share the blocks read); one Result per key, in order.
  std::vector<Result<SourceLink>> FindSources(std::string_view source,
                                              std::span<const std::string_view> source_keys) const;

  // The digest of a canonical postcode's district that a shielded child's postings carry
  // (Posting::district): a posting whose digest differs is of a child living in another
  // district. Keyed (one byte of HMAC-SHA256 under the store's key). nullopt for a
  // postcode without a district.
  std::optional<uint8_t> DistrictDigest(std::string_view postcode) const;

  // Children holding this identifier (normally one).
  Status FindByIdentifier(keys::IdKind kind, std::string_view value,
                          std::vector<ChildId>* ids) const;

  // The id a child lives on as: itself, or the child it was merged into (followed through
  // successive merges). NotFound when there is no such child.
  Result<ChildId> Resolve(ChildId id) const;

  // Visible records only (no decryption), many at once; one Result per id, in order.
  std::vector<Result<ChildRecord>> MultiGetRecords(std::span<const ChildId> ids) const;

  // Visits at most `limit` postings of (kind, token, birth year), optionally of one birth
  // month, in child-id order within each month. *complete says whether every posting was
  // visited (false: the limit cut the scan short). For many scans in one search, use a
  // PostingScanner: it reuses its iterators.
  Status ScanName(TermKind kind, std::string_view token, uint16_t birth_year,
                  std::optional<uint8_t> birth_month, size_t limit, const PostingVisitor& visit,
                  bool* complete) const;

  // Visits at most `limit` place postings for a canonical postcode; shielded children
  // have none. Posting.birth_* are zero here.
  Status ScanPlace(std::string_view canonical_postcode, size_t limit, const PostingVisitor& visit,
                   bool* complete) const;

  // Every child in id order, as `clearance` may see it, until `visit` returns false.
  Status ForEachChild(const Clearance& clearance,
                      const std::function<bool(const ChildView&)>& visit) const;

  // Number of children (exact: counts the children column family).
  Result<uint64_t> CountChildren() const;

  // Compacts every column family (after a bulk import: fewer files, faster scans).
  Status CompactAll();
  // Bytes of live SST files, summed over column families.
  uint64_t LiveDataBytes() const;
  // The same, per column family (name, bytes), in the order the families were opened.
  std::vector<std::pair<std::string, uint64_t>> LiveDataBytesByFamily() const;

  const std::string& db_dir() const { return options_.db_dir; }
  // Whether this database's files are encrypted at rest.
  bool files_encrypted() const;
  // Whether children with a date of birth have postings under their birth month and day
  // (TermKind::kBirthday, or kBirthDay where HasDayPostings): every database created since
  // 2026-11-29 (keys::kMetaBirthday). Feed matching scans them where it can; an older
  // database is matched as before.
  bool HasBirthdayPostings() const;
  // Whether those are TermKind::kBirthDay postings, with kNamePair postings beside them:
  // every database created since 2026-11-30, or upgraded (keys::kMetaDayPostings).
  bool HasDayPostings() const;
  // Gives a database created before birth day postings its children's kBirthDay and
  // kNamePair postings (live children with a date of birth), then marks it as having them
  // and deletes its kBirthday postings; `*children` counts the children given any. OK and
  // 0 when it has them already. Writes wait for it; safe to run again after an
  // interruption. For `upgrade`, which holds the database alone.
  Status AddDayPostings(size_t* children);
  // Gives every shielded child whose postings lack it the digest of its postcode district
  // (keys::kPostingDistrict: postings written before 2026-11-30, or by AddDayPostings and
  // the shielded birth postings' move, which do not open hidden fields); `*children`
  // counts the children rewritten, each in full in one batch. Matching reads a posting
  // without it as saying nothing of where the child lives, so this only spares reads.
  // Writes wait for it; safe to run again. For `upgrade`.
  Status AddShieldedDistricts(size_t* children);

  // ---- Backups (storage/child_store_backup.cc; list, verify, restore: storage/backup.h) --

  // Adds a backup of the open database to `backup_dir` (created when missing) with RocksDB's
  // BackupEngine: a consistent point in time, taken while reads and writes go on. Its files
  // are encrypted as the database's are, under the same key; the key file is never copied.
  // Returns the new backup's id. `keep` > 0: then only the newest `keep` backups are kept
  // (older ones and the files only they used are deleted).
  Result<uint32_t> CreateBackup(const std::string& backup_dir, uint32_t keep = 0);

  // RocksDB's own figures, for monitoring (storage/child_store_stats.cc). Cheap: counters
  // and in-memory properties, no I/O.
  struct EngineStats {
    uint64_t block_cache_hits = 0;    // since open; 0 unless Options::statistics
    uint64_t block_cache_misses = 0;  // since open; 0 unless Options::statistics
    uint64_t keys_written = 0;        // puts and deletes, since open; 0 unless Options::statistics
    uint64_t block_cache_usage_bytes = 0;
    uint64_t block_cache_capacity_bytes = 0;
    uint64_t pending_compaction_bytes = 0;  // estimated, summed over column families
    // Background work since open (EngineEvent): flushes and compactions finished and the
    // time they took; how often a column family's writes were slowed or stopped, and for
    // how long writers waited (0 unless Options::statistics).
    uint64_t flushes = 0, flush_micros = 0;
    uint64_t compactions = 0, compaction_micros = 0;
    uint64_t stalls_delayed = 0, stalls_stopped = 0;
    uint64_t stall_micros = 0;
    uint64_t level0_files = 0;   // L0 files now, the most of any column family
    bool write_stopped = false;  // writes are stopped now (some family's L0 or memtables)
    bool statistics = false;                // whether the hit and miss counts are kept
  };
  EngineStats GetEngineStats() const;

 // Opaque RocksDB handles (storage/child_store_internal.h).
  struct Handles;

 private:
  friend class Accounts;  // the accounts family, and the Crypto for TOTP secrets
  friend class AuditLog;  // the audit families, and the Crypto for reasons and criteria
  friend class AuditReader;
  friend class BulkLoader;
  friend class PostingScanner;
  explicit ChildStore(const Options& options);
  Status OpenDb();
  Status CheckFamiliesPresent(const std::vector<std::string>& existing);
  Status InitMeta(bool create);
  Status AddShieldedBirthPostings();
  Result<ChildView> MakeView(ChildRecord record, std::string_view sealed_hidden,
                             const Clearance& clearance) const;

  Status LoadFeedCounters();
  Status AppendChildWrite(const FeedChange::ChildWrite& w, bool is_new, void* batch);
  void DeletePostings(const ChildRecord& record, const HiddenFields& hidden, void* batch);
  template <typename Sink>
  void PostingKeys(const ChildRecord& record, const HiddenFields& hidden, Sink* sink,
                   const std::vector<IndexTerm>* known_terms = nullptr) const;
  void RewriteIndexEntries(const ChildRecord& old_record, const HiddenFields& old_hidden,
                           const ChildRecord& record, const HiddenFields& hidden,
                           const IndexImage& image, void* batch);
  // SetShields' work for one child, under write_mu_; sets `*purge` when a place posting
  // was deleted.
  Status SetShieldLocked(ChildId id, bool shielded, std::string_view by, std::string_view reason,
                         bool* purge);
  Status PurgeSupersededPlacePostings();
  Status MaterializeDerivedLinks(const ChildRecord& record, const HiddenFields& hidden, void* batch);

  Options options_;
  std::unique_ptr<Crypto> crypto_;
  // Store-wide counters for source records and review items, loaded on first use and
  // guarded by write_mu_; persisted in the same batch as every change that uses them.
  bool feed_counters_loaded_ = false;
  uint64_t next_source_seq_ = 1;
  uint64_t next_review_id_ = 1;
  std::unique_ptr<Handles> h_;
  std::mutex write_mu_;
  std::atomic<ChildId> next_id_{1};
  // Shields set since open; changed under write_mu_, after the shield is written.
  std::atomic<uint64_t> shields_set_{0};
};

// One search's scans of the name and place indexes. It keeps one RocksDB iterator per
// index and re-seeks it for each posting list: creating an iterator costs several times a
// seek, and a search makes a dozen scans.
//
// Thread safety: not thread safe; one scanner per search. The store must outlive it.
class PostingScanner {
 public:
  explicit PostingScanner(const ChildStore* store);
  ~PostingScanner();
  PostingScanner(const PostingScanner&) = delete;
  PostingScanner& operator=(const PostingScanner&) = delete;

  // As ChildStore::ScanName and ChildStore::ScanPlace.
  Status ScanName(TermKind kind, std::string_view token, uint16_t birth_year,
                  std::optional<uint8_t> birth_month, size_t limit, const PostingVisitor& visit,
                  bool* complete);
  Status ScanPlace(std::string_view canonical_postcode, size_t limit, const PostingVisitor& visit,
                   bool* complete);

 private:
  const ChildStore* store_;
  std::unique_ptr<rocksdb::Iterator> name_it_;
  std::unique_ptr<rocksdb::Iterator> place_it_;
};

}  // namespace cp
