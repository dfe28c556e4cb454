#include "ingest/feed_applier.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <ctime>
#include <thread>
#include <unordered_set>

#include "ingest/written_since.h"
#include "util/coding.h"
#include "util/parallel.h"

namespace cp {
namespace {

// A string as the first review payload encoding wrote it: an 8-byte length, then the bytes.
bool GetFixedString(ByteReader* in, std::string* s) {
  uint64_t n = 0;
  return in->U64(&n) && in->Bytes(n, s);
}

void Count(FeedCounts* c, MatchDecision d) {
  switch (d) {
    case MatchDecision::kLink: ++c->linked; break;
    case MatchDecision::kNew: ++c->created; break;
    case MatchDecision::kReview: ++c->review; break;
  }
}

// The names of a candidate's fields and levels (Matcher::Compare's), each written as its
// index here: a shielded record's item lists every shielded namesake (hundreds at 1M
// children), each with half a dozen fields. A name not listed is written out (kSpelled).
// Stored: add names at the end only; an index, once written, means its name for good.
constexpr std::string_view kReviewWords[] = {
    "given_name", "family_name", "date_of_birth", "gender",   "postcode",
    "address",    "nhs_number",  "pupil_number",  "record",   "postcode_address",
    "exact",      "phonetic",    "typo",          "nickname", "initial",
    "middle",     "part",        "former",        "swapped",  "one_digit",
    "district",   "close",       "agree",         "disagree", "missing",
    "unread"};
constexpr uint8_t kSpelled = 0xff;

void PutWord(std::string* out, std::string_view word) {
  for (size_t i = 0; i < std::size(kReviewWords); ++i) {
    if (kReviewWords[i] == word) {
      out->push_back(static_cast<char>(i));
      return;
    }
  }
  out->push_back(static_cast<char>(kSpelled));
  PutVarint64(out, word.size());
  out->append(word);
}

bool GetWord(ByteReader* in, std::string* word) {
  uint8_t index = 0;
  if (!in->Byte(&index)) return false;
  if (index < std::size(kReviewWords)) {
    word->assign(kReviewWords[index]);
    return true;
  }
  uint64_t n = 0;
  return index == kSpelled && in->Varint64(&n) && in->Bytes(n, word);
}

// Weights and totals in thousandths of a bit, as the first encoding kept them.
int64_t Milli(double v) { return std::llround(v * 1000); }

void PutVarString(std::string* out, std::string_view s) {
  PutVarint64(out, s.size());
  out->append(s);
}

bool GetVarString(ByteReader* in, std::string* s) {
  uint64_t n = 0;
  return in->Varint64(&n) && in->Bytes(n, s);
}

uint8_t CandidateFlags(const ScoredCandidate& c) {
  return static_cast<uint8_t>((c.shielded ? 1 : 0) | (c.identifier_agrees ? 2 : 0) |
                              (c.names_disagree ? 4 : 0) | (c.given_disagrees ? 8 : 0) |
                              (c.dob_disagrees ? 16 : 0));
}

void SetCandidateFlags(uint64_t flags, ScoredCandidate* c) {
  c->shielded = flags & 1;
  c->identifier_agrees = flags & 2;
  c->names_disagree = flags & 4;
  c->given_disagrees = flags & 8;
  c->dob_disagrees = flags & 16;
}

// The first encoding (0x01), every number 8 bytes: items queued before 2026-12-01.
Result<ReviewPayload> DecodeReviewPayloadV1(std::string_view bytes) {
  auto bad = [] { return Status::Corruption("review payload is malformed"); };
  ByteReader in(bytes.substr(1));
  ReviewPayload p;
  std::string encoded;
  uint64_t line = 0, decision = 0, shielded = 0, n = 0;
  if (!GetFixedString(&in, &encoded) || !GetFixedString(&in, &p.row.record.ref.source) ||
      !GetFixedString(&in, &p.row.record.ref.key) || !GetFixedString(&in, &p.row.raw) ||
      !in.U64(&line) || !in.U64(&decision) || !in.U64(&shielded) ||
      !GetFixedString(&in, &p.outcome.reason) || !in.U64(&n) || decision > 2) {
    return bad();
  }
  Status s =
      DecodeSourceRecord(encoded, &p.row.record.record, &p.row.record.hidden, &p.row.record.seq);
  if (!s.ok()) return s;
  p.row.line = line;
  p.outcome.decision = static_cast<MatchDecision>(decision);
  p.outcome.shielded = shielded != 0;
  for (uint64_t i = 0; i < n; ++i) {
    ScoredCandidate c;
    uint64_t flags = 0, total = 0, fields = 0;
    if (!in.U64(&c.child) || !in.U64(&flags) || !in.U64(&total) || !in.U64(&fields)) {
      return bad();
    }
    SetCandidateFlags(flags, &c);
    c.total = (static_cast<int64_t>(total) - (int64_t{1} << 40)) / 1000.0;
    for (uint64_t j = 0; j < fields; ++j) {
      FieldComparison f;
      uint64_t w = 0;
      if (!GetFixedString(&in, &f.field) || !GetFixedString(&in, &f.level) || !in.U64(&w))
        return bad();
      f.weight = (static_cast<int64_t>(w) - (int64_t{1} << 40)) / 1000.0;
      c.fields.push_back(std::move(f));
    }
    p.outcome.candidates.push_back(std::move(c));
  }
  return p;
}

}  // namespace

// 0x02: strings and counts as varints, totals and weights as signed varints of thousandths,
// field and level names as one byte each (kReviewWords). About 5 bytes a field against
// the first encoding's ~45 (decoded the same).
std::string EncodeReviewPayload(const ReviewPayload& p) {
  std::string out(1, 0x02);
  PutVarString(&out,
               EncodeSourceRecord(p.row.record.record, p.row.record.hidden, p.row.record.seq));
  PutVarString(&out, p.row.record.ref.source);
  PutVarString(&out, p.row.record.ref.key);
  PutVarString(&out, p.row.raw);
  PutVarint64(&out, p.row.line);
  out.push_back(static_cast<char>(p.outcome.decision));
  out.push_back(static_cast<char>(p.outcome.shielded ? 1 : 0));
  PutVarString(&out, p.outcome.reason);
  PutVarint64(&out, p.outcome.candidates.size());
  for (const auto& c : p.outcome.candidates) {
    PutVarint64(&out, c.child);
    out.push_back(static_cast<char>(CandidateFlags(c)));
    PutVarint64(&out, ZigZag64(Milli(c.total)));
    PutVarint64(&out, c.fields.size());
    for (const auto& f : c.fields) {
      PutWord(&out, f.field);
      PutWord(&out, f.level);
      PutVarint64(&out, ZigZag64(Milli(f.weight)));
    }
  }
  return out;
}

Result<bool> ReviewItemShielded(const ChildStore& store, const ReviewItem& item,
                                const ReviewPayload& payload) {
  if (item.shielded) return true;
  std::optional<double> shield_lower;  // the stored weights', read when first needed
  for (const auto& c : payload.outcome.candidates) {
    // A candidate shielded when the item was queued counts when the record scored at least
    // `shield_lower` against it (plausibly its record, though an unshielded child between
    // the thresholds kept the item unshielded). One far below does not: every shielded
    // child sharing a code is listed, and with 1 in 100 children shielded, counting them
    // all made nearly every item shielded, and no reviewer could link one to the
    // unshielded child it is.
    if (c.shielded) {
      if (!shield_lower) {
        auto options = StoredFeedOptions(store);
        if (!options.ok()) return options.status();
        shield_lower = options->weights.shield_lower;
      }
      if (c.total >= *shield_lower) return true;
      continue;
    }
    auto now = store.Resolve(c.child);
    if (!now.ok()) continue;  // deleted since
    auto record = store.GetRecord(*now);
    if (!record.ok() && !record.status().IsNotFound()) return record.status();
    if (record.ok() && record->shield.shielded) return true;
  }
  return false;
}

Result<ReviewPayload> DecodeReviewPayload(std::string_view bytes) {
  auto bad = [] { return Status::Corruption("review payload is malformed"); };
  if (bytes.empty()) return bad();
  if (bytes[0] == 0x01) return DecodeReviewPayloadV1(bytes);
  if (bytes[0] != 0x02) return bad();
  ByteReader in(bytes.substr(1));
  ReviewPayload p;
  std::string encoded;
  uint64_t line = 0, n = 0;
  uint8_t decision = 0, shielded = 0;
  if (!GetVarString(&in, &encoded) || !GetVarString(&in, &p.row.record.ref.source) ||
      !GetVarString(&in, &p.row.record.ref.key) || !GetVarString(&in, &p.row.raw) ||
      !in.Varint64(&line) || !in.Byte(&decision) || !in.Byte(&shielded) ||
      !GetVarString(&in, &p.outcome.reason) || !in.Varint64(&n) || decision > 2 || shielded > 1) {
    return bad();
  }
  Status s = DecodeSourceRecord(encoded, &p.row.record.record, &p.row.record.hidden, &p.row.record.seq);
  if (!s.ok()) return s;
  p.row.line = line;
  p.outcome.decision = static_cast<MatchDecision>(decision);
  p.outcome.shielded = shielded != 0;
  // A candidate takes at least 4 bytes: a count beyond that is damage, not a reservation.
  if (n > in.remaining() / 4) return bad();
  p.outcome.candidates.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    ScoredCandidate c;
    uint8_t flags = 0;
    uint64_t total = 0, fields = 0;
    if (!in.Varint64(&c.child) || !in.Byte(&flags) || !in.Varint64(&total) ||
        !in.Varint64(&fields) || flags > 31 || fields > in.remaining() / 3) {
      return bad();
    }
    SetCandidateFlags(flags, &c);
    c.total = static_cast<double>(UnZigZag64(total)) / 1000.0;
    c.fields.reserve(fields);
    for (uint64_t j = 0; j < fields; ++j) {
      FieldComparison f;
      uint64_t w = 0;
      if (!GetWord(&in, &f.field) || !GetWord(&in, &f.level) || !in.Varint64(&w)) return bad();
      f.weight = static_cast<double>(UnZigZag64(w)) / 1000.0;
      c.fields.push_back(std::move(f));
    }
    p.outcome.candidates.push_back(std::move(c));
  }
  if (!in.empty()) return bad();
  return p;
}

