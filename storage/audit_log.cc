// AuditLog: appending with group commit. Reading is audit_reader.cc.
//
// Group commit: appenders queue their entries; one committer thread takes every queued
// entry (at most kMaxBatch), numbers and chains them, and writes them with one synced
// WriteBatch, then completes them: a synchronous appender is woken, an asynchronous one's
// callback runs. Entries queued while a batch is being synced go in the next batch, so
// that many appenders share each sync. The chain state (last number, last hash) is
// touched only by the committer (or, without group commit, under serial_mu_).
#include "storage/audit_log.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <set>
#include <thread>

#include "storage/audit_internal.h"
#include "storage/child_store_internal.h"
#include "util/coding.h"

namespace cp {
namespace {

// One batch holds at most this many entries, so that a long queue cannot build an
// unbounded WriteBatch; the rest go in the next.
constexpr size_t kMaxBatch = 4096;

std::mutex audit_open_mu;
std::set<const ChildStore*>& StoresWithAuditLogs() {
  static std::set<const ChildStore*> stores;
  return stores;
}

int64_t NowMicros() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One queued entry. A synchronous appender's lives on its stack until `done` is set under
// the mutex; an asynchronous one's is owned by the queue and deleted after its callback.
struct Writer {
  AuditEntry entry;
  uint64_t sequence = 0;
  Status status;
  bool done = false;
  std::function<void(Result<uint64_t>)> callback;  // set: asynchronous
};

}  // namespace

class AuditLog::Impl {
 public:
  Impl(ChildStore* store, const Options& options)
      : store_(store), h_(store->h_.get()), crypto_(store->crypto_.get()), options_(options) {}
  ~Impl() {
    if (committer_.joinable()) {
      {
        std::lock_guard<std::mutex> lock(mu_);
        stopping_ = true;
      }
      work_cv_.notify_one();
      committer_.join();  // commits whatever is still queued first
    }
    std::lock_guard<std::mutex> lock(audit_open_mu);
    StoresWithAuditLogs().erase(store_);
  }

  Status LoadHead();
  void Start() {
    if (options_.group_commit) committer_ = std::thread([this] { CommitLoop(); });
  }
  // Validates and time-stamps `entry`; InvalidArgument as Append documents.
  Status Prepare(AuditEntry* entry) const;
  Result<uint64_t> Append(const AuditEntry& entry);
  void AppendAsync(AuditEntry entry, std::function<void(Result<uint64_t>)> done);
  void Flush();
  void CommitLoop();
  // Numbers, chains and writes `batch` with one synced write; advances the chain only
  // when the write succeeded. Called by one committer at a time.
  Status Commit(const std::vector<Writer*>& batch);

  ChildStore* store_;
  ChildStore::Handles* h_;
  const Crypto* crypto_;
  Options options_;

  std::mutex mu_;
  std::condition_variable work_cv_;  // the committer waits for entries
  std::condition_variable done_cv_;  // appenders wait for their batch, Flush for the queue
  std::deque<Writer*> queue_;
  bool committing_ = false;
  bool stopping_ = false;
  std::thread committer_;
  std::mutex serial_mu_;  // without group commit: one append at a time
  CommitHook hook_;       // set before the first append

  uint64_t last_sequence_ = 0;                                    // leader only
  std::string last_hash_ = std::string(audit::kHashBytes, '\0');  // leader only
  std::atomic<uint64_t> durable_{0};
  std::atomic<uint64_t> commits_{0};
  std::atomic<uint64_t> committed_entries_{0};
};

Status AuditLog::Impl::LoadHead() {
  std::string head;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->meta, std::string(audit::kMetaHead), &head);
  if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "reading the audit head");
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->audit));
  it->SeekToLast();
  if (!it->status().ok()) return FromRocks(it->status(), "reading the last audit entry");
  const char* fix = "; run `contactpoint audit verify` to find where";
  if (s.IsNotFound()) {
    if (it->Valid())
      return Status::Corruption(std::string("the audit log has entries but no head") + fix);
    return Status::OK();
  }
  if (head.size() != 8 + audit::kHashBytes)
    return Status::Corruption("the audit head is malformed");
  uint64_t seq = DecodeBigEndian64(head.data());
  std::string hash = head.substr(8);
  bool agree = it->Valid() && it->key().ToString() == audit::EntryKey(seq) &&
               it->value().size() >= audit::kHashBytes &&
               it->value().ToString().substr(it->value().size() - audit::kHashBytes) == hash;
  if (!agree) {
    return Status::Corruption("the audit head names entry " + std::to_string(seq) +
                              ", which is not the last entry or does not match it" + fix);
  }
  last_sequence_ = seq;
  last_hash_ = hash;
  durable_ = seq;
  return Status::OK();
}

