// BulkLoader: staged children built into SST files and ingested in one atomic step.
#include "storage/bulk_loader.h"

#include <rocksdb/iterator.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <rocksdb/table.h>
#include <stdlib.h>
#include <sys/mman.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <thread>
#include <unordered_map>
#include <utility>

#include "storage/child_store_internal.h"
#include "util/coding.h"
#include "util/parallel.h"

namespace cp {
namespace {

// The families a new child writes (AppendNewChildEntries), in a fixed order.
constexpr size_t kFamilies = 6;

// A family is split into several files, written by several threads, only when each file
// gets at least this many entries: below it a file's fixed costs (open, index, filter,
// footer, an ingest to place it) outweigh what the second thread saves.
constexpr size_t kMinEntriesPerFile = size_t{1} << 16;

// Children are handed to the building threads in blocks of this many: enough to make the
// hand-off cheap, few enough that the last block of a chunk is built quickly.
constexpr size_t kBlockChildren = 1024;

// A family's entries are sorted in pieces of at least this many, in parallel; each sorted
// piece is a run that the file writer merges.
constexpr size_t kMinSortPiece = size_t{1} << 15;

// Data block size of the loader's files (RocksDB's default, the families', is 4 KB).
constexpr size_t kLoaderBlockBytes = size_t{16} << 10;

// How far ahead of the merge an entry's bytes are fetched into the cache. Sorted entries
// point all over the arena, and the cache misses cost more than the table building.
constexpr size_t kPrefetchDistance = 16;

// A chunk's keys and values, in blocks that never move, so that entries can point into
// them. Millions of small strings would cost more to allocate, sort (moving them) and free
// than building the entries does. Reset keeps the blocks for the next chunk: fresh memory
// costs a page fault per 4 KB.
class Arena {
 public:
  char* Allocate(size_t n) {
    while (n > left_) {
      if (used_ == blocks_.size()) {
        blocks_.push_back(NewBlock(n));
      }
      Block& block = blocks_[used_++];
      next_ = block.bytes.get();
      left_ = block.size;
    }
    char* p = next_;
    next_ += n;
    left_ -= n;
    return p;
  }
  void Reset() {
    used_ = 0;
    next_ = nullptr;
    left_ = 0;
  }

 private:
  static constexpr size_t kBlockBytes = size_t{4} << 20;
  static constexpr size_t kHugePage = size_t{2} << 20;
  struct Free {
    void operator()(char* p) const { std::free(p); }
  };
  struct Block {
    std::unique_ptr<char[], Free> bytes;
    size_t size;
  };

  // Blocks are on huge pages where the kernel grants them (transparent huge pages in
  // "madvise" mode): the writers read entries in key order, each from anywhere in the
  // arena, and with 4 KB pages nearly every entry was a TLB miss as well as a cache miss:
  // perf put 12% of a 1M import's samples on one load in the merge loop.
  static Block NewBlock(size_t n) {
    const size_t size = (std::max(n, kBlockBytes) + kHugePage - 1) / kHugePage * kHugePage;
    char* p = static_cast<char*>(std::aligned_alloc(kHugePage, size));
    if (p == nullptr) throw std::bad_alloc();
    ::madvise(p, size, MADV_HUGEPAGE);  // advice only: without it, 4 KB pages
    return Block{std::unique_ptr<char[], Free>(p), size};
  }
  std::vector<Block> blocks_;
  size_t used_ = 0;  // blocks_[0, used_) hold this chunk's bytes
  char* next_ = nullptr;
  size_t left_ = 0;
};

// The first 8 bytes of key[from...], big-endian, zero-padded. Three per entry, some 90 per
// child: a byte loop here cost more than the comparisons it saves.
uint64_t KeyHead(std::string_view key, size_t from) {
  unsigned char bytes[8] = {};
  if (from < key.size()) std::memcpy(bytes, key.data() + from, std::min<size_t>(8, key.size() - from));
  uint64_t head;
  std::memcpy(&head, bytes, 8);
  return __builtin_bswap64(head);
}

// One key-value pair in an arena. The key's first 24 bytes, as integers, decide almost
// every comparison without a memcmp: they cover the whole of a name posting key up to a
// 7-byte token (kind, token, birth year and month, child id), a record's, a place
// posting's and most source and identifier keys.
struct Item {
  uint64_t head0;
  uint64_t head1;
  uint64_t head2;
  const char* data;  // key, then value
  uint32_t key_size;
  uint32_t value_size;