Result<FeedOptions> StoredFeedOptions(const ChildStore& store) {
  FeedOptions options;
  auto rules = store.GetSetting(kRulesSetting);
  if (rules.ok()) {
    auto parsed = BestViewRules::Parse(*rules);
    if (!parsed.ok()) return Status::Corruption("stored best-view rules: " + parsed.status().message());
    options.rules = std::move(*parsed);
  } else if (!rules.status().IsNotFound()) {
    return rules.status();
  }
  auto weights = store.GetSetting(kWeightsSetting);
  if (weights.ok()) {
    auto parsed = ParseMatchWeights(*weights);
    if (!parsed.ok()) return Status::Corruption("stored match weights: " + parsed.status().message());
    options.weights = *parsed;
  } else if (!weights.status().IsNotFound()) {
    return weights.status();
  }
  return options;
}

Status StoreFeedSettings(ChildStore* store, const std::optional<std::string>& rules_text,
                         const std::optional<std::string>& weights_text) {
  if (rules_text) {
    auto parsed = BestViewRules::Parse(*rules_text);
    if (!parsed.ok()) return parsed.status();
  }
  if (weights_text) {
    auto parsed = ParseMatchWeights(*weights_text);
    if (!parsed.ok()) return parsed.status();
  }
  if (rules_text) {
    Status s = store->PutSetting(kRulesSetting, *rules_text);
    if (!s.ok()) return s;
  }
  if (weights_text) return store->PutSetting(kWeightsSetting, *weights_text);
  return Status::OK();
}

