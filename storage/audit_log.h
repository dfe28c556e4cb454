// AuditLog: the tamper-evident record of every access — who, when, from where, what, why —
// in the `audit` column family of a ChildStore, with a secondary index in `audit_index`
// (byte layouts in docs/key_format.md).
//
// Entries are numbered 1, 2, 3, ... and hash-chained: each stores
//   hash = SHA-256(previous entry's hash | key | stored body)
// (32 zero bytes before the first), and `meta/audit_head` holds the last number and hash.
// AuditReader::Verify() recomputes the chain and names the first entry that was altered,
// removed or moved. A chain cannot stop someone who holds the files and rewrites every later entry
// and the head: for that, anchor the head hash Verify reports outside the database (ops
// log it daily; docs/accounts_and_audit.md).
//
// Personal data: the stated reason and the search criteria can hold a name or a postcode;
// they are sealed with the store's Crypto (AES-256-GCM, associated data binding the
// sequence number), so neither is ever in clear in a database file. Time, user,
// organisation, source address, action, outcome and child ids stay in clear so that they
// can be queried.
//
// Durability: Append returns only after its entry is synced (WriteOptions::sync), and
// AppendAsync calls back only then. With group commit (the default) a committer thread
// writes every waiting entry in one WriteBatch and one sync, so that many appenders share
// each sync; entries that arrive during a sync go in the next batch. Entries are numbered
// in the order the committer takes them.
//
// Reading (verification, queries) is AuditReader's, below.
//
// Thread safety: an AuditLog may be shared by many threads; Append may be called
// concurrently. At most one AuditLog may be open per ChildStore (Open refuses a second);
// the store must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "storage/record.h"
#include "util/status.h"

namespace rocksdb {
class WriteBatch;
}

namespace cp {

class ChildStore;

// Stored as one byte: never renumber.
enum class AuditAction : uint8_t {
  kLogin = 1,  // password step or code step; refusals carry the AuthError reason
  kLogout = 2,
  kSearch = 3,      // reason and criteria required unless refused
  kView = 4,        // a record view; reason required unless refused
  kShield = 5,      // reason required unless refused
  kUnshield = 6,    // reason required unless refused
  kBreakGlass = 7,  // reason required unless refused
  kFeedBatch = 8,
  kReview = 9,
  kAdmin = 10,      // accounts administration; criteria holds what was changed
  kRetention = 11,  // the daemon's daily lifecycle run (a system action); criteria: counts
  kBackup = 12,     // a backup made by the daemon (a system action); criteria: directory, id
};
const char* AuditActionName(AuditAction action);

enum class AuditOutcome : uint8_t {
  kOk = 1,
  kTooManyMatches = 2,  // a search answered "refine": no child ids
  kRefused = 3,         // see AuditRefusal
  kError = 4,           // the request failed inside the server
};
const char* AuditOutcomeName(AuditOutcome outcome);

// Why a request was refused. Stored as one byte: never renumber.
enum class AuditRefusal : uint8_t {
  kNone = 0,
  kUnregisteredAddress = 1,
  kBadCredentials = 2,
  kLocked = 3,
  kBadCode = 4,
  kNotPermitted = 5,  // the role does not allow the operation
  kQuotaExceeded = 6,
  kRateLimited = 7,
  kMissingReason = 8,
  kInvalidCriteria = 9,
  kNotFound = 10,
  kSessionExpired = 11,
  kOther = 255,
};
const char* AuditRefusalName(AuditRefusal refusal);

struct AuditEntry {
  uint64_t sequence = 0;       // assigned by Append; ignored on input
  int64_t time_micros = 0;     // Unix time in microseconds, >= 0; 0: Append stamps now
  std::string user;            // at most 255 bytes (a caller recording a refused login
                               // truncates the name given); may be empty
  std::string organisation;    // at most 255 bytes
  std::string source_address;  // the client's IP address as text; at most 255 bytes
  AuditAction action = AuditAction::kSearch;
  AuditOutcome outcome = AuditOutcome::kOk;
  AuditRefusal refusal = AuditRefusal::kNone;  // kNone unless outcome is kRefused
  std::vector<ChildId> children;               // the child ids returned, viewed, shielded, ...
  std::string reason;                          // the stated reason: sealed at rest
  std::string criteria;                        // search criteria or admin detail: sealed at rest
};

// An inclusive range of Unix times in microseconds.
struct AuditTimeRange {
  int64_t from_micros = 0;
  int64_t to_micros = std::numeric_limits<int64_t>::max();
};

struct AuditVerification {
  uint64_t entries = 0;  // entries read
  bool intact = true;
  uint64_t first_bad = 0;     // when not intact: the first sequence number at fault
  std::string problem;        // when not intact: what is wrong there (no personal data)
  std::string head_hash_hex;  // when intact: the last entry's hash (64 hex digits; empty
                              // for an empty log), to anchor outside the database
};

class AuditLog {
 public:
  struct Options {
    // false: every Append writes and syncs alone (for comparison in benchmarks).
    bool group_commit = true;
  };