  std::string_view key() const { return std::string_view(data, key_size); }
  std::string_view value() const { return std::string_view(data + key_size, value_size); }
};

bool ItemLess(const Item& a, const Item& b) {
  if (a.head0 != b.head0) return a.head0 < b.head0;
  if (a.head1 != b.head1) return a.head1 < b.head1;
  if (a.head2 != b.head2) return a.head2 < b.head2;
  return a.key() < b.key();  // equal heads (or zero padding): the whole key decides
}

// ItemLess as a type of its own: passed as a function pointer, std::sort and lower_bound
// called it through the pointer, once per comparison, instead of inlining it.
struct ByKey {
  bool operator()(const Item& a, const Item& b) const { return ItemLess(a, b); }
};

// Byte `byte` (0..23) of the key heads: byte 0 is the key's first byte.
inline uint8_t HeadByte(const Item& item, size_t byte) {
  const uint64_t head = byte < 8 ? item.head0 : byte < 16 ? item.head1 : item.head2;
  return static_cast<uint8_t>(head >> (56 - 8 * (byte % 8)));
}

// Below this many items a bucket is finished by std::sort: a radix pass costs two sweeps
// and 256 counters whatever the bucket's size.
constexpr size_t kRadixSmall = 64;

// Sorts `items` as ByKey does: in place, most significant byte first over the 24 bytes the
// heads hold (American flag sort), then std::sort for small buckets and for items whose
// heads are all equal. std::sort compared each item some 20 times; here it is moved about
// once a byte, and a byte with one value in a bucket costs one counting sweep. Callgrind,
// 100,000-row import: sorting ~0.85 G -> ~0.65 G instructions (of 17.5 G).
void RadixSortItems(std::span<Item> items, size_t byte = 0) {
  while (true) {
    if (items.size() <= kRadixSmall || byte == 24) {
      std::sort(items.begin(), items.end(), ByKey());
      return;
    }
    std::array<size_t, 256> count{};
    for (const Item& item : items) ++count[HeadByte(item, byte)];
    if (count[HeadByte(items.front(), byte)] == items.size()) {
      ++byte;  // one value here: nothing to move
      continue;
    }
    std::array<size_t, 256> next, end;
    size_t at = 0;
    for (size_t b = 0; b < 256; ++b) {
      next[b] = at;
      at += count[b];
      end[b] = at;
    }
    for (size_t b = 0; b < 256; ++b) {
      while (next[b] < end[b]) {
        Item item = items[next[b]];
        size_t d = HeadByte(item, byte);
        while (d != b) {
          std::swap(item, items[next[d]++]);
          d = HeadByte(item, byte);
        }
        items[next[b]++] = item;
      }
    }
    size_t from = 0;
    for (size_t b = 0; b < 256; ++b) {
      if (count[b] > 1) RadixSortItems(items.subspan(from, count[b]), byte + 1);
      from += count[b];
    }
    return;
  }
}

bool SameKey(const Item& a, const Item& b) {
  return a.head0 == b.head0 && a.head1 == b.head1 && a.head2 == b.head2 && a.key() == b.key();
}

// One building thread's entries of a chunk, by family, in the order built.
struct Slice {
  Arena arena;
  std::array<std::vector<Item>, kFamilies> family;
  Status status;

  void Reset() {
    arena.Reset();
    for (auto& items : family) items.clear();
    status = Status::OK();
  }
};

// Staged children, in id order. A block is built only once it is full (or its chunk is
// complete) and is not written to again until its chunk is ingested or dropped.
struct StageBlock {
  std::vector<NewChild> children;  // [0, count) staged; the rest spares, assigned over
  size_t count = 0;                // so that their buffers are reused
};

// What building one child needs.
struct BuildContext {
  ChildStore::Handles* h;
  const Crypto* crypto;
  const IndexPolicy* policy;
  std::array<rocksdb::ColumnFamilyHandle*, kFamilies> families;
};

// Copies each entry straight into the slice's arena: building them as strings in a list
// first cost two allocations and a copy per entry, some 90 entries per child.
class ArenaWriter : public EntryWriter {
 public:
  ArenaWriter(const BuildContext& ctx, Slice* slice) : ctx_(ctx), slice_(slice) {}
  void Put(rocksdb::ColumnFamilyHandle* cf, std::string_view key, std::string_view value) override {
    if (!slice_->status.ok()) return;
    const size_t f = std::find(ctx_.families.begin(), ctx_.families.end(), cf) - ctx_.families.begin();
    if (f == kFamilies) {
      slice_->status = Status::Corruption("an entry for an unexpected column family");
    } else if (key.size() + value.size() > UINT32_MAX) {
      slice_->status = Status::InvalidArgument("an entry of 4 GB or more");
    } else {
      char* data = slice_->arena.Allocate(key.size() + value.size());
      std::memcpy(data, key.data(), key.size());
      std::memcpy(data + key.size(), value.data(), value.size());
      slice_->family[f].push_back(Item{KeyHead(key, 0), KeyHead(key, 8), KeyHead(key, 16), data,
                                       static_cast<uint32_t>(key.size()),
                                       static_cast<uint32_t>(value.size())});
    }
  }