FeedApplier::FeedApplier(ChildStore* store, FeedOptions options)
    : store_(store),
      options_(std::move(options)),
      matcher_(store, options_.weights),
      clearance_(Clearance::Elevated(Clearance::Level::kMatching, "feed", "feed matching")) {}

// A child's source records (all but `skip`). A source record stored by an import from
// before feeds (not decodable as a parsed record) is stood in for by the child's current
// view, which is what that source said.
Status FeedApplier::SourcesOf(const ChildView& child, const SourceRef* skip,
                              std::vector<SourceRecord>* out) const {
  for (const auto& ref : child.record.sources) {
    if (skip != nullptr && ref == *skip) continue;
    auto rec = store_->GetSourceRecord(ref, clearance_);
    if (rec.ok()) {
      out->push_back(std::move(*rec));
    } else if (rec.status().code() == Status::Code::kCorruption && child.hidden) {
      out->push_back(SourceRecord{ref, child.record, *child.hidden, 0});
    } else if (!rec.status().IsNotFound()) {
      return rec.status();
    }
  }
  return Status::OK();
}

Status FeedApplier::LinkTo(const FeedRow& row, ChildId child, FeedChange* change) const {
  auto view = store_->Get(child, clearance_);
  if (!view.ok()) return view.status();
  std::vector<SourceRecord> sources;
  Status s = SourcesOf(*view, &row.record.ref, &sources);
  if (!s.ok()) return s;
  SourceRecord incoming = row.record;
  incoming.seq = UINT64_MAX;  // the newest: its seq is assigned when stored
  sources.push_back(incoming);
  FeedChange::ChildWrite w{view->record, {}, StandingOf(view->record)};
  BuildBestView(options_.rules, sources, &w.record, &w.hidden);
  change->children.push_back(std::move(w));
  change->links.push_back({row.record, row.raw, {}, view->record.id, -1});
  return Status::OK();
}

Status FeedApplier::RebuildWithout(ChildId child, const SourceRef& removed,
                                   FeedChange* change) const {
  auto view = store_->Get(child, clearance_);
  if (!view.ok()) return view.status();
  std::vector<SourceRecord> sources;
  Status s = SourcesOf(*view, &removed, &sources);
  if (!s.ok()) return s;
  FeedChange::ChildWrite w{view->record, *view->hidden, StandingOf(view->record)};
  if (sources.empty()) {
    // The last source withdrew: the child stays, as last seen, with no source.
    w.record.sources.clear();
    w.record.provenance.clear();
  } else {
    BuildBestView(options_.rules, sources, &w.record, &w.hidden);
  }
  change->children.push_back(std::move(w));
  change->unlinks.push_back(removed);
  return Status::OK();
}

