// Tests for storage/audit_log.h: appends and their rules, the hash chain against every kind
// of tampering (done to the raw RocksDB files), queries, group commit under concurrency,
// and that no reason or criteria is ever in clear in a database file.
#include "storage/audit_log.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <thread>
#include <atomic>
#include <condition_variable>
#include <mutex>

#include "storage/audit_internal.h"  // ChainHash, to forge an entry as an attacker would
#include "tests/storage/raw_db_util.h"
#include "tests/storage/store_test_util.h"
#include "util/coding.h"

namespace cp {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr int64_t kDay = int64_t{86400} * 1000000;
constexpr int64_t kT0 = int64_t{1'800'000'000} * 1000000;  // fixed times: deterministic queries

AuditEntry Search(const std::string& user, int64_t time, std::vector<ChildId> children,
                  const std::string& reason = "s47 enquiry",
                  const std::string& criteria = "family=Smith given=O dob=2016-03-02") {
  AuditEntry e;
  e.time_micros = time;
  e.user = user;
  e.organisation = "la_leeds";
  e.source_address = "192.0.2.10";
  e.action = AuditAction::kSearch;
  e.children = std::move(children);
  e.reason = reason;
  e.criteria = criteria;
  return e;
}

// Opens the store's RocksDB directly, with every column family on disk, and runs `edit`.
void EditRaw(const std::string& db_dir,
             const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle* audit,
                                      rocksdb::ColumnFamilyHandle* meta)>& edit) {
  std::vector<std::string> names;
  ASSERT_TRUE(rocksdb::DB::ListColumnFamilies(testing_util::RawDbOptions(db_dir), db_dir, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (const auto& name : names) descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(rocksdb::DB::Open(testing_util::RawDbOptions(db_dir), db_dir, descriptors, &handles, &db).ok());
  rocksdb::ColumnFamilyHandle *audit = nullptr, *meta = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == "audit") audit = handles[i];
    if (names[i] == "meta") meta = handles[i];
  }
  ASSERT_NE(audit, nullptr);
  edit(db, audit, meta);
  for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
  ASSERT_TRUE(db->Close().ok());
  delete db;
}

std::string Get(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, const std::string& key) {
  std::string v;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), cf, key, &v).ok());
  return v;
}

class AuditLogTest : public testing_util::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    CreateStore();
    OpenLog();
  }
  void TearDown() override {
    log_.reset();
    TempDirTest::TearDown();
  }
  void OpenLog(AuditLog::Options options = {}) {
    auto log = AuditLog::Open(store_.get(), options);
    ASSERT_TRUE(log.ok()) << log.status().ToString();
    log_ = std::move(*log);
  }
  uint64_t Append(const AuditEntry& e) {
    auto seq = log_->Append(e);
    EXPECT_TRUE(seq.ok()) << seq.status().ToString();
    return seq.ok() ? *seq : 0;
  }
  // Appends five searches (entries 1..5) by alice and bob, about children 7 and 8.
  void AppendFive() {
    Append(Search("alice", kT0, {7}));
    Append(Search("bob", kT0 + 1, {7, 8}));
    Append(Search("alice", kT0 + kDay, {8}));
    Append(Search("alice", kT0 + 2 * kDay, {7}));
    Append(Search("bob", kT0 + 3 * kDay, {}));
  }
  // Closes everything, runs `edit` on the raw database, and reopens the store (not the log).
  void Tamper(const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*,
                                       rocksdb::ColumnFamilyHandle*)>& edit) {
    log_.reset();
    store_.reset();
    EditRaw(db_dir_, edit);
    OpenStore();
  }
  AuditVerification Verify() {
    auto v = AuditReader(store_.get()).Verify();
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : AuditVerification();
  }
  std::vector<AuditEntry> ByChild(ChildId child, AuditTimeRange range = {}, size_t limit = 100,
                                  bool* complete = nullptr) {
    std::vector<AuditEntry> out;
    bool c = false;
    Status s = AuditReader(store_.get()).QueryChild(child, range, limit, &out, &c);
    EXPECT_TRUE(s.ok()) << s.ToString();
    if (complete) *complete = c;
    return out;
  }
  std::vector<AuditEntry> ByUser(const std::string& user, AuditTimeRange range = {}) {
    std::vector<AuditEntry> out;
    bool c = false;
    Status s = AuditReader(store_.get()).QueryUser(user, range, 100, &out, &c);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return out;
  }
  static std::vector<uint64_t> Sequences(const std::vector<AuditEntry>& entries) {
    std::vector<uint64_t> s;
    for (const auto& e : entries) s.push_back(e.sequence);
    return s;
  }

  std::unique_ptr<AuditLog> log_;
};