 private:
  const BuildContext& ctx_;
  Slice* slice_;
};

// Appends the entries of a block's children to `slice`. After a failure the slice keeps
// its status and builds nothing more.
void BuildBlock(const BuildContext& ctx, const StageBlock& block, Slice* slice) {
  ArenaWriter writer(ctx, slice);
  for (size_t i = 0; i < block.count && slice->status.ok(); ++i) {
    Status s = AppendNewChildEntries(ctx.h, *ctx.crypto, *ctx.policy, block.children[i], &writer);
    if (!s.ok() && slice->status.ok()) slice->status = s;
  }
}

using Run = std::span<const Item>;

// One SST file: the sorted runs (or key ranges of them) merged into it.
struct FilePlan {
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::vector<Run> runs;
  size_t entries = 0;
  std::string path;
  size_t written = 0;
  Status status;
};

// Opens an SST writer with the family's own options (table format, block size, bloom
// filter, prefix extractor), compressed as the family's flushes are (LZ4) rather than as
// its bottommost compactions are (ZSTD): ZSTD took 40% of the time to write a chunk and
// held a 200,000-child load to 45,000 children/s against 55,000. The next compaction of
// the bottommost level (ChildStore::CompactAll after an import) recompresses the files.
// The page cache is kept: the files are read again soon, by compactions and searches.
Status OpenWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& path,
                  std::unique_ptr<rocksdb::SstFileWriter>* writer) {
  rocksdb::Options options = db->GetOptions(cf);
  options.bottommost_compression = rocksdb::kDisableCompressionOption;
  if (const auto* family_table = options.table_factory->GetOptions<rocksdb::BlockBasedTableOptions>()) {
    rocksdb::BlockBasedTableOptions table = *family_table;
    table.block_size = std::max<size_t>(table.block_size, kLoaderBlockBytes);
    options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  }
  writer->reset(new rocksdb::SstFileWriter(rocksdb::EnvOptions(options), options, cf,
                                           /*invalidate_page_cache=*/false));
  return FromRocks((*writer)->Open(path), "creating " + path);
}

// Merges the plan's sorted runs into its file. Keys are unique, since every key holds a
// new child id or a source key checked to be new; the one exception would be an index
// policy that names a term twice, where the same pair twice is stored once (as a
// WriteBatch would) and two values for one key are refused.
Status WriteFile(rocksdb::DB* db, FilePlan* plan) {
  std::unique_ptr<rocksdb::SstFileWriter> writer;
  Status s = OpenWriter(db, plan->cf, plan->path, &writer);
  if (!s.ok()) return s;
  std::vector<Run> runs = plan->runs;
  const Item* last = nullptr;
  while (true) {
    size_t best = runs.size();
    for (size_t i = 0; i < runs.size(); ++i) {
      if (runs[i].empty()) continue;
      if (best == runs.size() || ItemLess(runs[i].front(), runs[best].front())) best = i;
    }
    if (best == runs.size()) break;
    const Item& e = runs[best].front();
    runs[best] = runs[best].subspan(1);
    if (runs[best].size() > kPrefetchDistance) {
      __builtin_prefetch(runs[best][kPrefetchDistance].data);
    }
    if (last != nullptr && SameKey(*last, e)) {
      if (last->value() == e.value()) continue;
      return Status::InvalidArgument("two values for one key in " + plan->cf->GetName() +
                                     ": does the index policy name a term twice?");
    }
    const std::string_view key = e.key(), value = e.value();
    // The message only on failure: built for every entry (a string concatenation and an
    // allocation), it was ~3% of an import's instructions.
    const rocksdb::Status put = writer->Put(rocksdb::Slice(key.data(), key.size()),
                                            rocksdb::Slice(value.data(), value.size()));
    if (!put.ok()) return FromRocks(put, "writing " + plan->path);
    last = &e;
    ++plan->written;
  }
  return FromRocks(writer->Finish(), "finishing " + plan->path);
}

// Splits one family's sorted runs into up to `threads` files of disjoint key ranges and
// about equal size, at quantiles of keys sampled evenly from every run.
void PlanFamily(rocksdb::ColumnFamilyHandle* cf, const std::vector<Run>& runs, int threads,
                std::vector<FilePlan>* plans) {
  constexpr size_t kSamplesPerRun = 256;
  size_t total = 0;
  for (const auto& run : runs) total += run.size();
  if (total == 0) return;
  const size_t parts =
      std::clamp<size_t>(total / kMinEntriesPerFile, 1, static_cast<size_t>(threads));
  std::vector<Item> samples;
  if (parts > 1) {
    for (const auto& run : runs) {
      for (size_t k = 0; k < kSamplesPerRun && !run.empty(); ++k) {
        samples.push_back(run[k * run.size() / kSamplesPerRun]);
      }
    }
    std::sort(samples.begin(), samples.end(), ByKey());
  }
  std::vector<Item> pivots;  // part p covers [pivots[p-1], pivots[p])
  for (size_t p = 1; p < parts; ++p) pivots.push_back(samples[p * samples.size() / parts]);
  for (size_t p = 0; p <= pivots.size(); ++p) {
    FilePlan plan;
    plan.cf = cf;
    for (const auto& run : runs) {
      auto begin =
          p == 0 ? run.begin() : std::lower_bound(run.begin(), run.end(), pivots[p - 1], ByKey());
      auto end = p == pivots.size() ? run.end()
                                    : std::lower_bound(run.begin(), run.end(), pivots[p], ByKey());
      if (begin >= end) continue;
      plan.runs.push_back(run.subspan(begin - run.begin(), end - begin));
      plan.entries += plan.runs.back().size();
    }
    if (plan.entries > 0) plans->push_back(std::move(plan));
  }
}

// "<db_dir>.bulk", beside the database (a trailing slash would put it inside).
std::string DefaultTempDir(const std::string& db_dir) {
  std::filesystem::path path(db_dir);
  if (!path.has_filename()) path = path.parent_path();
  return path.string() + ".bulk";
}

// Removes a chunk's directory and whatever is left in it, on every path out.
struct ChunkDirGuard {
  std::string dir;
  ~ChunkDirGuard() {
    if (dir.empty()) return;
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

}  // namespace

// While loaders run on a database, RocksDB's L0 triggers of the families they write are
// raised. Ingested files whose keys overlap an earlier chunk's (every family but children
// and hidden, which are keyed by new ids) land in L0, and from the fourth such file RocksDB
// merged L0 into the bottommost level, recompressing it with ZSTD, while the load went on:
// at 1M children that background compaction took about an eighth of the import's CPU
// (perf), on a machine where the import keeps both cores busy, and ChildStore::CompactAll
// after an import rewrites those files again. The triggers stay finite, so a very large
// load still compacts (and writers still slow down) rather than piling up L0 files without
// bound. The first loader of a database raises them, the last one restores what it found;
// the raised values are never written anywhere the next Open reads (ChildStore::Open sets
// every family's options from code), so a crash mid-load leaves nothing behind. The base
// level's size is raised likewise (kLoadLevelBase).
class CompactionDeferral {
 public:
  CompactionDeferral(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> families)
      : db_(db), families_(std::move(families)) {
    std::lock_guard<std::mutex> lock(Mu());
    State& state = Registry()[db_];
    if (state.loaders++ > 0) return;
    for (auto* cf : families_) {
      const rocksdb::Options o = db_->GetOptions(cf);
      state.saved.push_back(
          {{"level0_file_num_compaction_trigger", std::to_string(o.level0_file_num_compaction_trigger)},
           {"level0_slowdown_writes_trigger", std::to_string(o.level0_slowdown_writes_trigger)},
           {"level0_stop_writes_trigger", std::to_string(o.level0_stop_writes_trigger)},
           {"max_bytes_for_level_base", std::to_string(o.max_bytes_for_level_base)}});
      // Failure only leaves the defaults: the load is as correct, and slower.
      db_->SetOptions(cf, {{"level0_file_num_compaction_trigger", std::to_string(kLoadTrigger)},
                           {"level0_slowdown_writes_trigger", std::to_string(2 * kLoadTrigger)},
                           {"level0_stop_writes_trigger", std::to_string(3 * kLoadTrigger)},
                           {"max_bytes_for_level_base", std::to_string(kLoadLevelBase)}})
          .PermitUncheckedError();
    }
  }
  ~CompactionDeferral() {
    std::lock_guard<std::mutex> lock(Mu());
    auto it = Registry().find(db_);
    if (--it->second.loaders > 0) return;
    for (size_t i = 0; i < families_.size() && i < it->second.saved.size(); ++i) {
      db_->SetOptions(families_[i], it->second.saved[i]).PermitUncheckedError();
    }
    Registry().erase(it);
  }
  CompactionDeferral(const CompactionDeferral&) = delete;
  CompactionDeferral& operator=(const CompactionDeferral&) = delete;

