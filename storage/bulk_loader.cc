// BulkLoader: staged children built into SST files and ingested in one atomic step.
#include "storage/bulk_loader.h"

#include <rocksdb/options.h>
#include <rocksdb/sst_file_writer.h>
#include <stdlib.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <thread>
#include <utility>
#include <chrono>
#include <cstdio>
static double TNow(){return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();}

#include "storage/child_store_internal.h"
#include "util/coding.h"

namespace cp {
namespace {

// The families a new child writes (AppendNewChildEntries), in a fixed order.
constexpr size_t kFamilies = 6;

// A family is split into several files, written by several threads, only when each file
// gets at least this many entries: below it a file's fixed costs (open, index, filter,
// footer, an ingest to place it) outweigh what the second thread saves.
constexpr size_t kMinEntriesPerFile = size_t{1} << 16;

bool KeyLess(const Entry& a, const Entry& b) { return a.key < b.key; }

// One building thread's entries of one family, sorted by key.
using Run = std::span<const Entry>;

// One SST file: the sorted runs (or key ranges of them) merged into it.
struct FilePlan {
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  std::vector<Run> runs;
  size_t entries = 0;
  std::string path;
  size_t written = 0;
  Status status;
};

// Calls work(i) for every i in [0, n), on up to `threads` threads (the caller's one of
// them), each taking the next i when done with its last.
template <typename Fn>
void ParallelFor(size_t n, int threads, const Fn& work) {
  std::atomic<size_t> next{0};
  auto loop = [&] {
    for (size_t i = next.fetch_add(1); i < n; i = next.fetch_add(1)) work(i);
  };
  std::vector<std::thread> pool;
  for (size_t t = 1; t < static_cast<size_t>(threads) && t < n; ++t) pool.emplace_back(loop);
  loop();
  for (auto& t : pool) t.join();
}

// Opens an SST writer with the family's own options, so that compression, table format,
// block size and filters are the ones the family's flushes and compactions produce.
// The page cache is kept: the file is read again soon, by compactions and searches.
Status OpenWriter(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& path,
                  std::unique_ptr<rocksdb::SstFileWriter>* writer) {
  const rocksdb::Options options = db->GetOptions(cf);
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
  const Entry* last = nullptr;
  while (true) {
    size_t best = runs.size();
    for (size_t i = 0; i < runs.size(); ++i) {
      if (runs[i].empty()) continue;
      if (best == runs.size() || KeyLess(runs[i].front(), runs[best].front())) best = i;
    }
    if (best == runs.size()) break;
    const Entry& e = runs[best].front();
    runs[best] = runs[best].subspan(1);
    if (last != nullptr && last->key == e.key) {
      if (last->value == e.value) continue;
      return Status::InvalidArgument("two values for one key in " + plan->cf->GetName() +
                                     ": does the index policy name a term twice?");
    }
    s = FromRocks(writer->Put(e.key, e.value), "writing " + plan->path);
    if (!s.ok()) return s;
    last = &e;
    ++plan->written;
  }
  return FromRocks(writer->Finish(), "finishing " + plan->path);
}

// Splits one family's sorted runs into up to `parts` files of disjoint key ranges, at
// keys taken evenly from the largest run.
void PlanFamily(rocksdb::ColumnFamilyHandle* cf, const std::vector<Run>& runs, int threads,
                std::vector<FilePlan>* plans) {
  size_t total = 0;
  const Run* largest = nullptr;
  for (const auto& run : runs) {
    total += run.size();
    if (largest == nullptr || run.size() > largest->size()) largest = &run;
  }
  if (total == 0) return;
  const size_t parts =
      std::clamp<size_t>(total / kMinEntriesPerFile, 1, static_cast<size_t>(threads));
  std::vector<const std::string*> pivots;  // part p covers [pivots[p-1], pivots[p])
  for (size_t p = 1; p < parts; ++p) pivots.push_back(&(*largest)[p * largest->size() / parts].key);
  for (size_t p = 0; p <= pivots.size(); ++p) {
    FilePlan plan;
    plan.cf = cf;
    for (const auto& run : runs) {
      auto lower = [&](const std::string* pivot) {
        if (pivot == nullptr) return run.end();
        return std::lower_bound(run.begin(), run.end(), *pivot,
                                [](const Entry& e, const std::string& k) { return e.key < k; });
      };
      auto begin = p == 0 ? run.begin() : lower(pivots[p - 1]);
      auto end = lower(p < pivots.size() ? pivots[p] : nullptr);
      if (begin == end) continue;
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

BulkLoader::BulkLoader(ChildStore* store, Options options)
    : store_(store), options_(std::move(options)) {
  if (options_.temp_dir.empty()) options_.temp_dir = DefaultTempDir(store_->db_dir());
  options_.chunk_children = std::max<size_t>(options_.chunk_children, 1);
  options_.threads = std::max(options_.threads, 1);
}

BulkLoader::~BulkLoader() {
  if (!staged_.empty()) {
    std::lock_guard<std::mutex> lock(store_->write_mu_);
    DropStageLocked();
  }
  RemoveTempDir();
}

void BulkLoader::NoteForeignWritesLocked() {
  const uint64_t now = store_->h_->db->GetLatestSequenceNumber();
  if (now != last_sequence_ && !staged_.empty()) recheck_staged_ = true;
  last_sequence_ = now;
}

void BulkLoader::DropStageLocked() {
  // Ids are only given back when they are the last ones handed out: any id above them
  // belongs to someone else, and a gap in ids is harmless.
  if (!staged_.empty() && store_->next_id_.load() == reserved_end_) {
    reserved_end_ = staged_.front().record.id;
    store_->next_id_ = reserved_end_;
  }
  staged_.clear();
  recheck_staged_ = false;
}

Result<std::vector<ChildId>> BulkLoader::Add(std::span<NewChild> children) {
  if (!failed_.ok()) return failed_;
  std::vector<ChildId> ids;
  if (children.empty()) return ids;
  {
    // The store's write lock makes "no such key yet" and the ids reserved below one step
    // against InsertChildren, as it is inside InsertChildren.
    std::lock_guard<std::mutex> lock(store_->write_mu_);
    NoteForeignWritesLocked();
    std::vector<std::string> call_keys;
    call_keys.reserve(children.size());
    std::unordered_set<std::string> in_call;
    for (const auto& c : children) {
      if (c.source.source.empty() || c.source.source.size() > 255) {
        return Status::InvalidArgument("a source name must be 1 to 255 bytes");
      }
      std::string key = keys::SourceKey(c.source.source, c.source.key);
      if (keys_.count(key) != 0) {
        return Status::AlreadyExists("source " + c.source.source + " key '" + c.source.key +
                                     "' was added earlier to this bulk load");
      }
      if (!in_call.insert(key).second) {
        return Status::AlreadyExists("source key '" + c.source.key + "' appears twice");
      }
      auto linked = store_->FindSource(c.source.source, c.source.key);
      if (linked.ok()) {
        return Status::AlreadyExists("source " + c.source.source + " key '" + c.source.key +
                                     "' is already linked to child " +
                                     std::to_string(linked->child));
      }
      if (!linked.status().IsNotFound()) return linked.status();
      call_keys.push_back(std::move(key));
    }
    // Reserved now, not when ingested: InsertChildren may run before this chunk is ingested
    // and must not hand out the same ids. The durable counter follows with the ingest.
    ChildId next = store_->next_id_.load();
    ids.reserve(children.size());
    staged_.reserve(staged_.size() + children.size());
    for (auto& c : children) {
      ChildRecord& r = c.record;
      r.id = next++;
      if (std::find(r.sources.begin(), r.sources.end(), c.source) == r.sources.end()) {
        r.sources.push_back(c.source);
      }
      staged_.push_back(c);
      ids.push_back(r.id);
    }
    store_->next_id_ = next;
    reserved_end_ = next;
    for (auto& key : call_keys) keys_.insert(std::move(key));
  }
  while (staged_.size() >= options_.chunk_children) {
    Status s = IngestFront(options_.chunk_children);
    if (!s.ok()) return s;
  }
  return ids;
}

Status BulkLoader::Finish() {
  if (!failed_.ok()) return failed_;
  Status s;
  if (!staged_.empty()) s = IngestFront(staged_.size());
  RemoveTempDir();
  return s;
}

Status BulkLoader::IngestFront(size_t n) {
  Status s = IngestChunk(std::span<const NewChild>(staged_.data(), n));
  if (!s.ok()) {
    failed_ = s;
    {
      std::lock_guard<std::mutex> lock(store_->write_mu_);
      DropStageLocked();
    }
    RemoveTempDir();
    return s;
  }
  staged_.erase(staged_.begin(), staged_.begin() + static_cast<std::ptrdiff_t>(n));
  if (staged_.empty()) recheck_staged_ = false;
  return Status::OK();
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

Status BulkLoader::IngestChunk(std::span<const NewChild> children) {
  ChildStore::Handles* h = store_->h_.get();
  const Crypto& crypto = *store_->crypto_;
  const IndexPolicy& policy = *store_->options_.policy;
  const std::array<rocksdb::ColumnFamilyHandle*, kFamilies> families = {
      h->children, h->hidden, h->sources, h->name_index, h->id_index, h->place_index};

  // Build: each thread takes a contiguous range of children and sorts its own entries of
  // each family. Records and hidden fields come out already in id order.
  const int threads =
      static_cast<int>(std::min<size_t>(static_cast<size_t>(options_.threads), children.size()));
  struct Slice {
    std::array<std::vector<Entry>, kFamilies> family;
    Status status;
  };
  double t0 = TNow();
  std::vector<Slice> slices(static_cast<size_t>(threads));
  ParallelFor(slices.size(), threads, [&](size_t t) {
    Slice& slice = slices[t];
    const size_t begin = children.size() * t / slices.size();
    const size_t end = children.size() * (t + 1) / slices.size();
    std::vector<Entry> scratch;
    for (size_t i = begin; i < end; ++i) {
      scratch.clear();
      slice.status = AppendNewChildEntries(h, crypto, policy, children[i], &scratch);
      if (!slice.status.ok()) return;
      for (auto& e : scratch) {
        size_t f = std::find(families.begin(), families.end(), e.cf) - families.begin();
        if (f == kFamilies) {
          slice.status = Status::Corruption("an entry for an unexpected column family");
          return;
        }
        slice.family[f].push_back(std::move(e));
      }
    }
    double ts = TNow();
    for (auto& entries : slice.family) {
      fprintf(stderr, "  family size %zu\n", entries.size());
      if (!std::is_sorted(entries.begin(), entries.end(), KeyLess)) {
        std::sort(entries.begin(), entries.end(), KeyLess);
      }
    }
    fprintf(stderr, "  slice sort %.2f\n", TNow() - ts);
  });
  for (const auto& slice : slices) {
    if (!slice.status.ok()) return slice.status;
  }
  double t1 = TNow();

  // Write: one or more files per family, the largest first so that the threads finish
  // together.
  std::vector<FilePlan> plans;
  for (size_t f = 0; f < kFamilies; ++f) {
    std::vector<Run> runs;
    for (const auto& slice : slices) runs.emplace_back(slice.family[f]);
    PlanFamily(families[f], runs, options_.threads, &plans);
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
  double t2 = TNow();
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
    for (const auto& c : children) {
      auto linked = store_->FindSource(c.source.source, c.source.key);
      if (linked.ok()) {
        return Status::AlreadyExists("source " + c.source.source + " key '" + c.source.key +
                                     "' was linked to child " + std::to_string(linked->child) +
                                     " while it waited in a bulk load");
      }
      if (!linked.status().IsNotFound()) return linked.status();
    }
  }
  // The counter goes in as a file of the meta family rather than as a Put after the
  // ingest: a crash between the two would leave the counter behind ingested children,
  // and the next insert would overwrite one.
  const std::string meta_path = guard.dir + "/meta.sst";
  {
    std::unique_ptr<rocksdb::SstFileWriter> writer;
    s = OpenWriter(h->db, h->meta, meta_path, &writer);
    if (s.ok()) {
      s = FromRocks(writer->Put(std::string(keys::kMetaNextChildId),
                                BigEndian64(store_->next_id_.load())),
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
    auto arg = std::find_if(args.begin(), args.end(), [&](const auto& a) {
      return a.column_family == plan.cf;
    });
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
  fprintf(stderr, "chunk %zu: build+sort %.2f write %.2f ingest %.2f files %zu\n", children.size(), t1 - t0, t2 - t1, TNow() - t2, plans.size());
  stats_.children += children.size();
  stats_.chunks += 1;
  stats_.entries += entries;
  return Status::OK();
}

}  // namespace cp