FeedApplier::Lookahead FeedApplier::LookAhead(const FeedRow& row, Result<SourceLink> link) const {
  Lookahead a;
  // Before anything the decision reads (the link says nothing of shields).
  a.shields_seen = store_->ShieldsSet();
  const SourceRef& ref = row.record.ref;
  a.link = std::move(link);
  if (a.link.ok()) {
    a.fingerprint = store_->Fingerprint(row.raw);
    return a;
  }
  if (!a.link.status().IsNotFound()) {
    a.status = a.link.status();
    return a;
  }
  a.waiting = store_->FindReview(ref, Clearance::Ordinary());
  if (!a.waiting.ok() && !a.waiting.status().IsNotFound()) {
    a.status = a.waiting.status();
    return a;
  }
  if (row.withdraw) return a;
  auto outcome = matcher_.Match(row.record, &a.blocking);
  if (!outcome.ok()) {
    a.status = outcome.status();
    return a;
  }
  a.outcome = std::move(*outcome);
  a.profile = MakeBlockingProfile(row.record.record, row.record.hidden);
  return a;
}

void FeedApplier::PrepareLinked(const FeedRow& row, Lookahead* ahead) const {
  if (!ahead->status.ok() || !ahead->link.ok()) return;
  if (!row.withdraw && ahead->fingerprint == ahead->link->fingerprint) return;
  FeedChange change;
  Status s = row.withdraw ? RebuildWithout(ahead->link->child, row.record.ref, &change)
                          : LinkTo(row, ahead->link->child, &change);
  // A failed read is left to the row's turn, which reads again and reports it in order.
  if (s.ok()) ahead->linked_change = std::move(change);
}

Status FeedApplier::ProcessRow(const FeedRow& row, Lookahead* ahead, FeedChange* change,
                               FeedCounts* counts,
                               const std::function<void(const std::string&)>& report) {
  Lookahead now;
  if (ahead == nullptr) {
    now = LookAhead(row, store_->FindSource(row.record.ref.source, row.record.ref.key));
    ahead = &now;
  }
  if (!ahead->status.ok()) return ahead->status;
  change->shields_seen = ahead->shields_seen;
  const SourceRef& ref = row.record.ref;
  const Result<SourceLink>& link = ahead->link;
  // The change built ahead, when there is one (PrepareLinked).
  auto take_prepared = [&] {
    if (!ahead->linked_change) return false;
    const std::optional<uint64_t> shields_seen = change->shields_seen;
    *change = std::move(*ahead->linked_change);
    change->shields_seen = shields_seen;
    ahead->linked_change.reset();
    return true;
  };
  if (link.ok()) {
    if (row.withdraw) {
      ++counts->withdrawn;
      if (take_prepared()) return Status::OK();
      return RebuildWithout(link->child, ref, change);
    }
    if (ahead->fingerprint == link->fingerprint) {
      ++counts->unchanged;
      return Status::OK();
    }
    ++counts->updated;
    if (take_prepared()) return Status::OK();
    return LinkTo(row, link->child, change);
  }
  const Result<ReviewItem>& waiting = ahead->waiting;
  if (row.withdraw) {
    if (!waiting.ok()) {
      ++counts->rejected;
      report("line " + std::to_string(row.line) + ": withdraw: source_key not held");
      return Status::OK();
    }
    ++counts->withdrawn;
    change->review_erase.push_back(waiting->id);
    return Status::OK();
  }
  const std::optional<MatchOutcome>& outcome = ahead->outcome;
  if (!outcome) return Status::Corruption("a row was not matched");
  Count(counts, outcome->decision);
  switch (outcome->decision) {
    case MatchDecision::kLink: {
      if (waiting.ok()) change->review_erase.push_back(waiting->id);
      return LinkTo(row, outcome->child, change);
    }
    case MatchDecision::kNew: {
      if (waiting.ok()) change->review_erase.push_back(waiting->id);
      FeedChange::ChildWrite w;
      BuildBestView(options_.rules, {row.record}, &w.record, &w.hidden);
      change->children.push_back(std::move(w));
      change->links.push_back({row.record, row.raw, {}, 0, 0});
      return Status::OK();
    }
    case MatchDecision::kReview: {
      ReviewItem item;
      item.id = waiting.ok() ? waiting->id : 0;
      item.ref = ref;
      item.shielded = outcome->shielded;
      item.payload = EncodeReviewPayload({row, *outcome});
      change->review_put = std::move(item);
      return Status::OK();
    }
  }
  return Status::OK();
}