// ---- Appending -----------------------------------------------------------------------------

TEST_F(AuditLogTest, AppendNumbersFromOne) {
  EXPECT_EQ(log_->LastSequence(), 0u);
  EXPECT_EQ(Append(Search("alice", kT0, {1})), 1u);
  EXPECT_EQ(Append(Search("alice", kT0, {2})), 2u);
  EXPECT_EQ(log_->LastSequence(), 2u);
}

TEST_F(AuditLogTest, AppendStampsTheTimeWhenNoneIsGiven) {
  Append(Search("alice", 0, {1}));
  auto entries = ByUser("alice");
  ASSERT_EQ(entries.size(), 1u);
  EXPECT_GT(entries[0].time_micros, int64_t{1'700'000'000} * 1000000);
}

TEST_F(AuditLogTest, EntriesRoundTripWithReasonAndCriteriaUnsealed) {
  AuditEntry e = Search("alice", kT0, {7, 9}, "strategy meeting", "postcode=LS6 9QT");
  e.organisation = "la_leeds";
  Append(e);
  auto got = ByChild(9);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].sequence, 1u);
  EXPECT_EQ(got[0].time_micros, kT0);
  EXPECT_EQ(got[0].user, "alice");
  EXPECT_EQ(got[0].organisation, "la_leeds");
  EXPECT_EQ(got[0].source_address, "192.0.2.10");
  EXPECT_EQ(got[0].action, AuditAction::kSearch);
  EXPECT_EQ(got[0].outcome, AuditOutcome::kOk);
  EXPECT_THAT(got[0].children, ElementsAre(7, 9));
  EXPECT_EQ(got[0].reason, "strategy meeting");
  EXPECT_EQ(got[0].criteria, "postcode=LS6 9QT");
}

TEST_F(AuditLogTest, MissingReasonIsRefusedForAccessButNotForRefusalsOrLogins) {
  for (AuditAction a : {AuditAction::kSearch, AuditAction::kView, AuditAction::kShield,
                        AuditAction::kUnshield, AuditAction::kBreakGlass}) {
    AuditEntry e = Search("alice", kT0, {1}, "  ");
    e.action = a;
    auto r = log_->Append(e);
    ASSERT_FALSE(r.ok()) << AuditActionName(a);
    EXPECT_TRUE(r.status().IsInvalidArgument());
    EXPECT_THAT(r.status().message(), HasSubstr("reason"));
  }
  AuditEntry refused = Search("alice", kT0, {}, "");
  refused.outcome = AuditOutcome::kRefused;
  refused.refusal = AuditRefusal::kMissingReason;
  EXPECT_EQ(Append(refused), 1u);
  AuditEntry login = Search("alice", kT0, {}, "", "");
  login.action = AuditAction::kLogin;
  EXPECT_EQ(Append(login), 2u);
  EXPECT_EQ(log_->LastSequence(), 2u);  // nothing refused was written
}