  // Binds to an open store and reads the head of the chain. FailedPrecondition when
  // another AuditLog is open on the same store. Corruption — the log fails closed — when
  // `meta/audit_head` and the last entry disagree (an entry removed from the end, or a
  // head removed): appending after them would bury the damage. Run AuditReader::Verify
  // (`contactpoint audit verify`) to see where.
  static Result<std::unique_ptr<AuditLog>> Open(ChildStore* store, const Options& options);
  static Result<std::unique_ptr<AuditLog>> Open(ChildStore* store) {
    return Open(store, Options());
  }

  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;
  ~AuditLog();

  // Appends one entry, durably, and returns its sequence number. InvalidArgument (and
  // nothing written) for a field over its size limit (user, organisation, address: 255
  // bytes; reason, criteria: 64 KiB each; 100,000 child ids), a negative time, a refusal
  // code without kRefused or kRefused without one, child ids on a too-many-matches
  // search, or an empty reason on a search, view, shield, unshield or break-glass that
  // was not refused. Any other error means the entry may not be recorded: the caller
  // must not answer with data.
  Result<uint64_t> Append(const AuditEntry& entry);

  // Appends as Append does without waiting: `done` gets the same result once the entry
  // is synced (or failed). An entry that fails validation calls `done` at once, on the
  // calling thread; otherwise `done` runs on the committer thread, so it must be quick
  // (post the result elsewhere) and must not append. Every queued entry is written before
  // the log closes.
  void AppendAsync(AuditEntry entry, std::function<void(Result<uint64_t>)> done);

  // Waits until every entry queued before the call is written and its appender told.
  void Flush();

  // Writes of another part of the store that should be as durable as the audit entries
  // they go with (the accounts' search quotas): the hook adds them to each batch, in the
  // same synced write. A hook error fails the batch. Set it before the first append.
  using CommitHook = std::function<Status(rocksdb::WriteBatch*)>;
  void SetCommitHook(CommitHook hook);

  // The sequence number of the last durable entry (0 for an empty log).
  uint64_t LastSequence() const;

  // Since Open: synced writes, and the entries they held (entries / commits is the group
  // commit's batch size). For metrics; exact once appends have stopped.
  struct Counts {
    uint64_t commits = 0;
    uint64_t entries = 0;
  };
  Counts counts() const;

 private:
  class Impl;
  explicit AuditLog(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Reads the audit trail: verification and queries. Independent of AuditLog, so that a
// damaged log can still be verified and searched.
//
// Thread safety: stateless apart from the store pointer; any number of readers may run
// at once, concurrently with an AuditLog appending. Each call reads one consistent
// snapshot. The store must outlive the reader.
class AuditReader {
 public:
  explicit AuditReader(const ChildStore* store) : store_(store) {}

  // Walks the whole chain from entry 1 and reports the first fault: a missing number, a
  // hash that does not match the entry's bytes and its predecessor, a malformed entry, or
  // a head that names another last entry. Status is not OK only when the store fails.
  Result<AuditVerification> Verify() const;

  // Entries that name `child`, with time in `range`, by time then sequence number, at
  // most `limit`. *complete says whether every matching entry was returned. Reason and
  // criteria are unsealed (the caller holds the key: this is for ops and
  // investigators). Corruption when an index key names a missing or damaged entry.
  Status QueryChild(ChildId child, const AuditTimeRange& range, size_t limit,
                    std::vector<AuditEntry>* out, bool* complete) const;
  // Entries of one user, likewise.
  Status QueryUser(std::string_view user, const AuditTimeRange& range, size_t limit,
                   std::vector<AuditEntry>* out, bool* complete) const;

  // Every entry with time in `range`, in sequence order, until `visit` returns false.
  // Reason and criteria are unsealed. Reads the whole log (entries are keyed by sequence
  // number, not time): for reports, not for a request path. Corruption for an entry that
  // does not decode.
  Status ForEach(const AuditTimeRange& range,
                 const std::function<bool(const AuditEntry&)>& visit) const;

 private:
  const ChildStore* store_;
};

}  // namespace cp