Status FeedApplier::ApplyBatch(const std::string& source, uint64_t batch, const FeedRowSource& rows,
                               const std::function<void(const std::string&)>& report,
                               FeedBatchResult* result) {
  if (source.empty() || source.size() > 255) return Status::InvalidArgument("a source name must be 1 to 255 bytes");
  if (batch == 0) return Status::InvalidArgument("batches are numbered from 1");
  auto state = store_->GetFeedState(source);
  if (!state.ok()) return state.status();
  if (state->paused) {
    return Status::FailedPrecondition("source " + source + " is paused: its batches are refused until "
                                      "`contactpoint feed resume --source " + source + "`");
  }
  if (batch <= state->last_batch) {
    result->already_applied = true;
    result->counts = batch == state->last_batch ? state->last_counts : FeedCounts{};
    return Status::OK();
  }
  if (batch != state->last_batch + 1) {
    return Status::InvalidArgument("batch " + std::to_string(batch) + " of source " + source +
                                   " is out of sequence: the next batch is " +
                                   std::to_string(state->last_batch + 1));
  }
  FeedState progress = *state;
  if (progress.open_batch != batch) {
    progress.open_batch = batch;
    progress.next_row = 0;
    progress.open_counts = {};
  }
  result->resumed_at_row = progress.next_row;
  // Counts of rows applied before an interrupted run stopped are in the state; rows after
  // the last write (unchanged, rejected) are counted again as they are read again.
  FeedCounts counts = progress.open_counts;
  uint64_t row_index = 0, writes = 0;
  const size_t window_size = std::max<size_t>(1, options_.window);
  // The applying thread joins the lookup once it has applied its window: one thread fewer
  // in the pool keeps `threads` busy, not more.
  const size_t workers = std::max<size_t>(1, ThreadsFor(options_.threads) - 1);
  if (pool_ == nullptr || pool_->threads() != workers) pool_ = std::make_unique<WorkerPool>(workers);

  struct Slot {
    FeedRow row;
    std::string error;
    uint64_t index = 0;
    Lookahead ahead;
    std::atomic<bool> link_read{false};  // ahead.link holds the row's link (look_ahead)
  };
  // Two windows: the pool looks the rows of one up while this thread applies the other's.
  std::vector<Slot> applying(window_size), looking(window_size);
  // Waits for the pool on every way out: its job reads the windows.
  struct WaitForPool {
    WorkerPool* pool;
    ~WaitForPool() { pool->Wait(); }
  } wait_for_pool{pool_.get()};
  bool more = true;
  // Reads the next window of rows into `w` (those an interrupted run applied are skipped).
  auto read_window = [&](std::vector<Slot>& w) {
    size_t n = 0;
    while (more && n < window_size) {
      Slot& slot = w[n];
      slot.error.clear();
      slot.ahead = Lookahead();
      if (!rows(&slot.row, &slot.error)) {
        more = false;
        break;
      }
      slot.index = row_index++;
      if (slot.index < progress.next_row) continue;
      slot.row.record.ref.source = source;
      ++n;
    }
    return n;
  };
  // Looks every row of `w` up and matches it, on the pool, against the store as it is
  // while the window before is applied: each row's reads may see any part of that
  // window's writes, and none of its own window's.
  //
  // The job's first items read the rows' source links, kLinkChunk rows at a time (one
  // batched MultiGet each: an unchanged row costs little else); the rest look one row up
  // each. The pool hands items out in order, so a row's chunk is taken before the row and
  // its wait is short.
  static constexpr size_t kLinkChunk = 32;
  // Parses the rest of a row parsed only as far as its key (FeedRow::completer); a fault
  // rejects the row as a fault found by the row source would.
  auto complete = [](Slot* slot) {
    if (slot->row.completer == nullptr) return;
    Status s = slot->row.completer->Complete(&slot->row);
    if (!s.ok()) slot->error = "line " + std::to_string(slot->row.line) + ": " + s.message();
  };
  auto look_ahead = [&](std::vector<Slot>& w, size_t n) {
    // The slots themselves, not the vector: the two windows' vectors swap while it runs.
    Slot* slots = w.data();
    const size_t chunks = (n + kLinkChunk - 1) / kLinkChunk;
    for (size_t i = 0; i < n; ++i) slots[i].link_read.store(false, std::memory_order_relaxed);
    pool_->Start(chunks + n, [this, slots, n, chunks, &source, &complete](size_t item) {
      if (item < chunks) {
        const size_t begin = item * kLinkChunk, end = std::min(n, begin + kLinkChunk);
        std::vector<std::string_view> keys;
        keys.reserve(end - begin);
        for (size_t i = begin; i < end; ++i) keys.push_back(slots[i].row.record.ref.key);
        auto links = store_->FindSources(source, keys);
        for (size_t i = begin; i < end; ++i) {
          slots[i].ahead.link = std::move(links[i - begin]);
          slots[i].link_read.store(true, std::memory_order_release);
        }
        return;
      }
      Slot& slot = slots[item - chunks];
      while (!slot.link_read.load(std::memory_order_acquire)) std::this_thread::yield();
      if (!slot.error.empty()) return;
      // A row parsed only as far as its key is parsed in full unless it is linked and
      // unchanged (a linked row's lookahead reads nothing else).
      if (!slot.ahead.link.ok()) complete(&slot);
      if (!slot.error.empty()) return;
      slot.ahead = LookAhead(slot.row, std::move(slot.ahead.link));
      if (slot.ahead.link.ok() && slot.ahead.fingerprint != slot.ahead.link->fingerprint)
        complete(&slot);
      if (slot.error.empty()) PrepareLinked(slot.row, &slot.ahead);
    });
  };

  // What was written since the window being applied was looked up: by the window before
  // it (`earlier_*`, and the first `earlier_written`/`earlier_added` entries of the lists)
  // and by its own rows so far: source keys, the children written (as blocking sees them;
  // `written_new`: created), the existing children rewritten, and the children created
  // (as stored, rewrites included).
  std::unordered_set<std::string> earlier_sources, touched_sources;
  std::unordered_set<ChildId> earlier_children, touched_children;
  WrittenSince written;
  std::vector<AddedChild> added;
  size_t earlier_written = 0, earlier_added = 0;

  size_t n = read_window(applying);
  look_ahead(applying, n);
  while (n > 0) {
    pool_->HelpAndWait();
    const size_t next_n = read_window(looking);
    if (next_n > 0) look_ahead(looking, next_n);

    // Apply in file order.
    for (size_t i = 0; i < n; ++i) {
      Slot& slot = applying[i];
      if (!slot.error.empty()) {
        ++counts.rejected;
        report(slot.error);
        continue;
      }
      const FeedRow& row = slot.row;
      // A row is matched again if something written since it was looked up could change
      // its match. When that is only children created since (a sibling, mostly), the match
      // is brought up to date with them instead (Matcher::MatchWithAdded).
      const std::string& key = row.record.ref.key;
      bool stale = touched_sources.count(key) > 0 || earlier_sources.count(key) > 0;
      // A change built ahead from a child rewritten since is built again from the child as
      // it is now (the other record's update, or a record linked to it meanwhile).
      if (!stale && slot.ahead.linked_change) {
        const ChildId child = slot.ahead.link->child;
        stale = touched_children.count(child) > 0 || earlier_children.count(child) > 0;
      }
      bool reached_by_new = false;
      if (!stale && slot.ahead.outcome) {
        for (const auto& c : slot.ahead.outcome->candidates) {
          stale = stale || touched_children.count(c.child) > 0 || earlier_children.count(c.child) > 0;
        }
        if (!stale) {
          const WrittenSince::Reach reach = written.Test(slot.ahead.profile);
          stale = reach.rewritten;
          reached_by_new = reach.created;
        }
      }
      // Found unchanged ahead but to be read again: the row may have changed after all.
      if (stale) complete(&slot);
      if (!slot.error.empty()) {
        ++counts.rejected;
        report(slot.error);
        continue;
      }
      if (!stale && reached_by_new && slot.ahead.blocking) {
        auto outcome = matcher_.MatchWithAdded(row.record, *slot.ahead.blocking, added);
        if (!outcome.ok()) return outcome.status();
        slot.ahead.outcome = std::move(*outcome);
      } else if (reached_by_new) {
        stale = true;
      }
      // A shield set by another caller since the row's reads (the daemon sets shields
      // beside a feed batch), or a change to the standing of a child the row rewrites (the
      // daemon's daily run archives beside it), voids its decision: ApplyChange then writes
      // nothing, and the row is decided again on what the store holds now. A record decided
      // new against a child unshielded then must not become an unshielded duplicate of a
      // child shielded now, and an update read before an archive must not bring the child
      // back. What the written sets below record is noted only once a change is applied.
      const FeedCounts counts_before = counts;
      Lookahead* ahead = stale ? nullptr : &slot.ahead;
      bool applied_change = false;
      while (true) {
        FeedChange change;
        Status s = ProcessRow(row, ahead, &change, &counts, report);
        if (!s.ok()) return s;
        if (change.children.empty() && change.links.empty() && change.unlinks.empty() &&
            !change.review_put && change.review_erase.empty()) {
          break;
        }
        std::vector<ChildId> rewritten;     // existing children the change rewrites
        std::vector<AddedChild> refreshed;  // of those, ones created in this window
        struct Profile {
          BlockingProfile profile;
          bool created;
        };
        std::vector<Profile> profiles;         // of every child written
        std::vector<AddedChild> new_children;  // ids once the store has given them
        for (const auto& w : change.children) {
          if (w.record.id != 0) {
            rewritten.push_back(w.record.id);
            // A child created since and rewritten since: its postings are the new ones.
            for (const auto& a : added) {
              if (a.id == w.record.id)
                refreshed.push_back(MakeAddedChild(a.id, w.record, w.hidden));
            }
          } else {
            new_children.push_back(MakeAddedChild(0, w.record, w.hidden));
          }
          profiles.push_back({MakeBlockingProfile(w.record, w.hidden), w.record.id == 0});
        }
        progress.next_row = slot.index + 1;
        progress.open_counts = counts;
        change.feed_state = progress;
        if (options_.before_apply) options_.before_apply(slot.index);
        auto applied = store_->ApplyChange(std::move(change));
        if (!applied.ok() && IsChangedSince(applied.status())) {
          counts = counts_before;
          ahead = nullptr;
          continue;
        }
        if (!applied.ok()) return applied.status();
        if (applied->size() != new_children.size())
          return Status::Corruption("new children and ids differ");
        touched_sources.insert(key);
        for (ChildId id : rewritten) touched_children.insert(id);
        for (auto& r : refreshed) {
          for (auto& a : added) {
            if (a.id == r.id) a = r;
          }
        }
        for (auto& p : profiles) written.Add(std::move(p.profile), p.created);
        for (size_t k = 0; k < new_children.size(); ++k) {
          new_children[k].id = (*applied)[k];
          added.push_back(std::move(new_children[k]));
        }
        applied_change = true;
        break;
      }
      if (!applied_change) continue;
      if (++writes == options_.kill_after_writes) std::raise(SIGKILL);
    }
    // The next window was looked up while this one was applied: what this one wrote is
    // what it may not have seen. What the window before wrote, it saw.
    earlier_sources = std::move(touched_sources);
    touched_sources.clear();
    earlier_children = std::move(touched_children);
    touched_children.clear();
    written.DropFront(earlier_written);
    added.erase(added.begin(), added.begin() + static_cast<std::ptrdiff_t>(earlier_added));
    earlier_written = written.size();
    earlier_added = added.size();
    std::swap(applying, looking);
    n = next_n;
  }
  FeedState done = progress;
  done.last_batch = batch;
  done.last_unix = static_cast<int64_t>(std::time(nullptr));
  done.last_counts = counts;
  done.open_batch = 0;
  done.next_row = 0;
  done.open_counts = {};
  FeedChange finish;
  finish.feed_state = done;
  finish.sync = true;
  auto applied = store_->ApplyChange(std::move(finish));
  if (!applied.ok()) return applied.status();
  result->counts = counts;
  return Status::OK();
}