TEST_F(AuditLogTest, MalformedEntriesAreRefused) {
  auto refused = [&](const std::function<void(AuditEntry*)>& change) {
    AuditEntry e = Search("alice", kT0, {1});
    change(&e);
    auto r = log_->Append(e);
    return !r.ok() && r.status().IsInvalidArgument();
  };
  EXPECT_TRUE(refused([](AuditEntry* e) { e->time_micros = -1; }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->user = std::string(256, 'u'); }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->organisation = std::string(256, 'o'); }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->source_address = std::string(256, 'a'); }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->criteria = std::string(65537, 'c'); }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->refusal = AuditRefusal::kLocked; }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->outcome = AuditOutcome::kRefused; }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->outcome = AuditOutcome::kTooManyMatches; }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->action = static_cast<AuditAction>(0); }));
  EXPECT_TRUE(refused([](AuditEntry* e) { e->outcome = static_cast<AuditOutcome>(9); }));
  EXPECT_EQ(log_->LastSequence(), 0u);
  AuditEntry too_many = Search("alice", kT0, {});
  too_many.outcome = AuditOutcome::kTooManyMatches;
  EXPECT_EQ(Append(too_many), 1u);
}

TEST_F(AuditLogTest, SecondLogOnOneStoreIsRefused) {
  auto second = AuditLog::Open(store_.get());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kFailedPrecondition);
}

TEST_F(AuditLogTest, ChainContinuesAcrossReopen) {
  AppendFive();
  log_.reset();
  Reopen();
  OpenLog();
  EXPECT_EQ(log_->LastSequence(), 5u);
  EXPECT_EQ(Append(Search("carol", kT0, {1})), 6u);
  auto v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 6u);
}

// ---- Verification --------------------------------------------------------------------------

TEST_F(AuditLogTest, EmptyLogIsIntact) {
  auto v = Verify();
  EXPECT_TRUE(v.intact);
  EXPECT_EQ(v.entries, 0u);
  EXPECT_TRUE(v.head_hash_hex.empty());
}

TEST_F(AuditLogTest, UntouchedLogIsIntact) {
  AppendFive();
  auto v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 5u);
  EXPECT_EQ(v.head_hash_hex.size(), 64u);
}

TEST_F(AuditLogTest, AlteredEntryIsFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    std::string v = Get(db, audit, BigEndian64(3));
    // The user name "alice" sits in clear after version, time and three code bytes.
    size_t at = v.find("alice");
    ASSERT_NE(at, std::string::npos);
    v.replace(at, 5, "eve__");
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, BigEndian64(3), v).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 3u);
  EXPECT_THAT(v.problem, HasSubstr("does not match"));
}

TEST_F(AuditLogTest, AlteredSealedReasonIsFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    std::string v = Get(db, audit, BigEndian64(2));
    v[v.size() - 40] ^= 0x01;  // inside the sealed reason, before the 32-byte hash
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, BigEndian64(2), v).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 2u);
}

TEST_F(AuditLogTest, AlteredEntryWithRecomputedHashIsFoundAtItsSuccessor) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    // The forger recomputes entry 3's own hash, but cannot recompute 4's without
    // rewriting it too: the chain names 4.
    std::string prev = Get(db, audit, BigEndian64(2));
    std::string v = Get(db, audit, BigEndian64(3));
    std::string body = v.substr(0, v.size() - 32);
    body.replace(body.find("alice"), 5, "eve__");
    std::string forged =
        body + audit::ChainHash(prev.substr(prev.size() - 32), BigEndian64(3), body);
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, BigEndian64(3), forged).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 4u);
}

TEST_F(AuditLogTest, RemovedEntryIsFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), audit, BigEndian64(3)).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 3u);
  EXPECT_THAT(v.problem, HasSubstr("missing"));
  EXPECT_EQ(v.entries, 2u);
}

TEST_F(AuditLogTest, RemovedLastEntryIsFoundAndTheLogFailsClosed) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), audit, BigEndian64(5)).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 5u);
  auto log = AuditLog::Open(store_.get());
  ASSERT_FALSE(log.ok());
  EXPECT_EQ(log.status().code(), Status::Code::kCorruption);
  EXPECT_THAT(log.status().message(), HasSubstr("audit verify"));
}

