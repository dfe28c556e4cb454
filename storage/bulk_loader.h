// BulkLoader: loads many new children into a ChildStore through SST files instead of the
// memtable.
//
// ChildStore::InsertChildren writes every entry (about 30 per child: record, sealed hidden
// fields, name, identifier and place postings, source link) through the memtable, whose
// skip-list inserts dominate a large import. The loader instead stages children in
// chunks, builds the same entries (AppendNewChildEntries), sorts them, writes one set of
// SST files per column family with rocksdb::SstFileWriter under that family's own
// options, and ingests the files of every family together with DB::IngestExternalFiles.
// Building starts before a chunk is complete: a builder thread takes staged children in
// blocks of 1,024 while the caller goes on reading, parsing and adding rows, so that an
// import keeps both cores busy (without it, `contactpoint import` ran one core for most
// of a chunk and reached half the rate); when the chunk is complete, `threads` threads
// build what is left, sort and write.
//
// Contract:
// - After a chunk is ingested, each of its children is readable, searchable and linked to
//   its source exactly as if InsertChildren had inserted it: same keys, same values (the
//   hidden fields and the source payload sealed, the place posting absent for a shielded
//   child). Nothing a child writes is in clear on disk that InsertChildren would seal.
// - A chunk is all or nothing. Its files and the store's next child id go into the
//   database in one atomic ingest (the id as a one-key file for the meta family), so a
//   crash at any point leaves either the whole chunk with a counter past it, or none of it.
//   Other threads may briefly see some families of a chunk before others while the ingest
//   runs (RocksDB applies the families in turn); a snapshot sees all or none.
// - Ids are assigned by Add, in order, from the store's own counter, and are reserved at
//   once: InsertChildren on another thread never hands out an id the loader staged. An id
//   whose child is never ingested (the loader destroyed without Finish, a failed chunk) is
//   given back when no other id was allocated since, else it stays unused.
// - Staged children are not visible before their chunk is ingested: call Finish() to
//   ingest a last partial chunk. The destructor does not ingest.
// - A (source, key) may be linked once. Add refuses a whole call with AlreadyExists when
//   any of its keys is already linked in the store, was added earlier to this loader, or
//   repeats within the call; nothing of the call is staged and the loader stays usable.
//   Should another writer change the store while children are staged, each later chunk's
//   keys are checked against the store again just before its ingest, and a key linked
//   meanwhile fails that chunk with FailedPrecondition.
// - A failed chunk (an I/O error, FailedPrecondition from that check, or InvalidArgument
//   for an index token outside 1..255 bytes, which the loader only learns when it builds
//   the chunk) ends the load: nothing of the chunk is visible, whatever else was staged is
//   dropped, and every later Add or Finish returns the same error. stats() then says how
//   many children were ingested before it.
// - The SST files carry each family's own options (table format, block size, filters,
//   prefix extractor) and are compressed as its flushes are (LZ4); ChildStore::CompactAll
//   afterwards recompresses the bottommost level with ZSTD. They are written under
//   Options::temp_dir, in a directory of their own per chunk, and moved (hard-linked) into
//   the database by the ingest; the loader removes them in every case, and removes
//   temp_dir itself if it created it.
// - From its first Add until Finish (or its destruction), a loader raises the L0
//   compaction triggers of the families it writes (128 files to compact, 256 to slow
//   writes, 384 to stop them: 64 chunks, 16M children at the default chunk) and their base
//   level's size (1 PB, so that L0's bytes never start a compaction, only its file count),
//   so that chunks ingested into L0 are not merged into the bottommost level while the load
//   runs and the work per child does not grow with the database; the last loader of a
//   database to finish restores the family's own values. The loaded files then wait in L0
//   for ChildStore::CompactAll (or RocksDB's next compaction): run it after an import. A
//   load past 64 chunks merges L0 once per 64 chunks.
//
// Memory: the loader remembers a 64-bit fingerprint of every source key it has staged or
// ingested (KeyFingerprintSet: 11 to 21 bytes per child, for the loader's lifetime). A chunk
// costs about 5 KB per child with the production index policy (a copy of each staged
// child, then its keys and values and their sort order): some 1.2 GB for the default
// chunk of 250,000. That memory is reused from chunk to chunk and released by Finish.
//
// Thread safety: one loader is used by one thread at a time (its builder thread is its
// own business, stopped by Finish and the destructor). The store may be used by other
// threads meanwhile (reads, InsertChildren, SetShield, other loaders): the loader takes
// the store's write lock to check keys and assign ids, and to ingest, but not while it
// builds and writes a chunk's files. The store must outlive the loader.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "storage/bulk_loader_key_set.h"
#include "storage/child_store.h"
#include "util/status.h"