Status FeedApplier::ResolveReview(uint64_t review_id, ChildId child, FeedCounts* counts) {
  auto item = store_->GetReview(review_id, clearance_);
  if (!item.ok()) return item.status();
  auto payload = DecodeReviewPayload(item->payload);
  if (!payload.ok()) return payload.status();
  const FeedRow& row = payload->row;
  // Decided on the children as they are now, not as they were when the item was queued:
  // a candidate shielded since (SetShield does not revisit the queue) makes the record a
  // shielded child's kind of record as much as one shielded then. A shield set between
  // this look and the write voids the decision (FeedChange::shields_seen): decided again.
  for (;;) {
    const uint64_t shields_seen = store_->ShieldsSet();
    auto now_shielded = ReviewItemShielded(*store_, *item, *payload);
    if (!now_shielded.ok()) return now_shielded.status();
    const bool shielded = *now_shielded;
    FeedChange change;
    change.shields_seen = shields_seen;
    change.review_erase.push_back(review_id);
    FeedCounts done;
    if (child != 0) {
      auto target = store_->GetRecord(child);
      if (!target.ok()) return target.status();
      if (shielded && !target->shield.shielded) {
        return Status::FailedPrecondition(
            "review item " + std::to_string(review_id) +
            " plausibly matches a shielded child: link it to that child, or make it a new child "
            "(which is shielded too); it cannot update an unshielded child");
      }
      Status s = LinkTo(row, child, &change);
      if (!s.ok()) return s;
      change.decisions.push_back({row.record.ref, child, true});
      ++done.linked;
    } else {
      FeedChange::ChildWrite w;
      BuildBestView(options_.rules, {row.record}, &w.record, &w.hidden);
      // A record that plausibly matched a shielded child is that child's kind of record:
      // made a child of its own, it is shielded too, until a shielding manager decides.
      if (shielded) {
        w.record.shield = ShieldState{true, "review", "plausible match of a shielded child",
                                      static_cast<int64_t>(std::time(nullptr))};
      }
      change.children.push_back(std::move(w));
      change.links.push_back({row.record, row.raw, {}, 0, 0});
      for (const auto& c : payload->outcome.candidates)
        change.decisions.push_back({row.record.ref, c.child, false});
      ++done.created;
    }
    change.sync = true;
    auto applied = store_->ApplyChange(std::move(change));
    if (!applied.ok() && IsChangedSince(applied.status())) continue;
    if (!applied.ok()) return applied.status();
    counts->linked += done.linked;
    counts->created += done.created;
    return Status::OK();
  }
}