TEST_F(AuditLogTest, RemovedHeadIsFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto*, auto* meta) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), meta, "audit_head").ok());
  });
  EXPECT_FALSE(Verify().intact);
  EXPECT_FALSE(AuditLog::Open(store_.get()).ok());
}

TEST_F(AuditLogTest, SwappedEntriesAreFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    std::string two = Get(db, audit, BigEndian64(2)), three = Get(db, audit, BigEndian64(3));
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, BigEndian64(2), three).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, BigEndian64(3), two).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 2u);
}

TEST_F(AuditLogTest, EntryMovedToAnotherKeyIsFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    // Entry 4 deleted, and entry 5 renumbered 4 to hide the gap.
    std::string five = Get(db, audit, BigEndian64(5));
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), audit, BigEndian64(5)).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, BigEndian64(4), five).ok());
  });
  auto v = Verify();
  EXPECT_FALSE(v.intact);
  EXPECT_EQ(v.first_bad, 4u);
}

TEST_F(AuditLogTest, ForeignKeyInTheAuditFamilyIsFound) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), audit, "zz", "junk").ok());
  });
  EXPECT_FALSE(Verify().intact);
}

// ---- Queries -------------------------------------------------------------------------------

TEST_F(AuditLogTest, QueryByChild) {
  AppendFive();
  EXPECT_THAT(Sequences(ByChild(7)), ElementsAre(1, 2, 4));
  EXPECT_THAT(Sequences(ByChild(8)), ElementsAre(2, 3));
  EXPECT_TRUE(ByChild(99).empty());
}

TEST_F(AuditLogTest, QueryByUser) {
  AppendFive();
  EXPECT_THAT(Sequences(ByUser("alice")), ElementsAre(1, 3, 4));
  EXPECT_THAT(Sequences(ByUser("bob")), ElementsAre(2, 5));
  EXPECT_TRUE(ByUser("al").empty());  // a prefix of a name is not the name
}

TEST_F(AuditLogTest, QueryTimeRangeIsInclusive) {
  AppendFive();
  EXPECT_THAT(Sequences(ByChild(7, {kT0 + 1, kT0 + 2 * kDay})), ElementsAre(2, 4));
  EXPECT_THAT(Sequences(ByUser("alice", {kT0 + kDay, kT0 + kDay})), ElementsAre(3));
  EXPECT_TRUE(ByUser("alice", {kT0 + 5 * kDay, kT0 + 6 * kDay}).empty());
  EXPECT_TRUE(ByUser("alice", {kT0 + kDay, kT0}).empty());  // from after to
}

TEST_F(AuditLogTest, QueryLimitSaysWhetherComplete) {
  AppendFive();
  bool complete = true;
  EXPECT_THAT(Sequences(ByChild(7, {}, 2, &complete)), ElementsAre(1, 2));
  EXPECT_FALSE(complete);
  EXPECT_THAT(Sequences(ByChild(7, {}, 3, &complete)), ElementsAre(1, 2, 4));
  EXPECT_TRUE(complete);
}

TEST_F(AuditLogTest, QueryNamingARemovedEntryIsCorruption) {
  AppendFive();
  Tamper([](rocksdb::DB* db, auto* audit, auto*) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), audit, BigEndian64(3)).ok());
  });
  std::vector<AuditEntry> out;
  bool complete = false;
  Status s = AuditReader(store_.get()).QueryChild(8, {}, 100, &out, &complete);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_THAT(s.message(), HasSubstr("entry 3"));
  // Entries that are still there are still found.
  EXPECT_THAT(Sequences(ByChild(7)), ElementsAre(1, 2, 4));
}

// ---- Group commit --------------------------------------------------------------------------

