// Applying a feed batch: numbered, idempotent, crash-safe, and never leaking a shielded
// child.
//
// A feed is a sequence of batches 1, 2, ... from one source. Batch N applies only after
// N-1 (a gap is refused), a batch already applied changes nothing, and a paused source's
// batches are refused. Each record is applied as one atomic write (ChildStore::ApplyChange)
// that also records how far the batch has got, so a process killed at any point and
// restarted resumes the resent batch after the last record applied: the result is the same
// as one clean run. The last write of a batch is synced.
//
// Per record:
//   - linked (source, key): unchanged (same fingerprint) costs its share of one batched
//     read of its window's links, and writes nothing; a row parsed only as far as its key
//     (FeedRow::completer) is parsed no further;
//     changed, it updates the source record and rebuilds the child's best view; `withdraw`
//     unlinks it and rebuilds the best view from the sources left.
//   - unlinked: the Matcher decides — link (best view rebuilt), new child, or review. A
//     record already waiting in review is matched again and its item replaced or resolved.
//
// Shielding: a child's shield is never lifted here (storage refuses it); a record that
// plausibly matches a shielded child links to it or waits in review marked shielded; it
// never becomes a separate unshielded child (see ingest/matcher.h).
//
// Throughput: rows are looked up and matched in parallel a window at a time, and applied
// in order (FeedOptions::threads, window); the next window is looked up while this one is
// applied. An update's or a withdrawal's change (the child's best view rebuilt from its
// source records) is built there too, so the applying thread mostly writes.
//
// Thread safety: one FeedApplier per batch; batches of one store are applied one at a time.
#pragma once

#include <functional>
#include <optional>
#include <string>

#include "ingest/best_view.h"
#include "ingest/matcher.h"
#include "storage/child_store.h"
#include "util/parallel.h"

namespace cp {

struct FeedRow;

// Finishes parsing rows that were parsed only as far as their source key (FeedRow::completer).
class FeedRowCompleter {
 public:
  virtual ~FeedRowCompleter() = default;
  // Parses the rest of the row from row->fields and clears both fields and completer;
  // InvalidArgument naming the column and the fault, never the value.
  virtual Status Complete(FeedRow* row) const = 0;
};

// One row of a feed file, parsed.
struct FeedRow {
  size_t line = 0;  // in the file, for messages
  SourceRecord record;
  bool withdraw = false;
  std::string raw;  // the row as read: its keyed fingerprint tells an unchanged record
  // Set when the row is parsed only as far as record.ref.key, `raw` and `withdraw`: the
  // applier has `completer` parse the rest from `fields` unless the row turns out to be
  // unchanged (parsing is most of what an unchanged row would cost). Such a row is not
  // checked further: it is the row the store accepted before.
  const FeedRowCompleter* completer = nullptr;
  std::vector<std::string> fields;
};

// Yields rows in file order: returns false at the end; a row that could not be parsed
// comes back with `*error` set (it is counted as rejected and reported).
using FeedRowSource = std::function<bool(FeedRow* row, std::string* error)>;

struct FeedBatchResult {
  bool already_applied = false;  // the batch had been applied before: nothing changed
  uint64_t resumed_at_row = 0;   // rows skipped because an interrupted run applied them
  FeedCounts counts;             // of the whole batch (including rows applied before a crash)
};

struct FeedOptions {
  MatchWeights weights;
  BestViewRules rules = BestViewRules::Defaults();
  // A kill point for crash tests (as RocksDB's): after this many record writes of a batch
  // the process sends itself SIGKILL. 0: never. `contactpoint feed apply` sets it from the
  // environment variable CP_FEED_KILL_AFTER_WRITES.
  uint64_t kill_after_writes = 0;
  // Rows are read `window` at a time and looked up and matched ahead on `threads` threads
  // (0: one per core), then applied one at a time in file order by the calling thread,
  // while the threads look the next window up. A row that a row written since its lookup
  // began could have affected (one of its own window before it, or any of the window
  // before: the same source key, a child written that could be its candidate, or a
  // rewritten child that was one) is looked up and matched again at its turn, so the
  // result is the same as one row after another.
  size_t threads = 0;
  size_t window = 128;
  // For tests: called on the applying thread with a row's index (from 0) once its change
  // is decided, just before the change is written; a test makes another caller's write
  // land there.
  std::function<void(uint64_t)> before_apply;
};

// The best-view rules and match weights are kept in the database, so that every command
// that writes it (feed apply, review, merge, unmerge, the server's FeedBatch) uses the same
// ones. Stored as the text of their files (BestViewRules::Parse, ParseMatchWeights).
inline constexpr std::string_view kRulesSetting = "best_view_rules";
inline constexpr std::string_view kWeightsSetting = "match_weights";

// The stored rules and weights (the defaults for whichever was never stored). Corruption
// when a stored text no longer parses.
Result<FeedOptions> StoredFeedOptions(const ChildStore& store);
// Checks, then stores, new rules and/or weights (an absent one is left as it is).
// InvalidArgument, naming the line, for a text that does not parse: nothing is stored.
Status StoreFeedSettings(ChildStore* store, const std::optional<std::string>& rules_text,
                         const std::optional<std::string>& weights_text);

// The review payload: the record and the candidates it was queued against.
struct ReviewPayload {
  FeedRow row;
  MatchOutcome outcome;
};
std::string EncodeReviewPayload(const ReviewPayload& p);
Result<ReviewPayload> DecodeReviewPayload(std::string_view bytes);

// Whether a review item is a shielded child's record now: queued as one, one of its
// candidates (followed through merges) shielded since, or a candidate shielded when it
// was queued that the record scored at least the stored `shield_lower` against (one far
// below does not count). SetShield does not revisit the queue, so deciding an item and
// showing it both ask this, not ReviewItem::shielded.
Result<bool> ReviewItemShielded(const ChildStore& store, const ReviewItem& item,
                                const ReviewPayload& payload);

class FeedApplier {
 public:
  FeedApplier(ChildStore* store, FeedOptions options);

