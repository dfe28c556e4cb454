// What the feed layer (ingest/) writes through ChildStore: feed state per source, the
// source records linked to children, the review queue, reviewers' decisions, and the
// change one feed record makes — applied by ChildStore::ApplyChange as one WriteBatch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "storage/record.h"
#include "util/status.h"

namespace cp {

// What one batch (or a source's whole history) did to its records.
struct FeedCounts {
  uint64_t linked = 0;     // unlinked records matched to an existing child
  uint64_t created = 0;    // records that became a new child
  uint64_t updated = 0;    // linked records whose content changed
  uint64_t unchanged = 0;  // linked records sent again unchanged
  uint64_t review = 0;     // records waiting in the review queue
  uint64_t withdrawn = 0;  // records the source no longer holds
  uint64_t rejected = 0;   // rows refused (malformed, or nothing to withdraw)
  friend bool operator==(const FeedCounts&, const FeedCounts&) = default;
};

// The state of one source's feed. Batches are numbered 1, 2, ...; batch N applies only
// after N-1. While a batch is being applied, `open_batch` names it and `next_row` says how
// many of its rows are already applied: a batch resent after a crash resumes there.
struct FeedState {
  std::string source;
  uint64_t last_batch = 0;  // last batch applied in full; 0 = none yet
  int64_t last_unix = 0;    // when it finished
  bool paused = false;      // a paused source's batches are refused
  FeedCounts last_counts;   // what last_batch did
  uint64_t open_batch = 0;  // a batch begun and not finished; 0 = none
  uint64_t next_row = 0;    // rows of open_batch already applied (data rows, from 0)
  FeedCounts open_counts;   // what those rows did
  friend bool operator==(const FeedState&, const FeedState&) = default;
};

// One source's latest record of a child, parsed. `record` holds the visible fields as the
// source gave them (its id, shield, sources and provenance are not used); `seq` orders
// records by arrival, store-wide, for "most recent wins" rules.
struct SourceRecord {
  SourceRef ref;
  ChildRecord record;
  HiddenFields hidden;
  uint64_t seq = 0;
};

// The plaintext of a source link's sealed value (and of review payloads): what the
// source said, parsed, and its arrival sequence.
std::string EncodeSourceRecord(const ChildRecord& record, const HiddenFields& hidden, uint64_t seq);
Status DecodeSourceRecord(std::string_view bytes, ChildRecord* record, HiddenFields* hidden,
                          uint64_t* seq);

// A feed record waiting for a person to decide. `payload` is the feed layer's own
// encoding (the record and its candidates); storage keeps it sealed. `shielded` says the
// record plausibly matched a shielded child: its location fields are then treated exactly
// as a shielded child's.
struct ReviewItem {
  uint64_t id = 0;
  SourceRef ref;
  bool shielded = false;
  std::string payload;
};

// A reviewer's (or an unmerge's) word on a source record and a child: the same child or
// not. Matching honours it, so the same pair never comes back to the queue.
struct PairDecision {
  SourceRef ref;
  ChildId child = 0;
  bool same = false;
};

// What no feed decides about a child: its shield and its lifecycle (archive date and
// consents). Other callers change them beside a feed batch (SetShield, ArchiveChild from
// the daemon's daily run, consent), and a best view carries them over from the child as
// read (BuildBestView).
struct ChildStanding {
  bool shielded = false;
  LifecycleState lifecycle;
  friend bool operator==(const ChildStanding&, const ChildStanding&) = default;
};
inline ChildStanding StandingOf(const ChildRecord& r) { return {r.shield.shielded, r.lifecycle}; }

// Everything one feed record changes, applied atomically.
struct FeedChange {
  struct ChildWrite {
    // The complete best view. id 0 = a new child: the store assigns its id. For an
    // existing child the store rewrites its postings from the old and new records.
    ChildRecord record;
    HiddenFields hidden;
    // For an existing child: its standing as read when this write was computed. When the
    // stored child's differs, ApplyChange writes nothing and returns a status
    // IsChangedSince() recognises: written, the record would undo an archive, a consent
    // or a shield change made since.
    std::optional<ChildStanding> read_as;
  };
  struct LinkWrite {
    SourceRecord source;  // seq is assigned by the store (kept for a moved link)
    std::string fingerprint_input;  // the raw row, whose keyed hash tells it unchanged later
    std::optional<uint64_t> fingerprint;  // when set, stored as is (a link moved by a merge)
    ChildId child = 0;    // the linked child, or 0 with new_child naming one of `children`
    int new_child = -1;
  };
  // A child merged into another: its record, hidden fields and postings are deleted and
  // its id resolves to `merged_into` from then on.
  struct Removal {
    ChildId child = 0;
    ChildId merged_into = 0;
  };
  std::vector<ChildWrite> children;
  std::vector<Removal> removals;
  std::vector<LinkWrite> links;
  std::vector<SourceRef> unlinks;
  std::optional<ReviewItem> review_put;  // id 0 = a new item: the store assigns its id
  std::vector<uint64_t> review_erase;
  std::vector<PairDecision> decisions;
  std::optional<FeedState> feed_state;
  bool sync = false;  // sync the write-ahead log (the end of a batch)
  // ChildStore::ShieldsSet() as it was before the reads this change was decided on. When
  // set and a shield has been set since (by another caller: the daemon's SetShield runs
  // beside a feed batch), ApplyChange writes nothing and returns a status
  // IsChangedSince() recognises: a record decided new against a child unshielded then
  // must be decided again, or it could become an unshielded duplicate of a child shielded
  // now.
  std::optional<uint64_t> shields_seen;
};

// A change refused because the store changed since it was decided (a shield set, or a
// written child's standing changed): the caller decides it again on what the store holds.
inline constexpr std::string_view kChangedSince =
    "the store changed since this change was decided: decide it again";
inline bool IsChangedSince(const Status& s) {
  return s.code() == Status::Code::kFailedPrecondition && s.message() == kChangedSince;
}

}  // namespace cp