void ConcurrentAppends(AuditLog* log, int threads, int per_thread, std::vector<uint64_t>* seqs) {
  std::mutex mu;
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        auto r = log->Append(Search("user" + std::to_string(t), kT0 + i, {ChildId(t + 1)}));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        std::lock_guard<std::mutex> lock(mu);
        seqs->push_back(*r);
      }
    });
  }
  for (auto& w : workers) w.join();
}

TEST_F(AuditLogTest, ConcurrentAppendsGetDistinctNumbersAndAnIntactChain) {
  std::vector<uint64_t> seqs;
  ConcurrentAppends(log_.get(), 8, 40, &seqs);
  std::set<uint64_t> distinct(seqs.begin(), seqs.end());
  EXPECT_EQ(distinct.size(), 320u);
  EXPECT_EQ(*distinct.begin(), 1u);
  EXPECT_EQ(*distinct.rbegin(), 320u);
  auto v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 320u);
  EXPECT_EQ(ByUser("user3").size(), 40u);
  EXPECT_EQ(ByChild(4).size(), 40u);
}

TEST_F(AuditLogTest, WithoutGroupCommitTheChainIsIntactToo) {
  log_.reset();
  OpenLog(AuditLog::Options{.group_commit = false});
  std::vector<uint64_t> seqs;
  ConcurrentAppends(log_.get(), 4, 20, &seqs);
  EXPECT_EQ(std::set<uint64_t>(seqs.begin(), seqs.end()).size(), 80u);
  EXPECT_TRUE(Verify().intact);
}

// ---- Appending without waiting -------------------------------------------------------------

// Collects AppendAsync results from the committer thread.
struct AsyncResults {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<Result<uint64_t>> results;
  std::function<void(Result<uint64_t>)> Callback() {
    return [this](Result<uint64_t> r) {
      std::lock_guard<std::mutex> lock(mu);
      results.push_back(std::move(r));
      cv.notify_all();
    };
  }
  void WaitFor(size_t n) {
    std::unique_lock<std::mutex> lock(mu);
    ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(60), [&] { return results.size() >= n; }));
  }
};

TEST_F(AuditLogTest, AsyncAppendsAreDurableInOrderWhenCalledBack) {
  AsyncResults got;
  for (int i = 0; i < 50; ++i) log_->AppendAsync(Search("alice", kT0 + i, {7}), got.Callback());
  got.WaitFor(50);
  std::vector<uint64_t> seqs;
  for (auto& r : got.results) {
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    seqs.push_back(*r);
  }
  // One appender: its entries are numbered in the order it queued them.
  for (size_t i = 0; i < seqs.size(); ++i) EXPECT_EQ(seqs[i], i + 1);
  EXPECT_EQ(log_->LastSequence(), 50u);
  log_.reset();
  store_.reset();
  OpenStore();  // written, not only queued: they are read back after a reopen
  auto v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 50u);
  EXPECT_EQ(ByChild(7).size(), 50u);
}

TEST_F(AuditLogTest, AsyncAppendOfAnInvalidEntryIsRefusedAtOnce) {
  AsyncResults got;
  AuditEntry e = Search("alice", kT0, {7}, /*reason=*/"");
  log_->AppendAsync(e, got.Callback());
  ASSERT_EQ(got.results.size(), 1u);  // on the calling thread, before AppendAsync returned
  EXPECT_TRUE(got.results[0].status().IsInvalidArgument());
  EXPECT_EQ(Verify().entries, 0u);
}