 private:
  // L0 files before a compaction, while loading: 64 chunks of a family split in two, 16M
  // children at the default chunk. At 16 (8 chunks), a 12M import merged the name index's
  // L0 into the bottommost level every 2M children, each time rewriting with ZSTD all that
  // was loaded so far (the first merge alone: 22.8M entries, 11.4 s of CPU), work that
  // ChildStore::CompactAll after the import does once anyway.
  static constexpr int kLoadTrigger = 128;
  // The families' small base level (16 MB, for feed writes after an import: see
  // FamilyOptions in child_store.cc) made ingested files cascade down the levels while the
  // load ran: 12 s more CPU for 1M children. RocksDB's default (256 MB) was no better at
  // scale: with level_compaction_dynamic_level_bytes, L0 is also due for compaction once
  // its bytes reach the base level's, whatever the file count, so every ~256 MB of a
  // family's chunks merged all of L0 into the bottommost level, rewriting with ZSTD all
  // that family had loaded so far. The work per row grew with the database: 26 s of 144 s
  // CPU at 3M children, and a 12M import took 23 times the CPU of 1M. While loading, the
  // base level is made too large for L0's size ever to reach it: only the file count
  // (kLoadTrigger) starts a compaction.
  static constexpr uint64_t kLoadLevelBase = uint64_t{1} << 50;
  struct State {
    int loaders = 0;
    std::vector<std::unordered_map<std::string, std::string>> saved;  // per family
  };
  static std::mutex& Mu() {
    static std::mutex mu;
    return mu;
  }
  static std::map<rocksdb::DB*, State>& Registry() {
    static std::map<rocksdb::DB*, State> registry;
    return registry;
  }

  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> families_;
};

// The stage, and the threads that build it. While the caller adds children (and reads and
// parses them, between calls), one builder thread turns full blocks into entries; when a
// chunk is complete, the caller's thread and `threads - 2` more help with what is left.
struct BulkLoader::Pipeline {
  BuildContext ctx;
  std::vector<std::unique_ptr<StageBlock>> blocks;  // [0, used): this chunk's, in id order
  size_t used = 0;
  StageBlock* open = nullptr;  // the block being filled; not yet queued