// A merge or an unmerge is decided on the children as read. A shield set before it is
// written, or a change to a written child's standing (an archive, a consent, a shield), voids
// it (FeedChange::shields_seen and ChildWrite::read_as), and it is decided again on what the
// store holds then: a merge of a child shielded meanwhile is shielded.
Status FeedApplier::Merge(ChildId kept, ChildId merged) {
  for (;;) {
    Status s = MergeOnce(kept, merged);
    if (!IsChangedSince(s)) return s;
  }
}

Result<ChildId> FeedApplier::Unmerge(ChildId child, const SourceRef& ref) {
  for (;;) {
    auto made = UnmergeOnce(child, ref);
    if (made.ok() || !IsChangedSince(made.status())) return made;
  }
}

Status FeedApplier::MergeOnce(ChildId kept, ChildId merged) {
  const uint64_t shields_seen = store_->ShieldsSet();
  auto a = store_->Get(kept, clearance_);
  if (!a.ok()) return a.status();
  auto b = store_->Get(merged, clearance_);
  if (!b.ok()) return b.status();
  if (a->record.id == b->record.id) return Status::InvalidArgument("children " + std::to_string(kept) + " and " + std::to_string(merged) + " are one child");
  std::vector<SourceRecord> sources;
  Status s = SourcesOf(*a, nullptr, &sources);
  if (s.ok()) s = SourcesOf(*b, nullptr, &sources);
  if (!s.ok()) return s;
  FeedChange change;
  change.shields_seen = shields_seen;
  FeedChange::ChildWrite w{a->record, *a->hidden, StandingOf(a->record)};
  if (!w.record.shield.shielded && b->record.shield.shielded) w.record.shield = b->record.shield;
  if (!sources.empty()) BuildBestView(options_.rules, sources, &w.record, &w.hidden);
  change.children.push_back(std::move(w));
  change.removals.push_back({b->record.id, a->record.id});
  for (const auto& ref : b->record.sources) {
    auto link = store_->FindSource(ref.source, ref.key);
    if (!link.ok()) return link.status();
    for (const auto& src : sources) {
      if (src.ref == ref) change.links.push_back({src, "", link->fingerprint, a->record.id, -1});
    }
  }
  change.sync = true;
  auto applied = store_->ApplyChange(std::move(change));
  return applied.ok() ? Status::OK() : applied.status();
}