TEST_F(AuditLogTest, SyncAndAsyncAppendsShareOneChain) {
  AsyncResults got;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 25; ++i) {
        if (i % 2 == 0) {
          log_->AppendAsync(Search("async" + std::to_string(t), kT0 + i, {1}), got.Callback());
        } else {
          ASSERT_TRUE(log_->Append(Search("sync" + std::to_string(t), kT0 + i, {2})).ok());
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  got.WaitFor(4 * 13);
  for (auto& r : got.results) EXPECT_TRUE(r.ok());
  auto v = Verify();
  EXPECT_TRUE(v.intact) << v.problem;
  EXPECT_EQ(v.entries, 100u);
}

TEST_F(AuditLogTest, FlushWaitsForQueuedEntriesAndClosingWritesThem) {
  std::atomic<int> called{0};
  for (int i = 0; i < 20; ++i) {
    log_->AppendAsync(Search("bob", kT0 + i, {8}), [&called](Result<uint64_t> r) {
      EXPECT_TRUE(r.ok());
      ++called;
    });
  }
  log_->Flush();
  EXPECT_EQ(called.load(), 20);
  EXPECT_EQ(log_->LastSequence(), 20u);
  for (int i = 0; i < 20; ++i) {
    log_->AppendAsync(Search("bob", kT0 + 100 + i, {8}), [&called](Result<uint64_t> r) {
      EXPECT_TRUE(r.ok());
      ++called;
    });
  }
  log_.reset();  // no Flush: closing writes what is queued and reports it
  EXPECT_EQ(called.load(), 40);
  EXPECT_EQ(Verify().entries, 40u);
}

TEST_F(AuditLogTest, CommitHookWritesGoInTheSameBatchAndItsFailureFailsTheBatch) {
  const std::string key = "audit-hook-test";
  int batches = 0;
  bool fail = false;
  log_->SetCommitHook([&](rocksdb::WriteBatch* wb) {
    if (fail) return Status::IOError("hook says no");
    ++batches;
    EXPECT_TRUE(wb->Put(key, std::to_string(batches)).ok());  // the default family
    return Status::OK();
  });
  EXPECT_EQ(Append(Search("alice", kT0, {7})), 1u);
  fail = true;
  auto r = log_->Append(Search("alice", kT0 + 1, {7}));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kIOError) << r.status().ToString();
  fail = false;
  // The failed batch wrote nothing and did not advance the chain.
  EXPECT_EQ(Append(Search("alice", kT0 + 2, {7})), 2u);
  Tamper([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle*, rocksdb::ColumnFamilyHandle*) {
    std::string v;
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), key, &v).ok());
    EXPECT_EQ(v, "2");  // one write per committed batch, none for the failed one
  });
  auto check = Verify();
  EXPECT_TRUE(check.intact) << check.problem;
  EXPECT_EQ(check.entries, 2u);
}

// ---- Nothing personal in clear -------------------------------------------------------------

TEST_F(AuditLogTest, PostcodeAndNameInCriteriaAreNeverInClearOnDisk) {
  const std::string postcode = "LS6 9QT", name = "Zzyzxmarker", reason = "Qwertyreason fled";
  Append(Search("investigator.zz", kT0, {7}, reason, "family=" + name + " postcode=" + postcode));
  ASSERT_TRUE(store_->CompactAll().ok());  // flushes memtables to SST files
  log_.reset();
  Reopen();
  bool saw_user = false;
  size_t files = 0;
  for (const auto& f : std::filesystem::recursive_directory_iterator(db_dir_)) {
    if (!f.is_regular_file()) continue;
    ++files;
    std::string bytes = testing_util::ReadFileBytes(f.path());
    saw_user = saw_user || bytes.find("investigator.zz") != std::string::npos;
    EXPECT_EQ(bytes.find(postcode), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find("LS69QT"), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find(name), std::string::npos) << f.path();
    EXPECT_EQ(bytes.find("Qwertyreason"), std::string::npos) << f.path();
  }
  EXPECT_GT(files, 0u);
  // The user name is kept in clear on purpose (it is queried): seeing it proves the scan
  // reads the files where the criteria would be.
  EXPECT_TRUE(saw_user);
  auto back = ByUser("investigator.zz");
  ASSERT_EQ(back.size(), 1u);
  EXPECT_THAT(back[0].criteria, HasSubstr(postcode));
}

}  // namespace
}  // namespace cp