  std::mutex mu;
  std::condition_variable wake;  // the builder: a block is queued, or stop
  std::condition_variable idle;  // the caller: the builder finished a block
  std::deque<const StageBlock*> queue;
  bool busy = false;
  bool stop = false;
  Slice builder_slice;
  std::thread builder;  // started with the first block when threads >= 2

  std::vector<Slice> helper_slices;
  std::unique_ptr<CompactionDeferral> deferral;  // for as long as the pipeline lives

  ~Pipeline() { StopBuilder(); }

  void StopBuilder() {
    {
      std::lock_guard<std::mutex> lock(mu);
      stop = true;
      queue.clear();
    }
    wake.notify_all();
    if (builder.joinable()) builder.join();
  }

  void BuilderLoop() {
    std::unique_lock<std::mutex> lock(mu);
    while (true) {
      wake.wait(lock, [&] { return stop || !queue.empty(); });
      if (stop) return;
      const StageBlock* block = queue.front();
      queue.pop_front();
      busy = true;
      lock.unlock();
      BuildBlock(ctx, *block, &builder_slice);
      lock.lock();
      busy = false;
      idle.notify_all();
    }
  }

  StageBlock* NewBlock() {
    if (used == blocks.size()) blocks.push_back(std::make_unique<StageBlock>());
    StageBlock* block = blocks[used++].get();
    block->count = 0;
    return block;
  }

  void Queue(StageBlock* block, int threads) {
    if (threads >= 2 && !builder.joinable()) builder = std::thread([this] { BuilderLoop(); });
    {
      std::lock_guard<std::mutex> lock(mu);
      queue.push_back(block);
    }
    wake.notify_one();
  }

  // Builds whatever is still queued, on the caller's thread and `helpers - 1` more next to
  // the builder, and waits until the builder is idle.
  void Drain(int helpers) {
    if (open != nullptr) {
      if (open->count > 0) Queue(open, 1);
      open = nullptr;
    }
    helper_slices.resize(static_cast<size_t>(std::max(helpers, 1)));
    ParallelFor(helper_slices.size(), helpers, [&](size_t t) {
      while (true) {
        const StageBlock* block;
        {
          std::lock_guard<std::mutex> lock(mu);
          if (queue.empty()) return;
          block = queue.front();
          queue.pop_front();
        }
        BuildBlock(ctx, *block, &helper_slices[t]);
      }
    });
    std::unique_lock<std::mutex> lock(mu);
    idle.wait(lock, [&] { return !busy && queue.empty(); });
  }

  // After a chunk is ingested or dropped. Requires the builder idle.
  void Reset() {
    used = 0;
    open = nullptr;
    builder_slice.Reset();
    for (auto& slice : helper_slices) slice.Reset();
  }