Result<ChildId> FeedApplier::UnmergeOnce(ChildId child, const SourceRef& ref) {
  const uint64_t shields_seen = store_->ShieldsSet();
  auto view = store_->Get(child, clearance_);
  if (!view.ok()) return view.status();
  const auto& refs = view->record.sources;
  if (std::find(refs.begin(), refs.end(), ref) == refs.end()) {
    return Status::NotFound("child " + std::to_string(child) + " holds no record " + ref.source + " " + ref.key);
  }
  if (refs.size() < 2) {
    return Status::FailedPrecondition("record " + ref.source + " " + ref.key + " is child " + std::to_string(child) +
                                      "'s only source: there is nothing to unmerge it from");
  }
  std::vector<SourceRecord> detached;
  Status s = SourcesOf(*view, nullptr, &detached);
  if (!s.ok()) return s;
  detached.erase(std::remove_if(detached.begin(), detached.end(), [&](const SourceRecord& r) { return !(r.ref == ref); }),
                 detached.end());
  if (detached.empty()) return Status::NotFound("record " + ref.source + " " + ref.key + " is not linked");
  auto link = store_->FindSource(ref.source, ref.key);
  if (!link.ok()) return link.status();
  FeedChange change;
  change.shields_seen = shields_seen;
  s = RebuildWithout(view->record.id, ref, &change);
  if (!s.ok()) return s;
  change.unlinks.clear();  // the link moves to the new child instead
  FeedChange::ChildWrite part;
  part.record.shield = view->record.shield;  // an unmerge keeps the shield on both parts
  BuildBestView(options_.rules, detached, &part.record, &part.hidden);
  change.children.push_back(std::move(part));
  change.links.push_back({detached[0], "", link->fingerprint, 0, 1});
  change.decisions.push_back({ref, view->record.id, false});
  change.sync = true;
  auto applied = store_->ApplyChange(std::move(change));
  if (!applied.ok()) return applied.status();
  return applied->at(0);
}

}  // namespace cp