namespace cp {

class BulkLoader {
 public:
  struct Options {
    size_t chunk_children = 250000;  // children staged before one ingest
    // Threads that build entries, sort and write files; with 2 or more, one of them
    // builds while children are still being added. 1: everything on the caller's thread.
    int threads = 2;
    // Where SST files are written before the ingest; default "<db_dir>.bulk": on the same
    // file system as the database, so that the ingest moves files rather than copies them.
    // Created (when missing) and removed by the loader.
    std::string temp_dir;
    // The fingerprint of a source key (storage/bulk_loader_key_set.h); null: XXH3. A test
    // seam: a function under which keys collide shows that a shared fingerprint never
    // refuses a new key and never lets a repeated one through.
    uint64_t (*key_fingerprint)(std::string_view key) = nullptr;
  };
  struct Stats {
    size_t children = 0;  // children ingested (visible)
    size_t chunks = 0;    // chunks ingested
    size_t entries = 0;   // key-value pairs ingested, the store's id counter excluded
  };

  BulkLoader(ChildStore* store, Options options);
  // Does NOT ingest what is staged (call Finish()); drops it and removes temporary files.
  ~BulkLoader();
  BulkLoader(const BulkLoader&) = delete;
  BulkLoader& operator=(const BulkLoader&) = delete;

  // Stages copies of the children, assigning ids in order as InsertChildren does (in the
  // caller's records too: record.id is set and record.sources gains source) and returns
  // them. AlreadyExists for a duplicate source key and InvalidArgument for a source name
  // outside 1..255 bytes, as above: nothing staged, the records untouched. Each time the
  // stage reaches chunk_children, that chunk is ingested before Add returns; if one fails,
  // Add returns its error (chunks of this call ingested before it stay ingested).
  Result<std::vector<ChildId>> Add(std::span<NewChild> children);

  // As Add, but moves the children into the stage instead of copying them: a bulk import
  // copied each child twice on the thread that reads and parses rows, and that thread
  // sets the pace. A call refused with AlreadyExists or InvalidArgument moves nothing (the
  // records are untouched and may be added again one by one); after OK or any other error
  // the records are valid but unspecified.
  Result<std::vector<ChildId>> AddMoving(std::span<NewChild> children);

  // Ingests whatever is staged. After it returns OK every added child is readable and
  // searchable exactly as if inserted by InsertChildren. OK when nothing is staged. The
  // loader may be used again afterwards.
  Status Finish();

  const Stats& stats() const { return stats_; }

 private:
  struct Pipeline;

  // Builds, writes and ingests every staged child as one chunk. On failure the load ends.
  Result<std::vector<ChildId>> AddImpl(std::span<NewChild> children, bool move);
  Status IngestStaged();
  Status IngestChunk();
  // After a failure or in the destructor: drops the stage and gives back its ids if no
  // one has allocated an id since. Requires the store's write lock and no build running.
  void DropStageLocked();
  // Notes a write by someone else since the loader last held the lock: from then on Add
  // asks the store about every key, and keys staged before it are checked against the
  // store again before they are ingested. Requires the store's write lock.
  void NoteForeignWritesLocked();
  // Refuses the call (InvalidArgument for a bad source name, AlreadyExists for a key that
  // repeats within it, was staged or ingested before, or is linked in the store) or adds
  // its keys to keys_. Requires the store's write lock.
  Status CheckNewKeysLocked(std::span<const NewChild> children);
  Status MakeChunkDir(std::string* dir);
  void RemoveTempDir();

  ChildStore* store_;
  Options options_;
  Stats stats_;
  Status failed_;                         // sticky: the first chunk that failed
  std::unique_ptr<Pipeline> pipeline_;    // the stage and its builder; null until an Add
  size_t staged_ = 0;                     // children staged, not yet ingested
  KeyFingerprintSet keys_;                // SourceKey of every child staged or ingested
  ChildId reserved_end_ = 0;              // one past the last id this loader reserved
  ChildId give_back_from_ = 0;            // [this, reserved_end_): reserved, unwritten
  uint64_t last_sequence_ = 0;            // the database's sequence number when last locked
  bool foreign_links_ = false;            // the store may hold links this loader did not ingest
  bool recheck_staged_ = false;           // another writer wrote while children were staged
  bool created_temp_dir_ = false;
};

}  // namespace cp