  template <typename Fn>
  void ForEachStaged(const Fn& fn) const {
    for (size_t b = 0; b < used; ++b) {
      for (size_t i = 0; i < blocks[b]->count; ++i) fn(blocks[b]->children[i]);
    }
  }
};

BulkLoader::BulkLoader(ChildStore* store, Options options)
    : store_(store), options_(std::move(options)) {
  if (options_.temp_dir.empty()) options_.temp_dir = DefaultTempDir(store_->db_dir());
  options_.chunk_children = std::max<size_t>(options_.chunk_children, 1);
  options_.threads = std::max(options_.threads, 1);
  // While every source link in the store is one this loader ingested, keys_ alone answers
  // "is this key linked?", and Add need not ask the store once per child.
  std::lock_guard<std::mutex> lock(store_->write_mu_);
  ChildStore::Handles* h = store_->h_.get();
  last_sequence_ = h->db->GetLatestSequenceNumber();
  std::unique_ptr<rocksdb::Iterator> it(h->db->NewIterator(rocksdb::ReadOptions(), h->sources));
  it->SeekToFirst();
  foreign_links_ = it->Valid() || !it->status().ok();
}

BulkLoader::~BulkLoader() {
  if (pipeline_ != nullptr) pipeline_->StopBuilder();
  if (staged_ > 0) {
    std::lock_guard<std::mutex> lock(store_->write_mu_);
    DropStageLocked();
  }
  RemoveTempDir();
}

// Every write advances the database's sequence number, an ingest included: an ingest
// always overlaps the id counter already in meta, so it takes a new one too.
void BulkLoader::NoteForeignWritesLocked() {
  const uint64_t now = store_->h_->db->GetLatestSequenceNumber();
  if (now != last_sequence_) {
    foreign_links_ = true;
    if (staged_ > 0) recheck_staged_ = true;
  }
  last_sequence_ = now;
}

void BulkLoader::DropStageLocked() {
  // Ids [give_back_from_, reserved_end_) are this loader's and unwritten; they are given
  // back only while no one has allocated an id after them. Otherwise they stay a gap,
  // which is harmless.
  if (store_->next_id_.load() == reserved_end_ && give_back_from_ < reserved_end_) {
    store_->next_id_ = give_back_from_;
    reserved_end_ = give_back_from_;
  }
  if (pipeline_ != nullptr) pipeline_->Reset();
  staged_ = 0;
  recheck_staged_ = false;
}

Result<std::vector<ChildId>> BulkLoader::Add(std::span<NewChild> children) {
  return AddImpl(children, /*move=*/false);
}

Result<std::vector<ChildId>> BulkLoader::AddMoving(std::span<NewChild> children) {
  return AddImpl(children, /*move=*/true);
}

// Nothing is inserted into keys_ until the whole call is accepted, so that a refused call
// leaves no trace. A fingerprint already in keys_ is a duplicate only if the key itself is
// staged or linked: the one case of two keys with one fingerprint is let through.
Status BulkLoader::CheckNewKeysLocked(std::span<const NewChild> children) {
  std::vector<std::pair<uint64_t, size_t>> call;  // fingerprint, index in the call
  call.reserve(children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    const SourceRef& source = children[i].source;
    if (source.source.empty() || source.source.size() > 255) {
      return Status::InvalidArgument("a source name must be 1 to 255 bytes");
    }
    const std::string key = keys::SourceKey(source.source, source.key);
    call.emplace_back(options_.key_fingerprint != nullptr ? options_.key_fingerprint(key)
                                                          : KeyFingerprintSet::Fingerprint(key),
                      i);
  }
  auto refuse = [](const SourceRef& source, const std::string& why) {
    return Status::AlreadyExists("source " + source.source + " key '" + source.key + "' " + why);
  };
  // Repeats within the call: equal fingerprints, then equal keys, every pair of a group
  // (a group of more than one is a repeat, or very rarely a collision).
  std::vector<std::pair<uint64_t, size_t>> sorted = call;
  std::sort(sorted.begin(), sorted.end());
  for (size_t first = 0, end = 0; first < sorted.size(); first = end) {
    for (end = first + 1; end < sorted.size() && sorted[end].first == sorted[first].first;) ++end;
    for (size_t i = first; i < end; ++i) {
      for (size_t j = i + 1; j < end; ++j) {
        const SourceRef& later = children[sorted[j].second].source;
        if (children[sorted[i].second].source == later) return refuse(later, "appears twice");
      }
    }
  }
  for (const auto& [fingerprint, i] : call) {
    const SourceRef& source = children[i].source;
    if (keys_.Contains(fingerprint)) {
      bool staged = false;
      if (pipeline_ != nullptr) {
        pipeline_->ForEachStaged([&](const NewChild& c) { staged = staged || c.source == source; });
      }
      if (staged) return refuse(source, "was added earlier to this bulk load");
      auto linked = store_->FindSource(source.source, source.key);
      if (linked.ok()) {
        return refuse(source, "was added earlier to this bulk load (child " +
                                  std::to_string(linked->child) + ")");
      }
      if (!linked.status().IsNotFound()) return linked.status();
      continue;  // another key's fingerprint, and the store was asked already
    }
    if (!foreign_links_) continue;
    auto linked = store_->FindSource(source.source, source.key);
    if (linked.ok()) {
      return refuse(source, "is already linked to child " + std::to_string(linked->child));
    }
    if (!linked.status().IsNotFound()) return linked.status();
  }
  for (const auto& [fingerprint, i] : call) keys_.Insert(fingerprint);
  return Status::OK();
}

Result<std::vector<ChildId>> BulkLoader::AddImpl(std::span<NewChild> children, bool move) {
  if (!failed_.ok()) return failed_;
  std::vector<ChildId> ids;
  if (children.empty()) return ids;
  {
    // The store's write lock makes "no such key yet" and the ids reserved below one step
    // against InsertChildren, as it is inside InsertChildren.
    std::lock_guard<std::mutex> lock(store_->write_mu_);
    NoteForeignWritesLocked();
    Status refused = CheckNewKeysLocked(children);
    if (!refused.ok()) return refused;
    // Reserved now, not when ingested: InsertChildren may run before this chunk is ingested
    // and must not hand out the same ids. The durable counter follows with the ingest.
    const ChildId first = store_->next_id_.load();
    if (first != reserved_end_) give_back_from_ = first;
    ChildId next = first;
    ids.reserve(children.size());
    for (auto& c : children) {
      ChildRecord& r = c.record;
      r.id = next++;
      if (std::find(r.sources.begin(), r.sources.end(), c.source) == r.sources.end()) {
        r.sources.push_back(c.source);
      }
      ids.push_back(r.id);
    }
    store_->next_id_ = next;
    reserved_end_ = next;
  }

  if (pipeline_ == nullptr) {
    pipeline_ = std::make_unique<Pipeline>();
    ChildStore::Handles* h = store_->h_.get();
    pipeline_->ctx = BuildContext{
        h,
        store_->crypto_.get(),
        store_->options_.policy,
        {h->children, h->hidden, h->sources, h->name_index, h->id_index, h->place_index}};
    pipeline_->deferral = std::make_unique<CompactionDeferral>(
        h->db, std::vector<rocksdb::ColumnFamilyHandle*>(pipeline_->ctx.families.begin(),
                                                         pipeline_->ctx.families.end()));
  }
  Pipeline& p = *pipeline_;
  for (auto& c : children) {
    if (p.open == nullptr) p.open = p.NewBlock();
    StageBlock& block = *p.open;
    if (block.count == block.children.size()) block.children.emplace_back();
    if (move) {
      block.children[block.count] = std::move(c);
    } else {
      block.children[block.count] = c;
    }
    ++block.count;
    ++staged_;
    if (block.count == kBlockChildren) {
      p.Queue(p.open, options_.threads);
      p.open = nullptr;
    }
    if (staged_ == options_.chunk_children) {
      Status s = IngestStaged();
      if (!s.ok()) return s;
    }
  }
  return ids;
}

Status BulkLoader::Finish() {
  if (!failed_.ok()) return failed_;
  Status s;
  if (staged_ > 0) s = IngestStaged();
  // The buffers are worth keeping between chunks, not between loads.
  pipeline_.reset();
  RemoveTempDir();
  return s;
}

Status BulkLoader::IngestStaged() {
  Status s = IngestChunk();
  std::lock_guard<std::mutex> lock(store_->write_mu_);
  if (!s.ok()) {
    failed_ = s;
    DropStageLocked();
  } else {
    pipeline_->Reset();
    staged_ = 0;
    recheck_staged_ = false;
  }
  if (!s.ok()) RemoveTempDir();
  return s;
}

Status BulkLoader::MakeChunkDir(std::string* dir) {
  std::error_code ec;
  if (std::filesystem::create_directories(options_.temp_dir, ec)) created_temp_dir_ = true;
  if (ec) {
    return Status::IOError("creating bulk-load directory " + options_.temp_dir + ": " +
                           ec.message());
  }
  // A directory per chunk: two loaders sharing temp_dir never touch each other's files.
  std::string pattern = options_.temp_dir + "/chunk-XXXXXX";
  if (::mkdtemp(pattern.data()) == nullptr) {
    return Status::IOError("creating a directory in " + options_.temp_dir + ": " +
                           std::strerror(errno));
  }
  *dir = std::move(pattern);
  return Status::OK();
}

void BulkLoader::RemoveTempDir() {
  if (!created_temp_dir_) return;
  // Only when empty: another loader may be using it.
  std::error_code ec;
  std::filesystem::remove(options_.temp_dir, ec);
  if (!ec) created_temp_dir_ = false;
}

Status BulkLoader::IngestChunk() {
  Pipeline& p = *pipeline_;
  const BuildContext& ctx = p.ctx;
  ChildStore::Handles* h = ctx.h;

  // Build what the builder has not, then sort: each family's lists are cut into pieces,
  // sorted in parallel, and each piece is a run for the file writer to merge. Records and
  // hidden fields are built in id order and need no sorting.
  p.Drain(options_.threads >= 2 ? options_.threads - 1 : 1);
  std::vector<Slice*> slices = {&p.builder_slice};
  for (auto& slice : p.helper_slices) slices.push_back(&slice);
  std::array<size_t, kFamilies> totals{};
  for (const Slice* slice : slices) {
    if (!slice->status.ok()) return slice->status;
    for (size_t f = 0; f < kFamilies; ++f) totals[f] += slice->family[f].size();
  }
  std::array<std::vector<std::span<Item>>, kFamilies> pieces;
  std::vector<std::span<Item>> to_sort;
  for (size_t f = 0; f < kFamilies; ++f) {
    const size_t piece = std::max(
        kMinSortPiece, (totals[f] + options_.threads - 1) / static_cast<size_t>(options_.threads));
    for (Slice* slice : slices) {
      std::span<Item> items(slice->family[f]);
      for (size_t at = 0; at < items.size(); at += piece) {
        pieces[f].push_back(items.subspan(at, std::min(piece, items.size() - at)));
        to_sort.push_back(pieces[f].back());
      }
    }
  }
  std::sort(to_sort.begin(), to_sort.end(),
            [](const auto& a, const auto& b) { return a.size() > b.size(); });
  ParallelFor(to_sort.size(), options_.threads, [&](size_t i) {
    if (!std::is_sorted(to_sort[i].begin(), to_sort[i].end(), ByKey())) {
      RadixSortItems(to_sort[i]);
    }
  });

  // Write: one or more files per family, the largest first so that the threads finish
  // together.
  std::vector<FilePlan> plans;
  for (size_t f = 0; f < kFamilies; ++f) {
    std::vector<Run> runs(pieces[f].begin(), pieces[f].end());
    PlanFamily(ctx.families[f], runs, options_.threads, &plans);
  }
  std::stable_sort(plans.begin(), plans.end(),
                   [](const FilePlan& a, const FilePlan& b) { return a.entries > b.entries; });
  ChunkDirGuard guard;
  Status s = MakeChunkDir(&guard.dir);
  if (!s.ok()) return s;
  for (size_t i = 0; i < plans.size(); ++i) {
    plans[i].path = guard.dir + "/" + plans[i].cf->GetName() + "-" + std::to_string(i) + ".sst";
  }
  ParallelFor(plans.size(), options_.threads,
              [&](size_t i) { plans[i].status = WriteFile(h->db, &plans[i]); });
  size_t entries = 0;
  for (const auto& plan : plans) {
    if (!plan.status.ok()) return plan.status;
    entries += plan.written;
  }

  // Ingest every family's files and the id counter at once, under the store's write lock
  // so that the counter written is the store's current one, past every id handed out.
  std::lock_guard<std::mutex> lock(store_->write_mu_);
  NoteForeignWritesLocked();
  if (recheck_staged_) {
    Status linked_meanwhile;
    p.ForEachStaged([&](const NewChild& c) {
      if (!linked_meanwhile.ok()) return;
      auto linked = store_->FindSource(c.source.source, c.source.key);
      if (linked.ok()) {
        // Not AlreadyExists: that would say "this call was refused, nothing staged", and
        // a caller could go on adding to a load that has ended.
        linked_meanwhile = Status::FailedPrecondition(
            "source " + c.source.source + " key '" + c.source.key + "' was linked to child " +
            std::to_string(linked->child) + " while it waited in a bulk load");
      } else if (!linked.status().IsNotFound()) {
        linked_meanwhile = linked.status();
      }
    });
    if (!linked_meanwhile.ok()) return linked_meanwhile;
  }
  // The counter goes in as a file of the meta family rather than as a Put after the
  // ingest: a crash between the two would leave the counter behind ingested children,
  // and the next insert would overwrite one.
  const std::string meta_path = guard.dir + "/meta.sst";
  {
    std::unique_ptr<rocksdb::SstFileWriter> writer;
    s = OpenWriter(h->db, h->meta, meta_path, &writer);
    if (s.ok()) {
      s = FromRocks(
          writer->Put(std::string(keys::kMetaNextChildId), BigEndian64(store_->next_id_.load())),
          "writing " + meta_path);
    }
    if (s.ok()) s = FromRocks(writer->Finish(), "finishing " + meta_path);
    if (!s.ok()) return s;
  }
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  // The sequence number lives in the MANIFEST only; no write into the moved file.
  ingest.write_global_seqno = false;
  std::vector<rocksdb::IngestExternalFileArg> args;
  for (const auto& plan : plans) {
    auto arg = std::find_if(args.begin(), args.end(),
                            [&](const auto& a) { return a.column_family == plan.cf; });
    if (arg == args.end()) {
      args.emplace_back();
      arg = args.end() - 1;
      arg->column_family = plan.cf;
      arg->options = ingest;
    }
    arg->external_files.push_back(plan.path);
  }
  args.emplace_back();
  args.back().column_family = h->meta;
  args.back().external_files.push_back(meta_path);
  args.back().options = ingest;
  s = FromRocks(h->db->IngestExternalFiles(args), "ingesting a bulk-load chunk");
  if (!s.ok()) return s;
  last_sequence_ = h->db->GetLatestSequenceNumber();
  // The chunk's ids are written: none of them can be given back any more.
  const StageBlock& last = *p.blocks[p.used - 1];
  give_back_from_ = std::max(give_back_from_, last.children[last.count - 1].record.id + 1);
  stats_.children += staged_;
  stats_.chunks += 1;
  stats_.entries += entries;
  return Status::OK();
}

}  // namespace cp