Status AuditLog::Impl::Commit(const std::vector<Writer*>& batch) {
  uint64_t seq = last_sequence_;
  std::string hash = last_hash_;
  rocksdb::WriteBatch wb;
  Status s;
  for (Writer* w : batch) {
    const AuditEntry& e = w->entry;
    w->sequence = ++seq;
    std::string key = audit::EntryKey(seq);
    std::string body = audit::EncodeBody(e, seq, *crypto_);
    hash = audit::ChainHash(hash, key, body);
    body.append(hash);
    auto rs = wb.Put(h_->audit, key, body);
    for (ChildId c : e.children) {
      if (rs.ok())
        rs = wb.Put(h_->audit_index,
                    audit::IndexKey(audit::ChildIndexPrefix(c), e.time_micros, seq), "");
    }
    if (rs.ok())
      rs = wb.Put(h_->audit_index,
                  audit::IndexKey(audit::UserIndexPrefix(e.user), e.time_micros, seq), "");
    if (!rs.ok()) return FromRocks(rs, "building an audit batch");
  }
  auto rs = wb.Put(h_->meta, std::string(audit::kMetaHead), audit::EntryKey(seq) + hash);
  if (rs.ok() && hook_) {
    s = hook_(&wb);
    if (!s.ok()) return s;
  }
  rocksdb::WriteOptions wo;
  wo.sync = true;
  if (rs.ok()) rs = h_->db->Write(wo, &wb);
  if (!rs.ok()) return FromRocks(rs, "writing the audit log");
  last_sequence_ = seq;
  last_hash_ = hash;
  commits_.fetch_add(1, std::memory_order_relaxed);
  committed_entries_.fetch_add(batch.size(), std::memory_order_relaxed);
  durable_.store(seq, std::memory_order_release);
  return Status::OK();
}

Status AuditLog::Impl::Prepare(AuditEntry* entry) const {
  Status s = audit::ValidateEntry(*entry);
  if (!s.ok()) return s;
  if (entry->time_micros == 0) entry->time_micros = NowMicros();
  return Status::OK();
}

Result<uint64_t> AuditLog::Impl::Append(const AuditEntry& entry) {
  Writer w;
  w.entry = entry;
  Status s = Prepare(&w.entry);
  if (!s.ok()) return s;
  if (!options_.group_commit) {
    std::lock_guard<std::mutex> lock(serial_mu_);
    s = Commit({&w});
    if (!s.ok()) return s;
    return w.sequence;
  }
  std::unique_lock<std::mutex> lock(mu_);
  queue_.push_back(&w);
  work_cv_.notify_one();
  done_cv_.wait(lock, [&] { return w.done; });
  if (!w.status.ok()) return w.status;
  return w.sequence;
}

void AuditLog::Impl::AppendAsync(AuditEntry entry, std::function<void(Result<uint64_t>)> done) {
  auto w = std::make_unique<Writer>();
  w->entry = std::move(entry);
  Status s = Prepare(&w->entry);
  if (!s.ok()) {
    done(s);
    return;
  }
  if (!options_.group_commit) {
    {
      std::lock_guard<std::mutex> lock(serial_mu_);
      s = Commit({w.get()});
    }
    done(s.ok() ? Result<uint64_t>(w->sequence) : Result<uint64_t>(s));
    return;
  }
  w->callback = std::move(done);
  {
    std::lock_guard<std::mutex> lock(mu_);
    queue_.push_back(w.release());
  }
  work_cv_.notify_one();
}

void AuditLog::Impl::Flush() {
  if (!options_.group_commit) return;
  std::unique_lock<std::mutex> lock(mu_);
  done_cv_.wait(lock, [&] { return queue_.empty() && !committing_; });
}

void AuditLog::Impl::CommitLoop() {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    work_cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, and nothing left to write
    committing_ = true;
    const size_t n = std::min(queue_.size(), kMaxBatch);
    std::vector<Writer*> batch(queue_.begin(), queue_.begin() + n);
    queue_.erase(queue_.begin(), queue_.begin() + n);
    lock.unlock();
    const Status commit = Commit(batch);
    lock.lock();
    // Synchronous writers may return as soon as `done` is set: touch them only here.
    std::vector<std::unique_ptr<Writer>> async;
    for (Writer* w : batch) {
      w->status = commit;
      if (w->callback) {
        async.emplace_back(w);
      } else {
        w->done = true;
      }
    }
    lock.unlock();
    done_cv_.notify_all();
    for (auto& w : async) {
      w->callback(commit.ok() ? Result<uint64_t>(w->sequence) : Result<uint64_t>(commit));
    }
    async.clear();
    lock.lock();
    // Only now: Flush promises that the appenders have been told, callbacks included.
    committing_ = false;
    done_cv_.notify_all();
  }
}

Result<std::unique_ptr<AuditLog>> AuditLog::Open(ChildStore* store, const Options& options) {
  if (store == nullptr) return Status::InvalidArgument("AuditLog needs an open store");
  {
    std::lock_guard<std::mutex> lock(audit_open_mu);
    if (!StoresWithAuditLogs().insert(store).second) {
      return Status::FailedPrecondition("an AuditLog is already open on " + store->db_dir());
    }
  }
  auto impl = std::make_unique<Impl>(store, options);
  Status s = impl->LoadHead();
  if (!s.ok()) return s;
  impl->Start();
  return std::unique_ptr<AuditLog>(new AuditLog(std::move(impl)));
}

AuditLog::AuditLog(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
AuditLog::~AuditLog() = default;

Result<uint64_t> AuditLog::Append(const AuditEntry& entry) { return impl_->Append(entry); }

void AuditLog::AppendAsync(AuditEntry entry, std::function<void(Result<uint64_t>)> done) {
  impl_->AppendAsync(std::move(entry), std::move(done));
}

void AuditLog::Flush() { impl_->Flush(); }

void AuditLog::SetCommitHook(CommitHook hook) { impl_->hook_ = std::move(hook); }

AuditLog::Counts AuditLog::counts() const {
  return {impl_->commits_.load(std::memory_order_relaxed),
          impl_->committed_entries_.load(std::memory_order_relaxed)};
}

uint64_t AuditLog::LastSequence() const { return impl_->durable_.load(std::memory_order_acquire); }

}  // namespace cp