  // Applies batch `batch` (1, 2, ...) of `source`. FailedPrecondition when the source is
  // paused; InvalidArgument for a batch number out of sequence (a gap) or 0. `report`
  // receives one message per rejected row, naming its line and the fault but no value.
  Status ApplyBatch(const std::string& source, uint64_t batch, const FeedRowSource& rows,
                    const std::function<void(const std::string&)>& report, FeedBatchResult* result);

  // Applies one unlinked record to a child a reviewer chose, or as a new child (child 0),
  // resolving its review item and recording the decision (used by `review link|new`).
  Status ResolveReview(uint64_t review_id, ChildId child, FeedCounts* counts);

  // Merges child `merged` into child `kept`: every source link moves to `kept`, whose best
  // view is rebuilt from all of them; `merged` resolves to `kept` from then on. The result
  // is shielded when either child was. InvalidArgument when the two are one child.
  Status Merge(ChildId kept, ChildId merged);

  // Detaches one source record from `child` into a new child of its own (with `child`'s
  // shield, if any), rebuilds both best views and records that the two are different
  // children so matching never joins them again. Returns the new child's id.
  // FailedPrecondition when the record is the child's only source; NotFound when `child`
  // does not hold it.
  Result<ChildId> Unmerge(ChildId child, const SourceRef& ref);

 private:
  // A row's reads, done ahead of its turn (possibly on another thread).
  struct Lookahead {
    Status status;                          // of the reads; not OK: the batch stops
    Result<SourceLink> link = Status::NotFound("");
    uint64_t fingerprint = 0;               // of the row, when it is linked
    Result<ReviewItem> waiting = Status::NotFound("");
    std::optional<MatchOutcome> outcome;    // an unlinked row that is not withdrawn
    BlockingProfile profile;                // of the row, when matched
    std::shared_ptr<const BlockingState> blocking;  // what the match's blocking found
    uint64_t shields_seen = 0;  // ChildStore::ShieldsSet() before the reads (FeedChange)
    // A linked row that changes its child (an update, a withdrawal): the change, built
    // ahead from the child and its other source records as read then (PrepareLinked). Used
    // only while the child is not rewritten before the row's turn (then it is built again).
    std::optional<FeedChange> linked_change;
  };
  // `link`: the row's source link, already read (FindSources, a window's at once).
  Lookahead LookAhead(const FeedRow& row, Result<SourceLink> link) const;

  // For a linked row that changes its child (the row parsed in full): builds the change in
  // `ahead->linked_change`, on the looking-up thread, so that the applying thread only
  // writes it. Nothing for any other row.
  void PrepareLinked(const FeedRow& row, Lookahead* ahead) const;

  // What one row changes; `change` is empty when nothing changes. `ahead`: the row's reads
  // done ahead and still valid (its prepared change is moved out); null: read now.
  Status ProcessRow(const FeedRow& row, Lookahead* ahead, FeedChange* change, FeedCounts* counts,
                    const std::function<void(const std::string&)>& report);
  Status LinkTo(const FeedRow& row, ChildId child, FeedChange* change) const;
  // One attempt each of Merge and Unmerge: IsChangedSince() when the store changed between
  // the reads and the write.
  Status MergeOnce(ChildId kept, ChildId merged);
  Result<ChildId> UnmergeOnce(ChildId child, const SourceRef& ref);
  Status RebuildWithout(ChildId child, const SourceRef& removed, FeedChange* change) const;
  Status SourcesOf(const ChildView& child, const SourceRef* skip,
                   std::vector<SourceRecord>* out) const;

  ChildStore* store_;
  FeedOptions options_;
  Matcher matcher_;
  Clearance clearance_;
  std::unique_ptr<WorkerPool> pool_;  // looks rows up ahead (ApplyBatch); made on first use
};

}  // namespace cp
