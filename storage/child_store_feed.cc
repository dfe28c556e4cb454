// ChildStore: what feeds write — source records, children's best views, the review queue,
// decisions and feed state — each feed record's change as one WriteBatch.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include "storage/child_store_internal.h"
#include "storage/record_codec.h"
#include "util/coding.h"
#include "util/postcode.h"

namespace cp {
namespace {

constexpr char kSourceRecordVersion = 0x02;
constexpr char kFeedStateVersion = 0x01;
constexpr char kReviewShielded = 0x01;

void PutCounts(std::string* out, const FeedCounts& c) {
  for (uint64_t v : {c.linked, c.created, c.updated, c.unchanged, c.review, c.withdrawn, c.rejected}) {
    PutBigEndian64(out, v);
  }
}

void GetCounts(const char* p, FeedCounts* c) {
  uint64_t* fields[] = {&c->linked, &c->created, &c->updated, &c->unchanged,
                        &c->review, &c->withdrawn, &c->rejected};
  for (int i = 0; i < 7; ++i) *fields[i] = DecodeBigEndian64(p + 8 * i);
}

constexpr size_t kCountsBytes = 7 * 8;
constexpr size_t kFeedStateBytes = 1 + 8 + 8 + 1 + kCountsBytes + 8 + 8 + kCountsBytes;

std::string EncodeFeedState(const FeedState& s) {
  std::string out(1, kFeedStateVersion);
  PutBigEndian64(&out, s.last_batch);
  PutBigEndian64(&out, static_cast<uint64_t>(s.last_unix));
  out.push_back(s.paused ? 1 : 0);
  PutCounts(&out, s.last_counts);
  PutBigEndian64(&out, s.open_batch);
  PutBigEndian64(&out, s.next_row);
  PutCounts(&out, s.open_counts);
  return out;
}

Result<FeedState> DecodeFeedState(std::string_view source, std::string_view v) {
  if (v.size() != kFeedStateBytes || v[0] != kFeedStateVersion) {
    return Status::Corruption("feed state of source " + std::string(source) + " is malformed");
  }
  FeedState s;
  s.source = std::string(source);
  const char* p = v.data() + 1;
  s.last_batch = DecodeBigEndian64(p);
  s.last_unix = static_cast<int64_t>(DecodeBigEndian64(p + 8));
  s.paused = p[16] != 0;
  GetCounts(p + 17, &s.last_counts);
  p += 17 + kCountsBytes;
  s.open_batch = DecodeBigEndian64(p);
  s.next_row = DecodeBigEndian64(p + 8);
  GetCounts(p + 16, &s.open_counts);
  return s;
}

std::string ReviewAssociatedData(uint64_t id) { return "review:" + BigEndian64(id); }

// Review value: flags (1) | source key length (2) | SourceKey | sealed payload.
std::string EncodeReviewValue(const ReviewItem& item, const Crypto& crypto) {
  std::string source_key = keys::SourceKey(item.ref.source, item.ref.key);
  std::string out(1, item.shielded ? kReviewShielded : 0);
  PutBigEndian16(&out, static_cast<uint16_t>(source_key.size()));
  out += source_key;
  out += crypto.Seal(item.payload, ReviewAssociatedData(item.id));
  return out;
}

Result<ReviewItem> DecodeReviewValue(uint64_t id, std::string_view v, const Crypto* crypto) {
  auto bad = [id] { return Status::Corruption("review item " + std::to_string(id) + " is malformed"); };
  if (v.size() < 4) return bad();
  ReviewItem item;
  item.id = id;
  item.shielded = (v[0] & kReviewShielded) != 0;
  const size_t n = DecodeBigEndian16(v.data() + 1);
  if (v.size() < 3 + n || n < 1) return bad();
  std::string_view source_key = v.substr(3, n);
  const size_t source_len = static_cast<uint8_t>(source_key[0]);
  if (source_key.size() < 1 + source_len) return bad();
  item.ref.source = std::string(source_key.substr(1, source_len));
  item.ref.key = std::string(source_key.substr(1 + source_len));
  if (crypto != nullptr) {
    auto plain = crypto->Open(v.substr(3 + n), ReviewAssociatedData(id));
    if (!plain.ok()) return plain.status();
    item.payload = std::move(*plain);
  }
  return item;
}

}  // namespace

std::string EncodeSourceRecord(const ChildRecord& record, const HiddenFields& hidden, uint64_t seq) {
  std::string out(1, kSourceRecordVersion);
  PutBigEndian64(&out, seq);
  std::string r = EncodeChildRecord(record);
  PutBigEndian64(&out, r.size());
  out += r;
  out += EncodeHiddenFields(hidden);
  return out;
}

Status DecodeSourceRecord(std::string_view bytes, ChildRecord* record, HiddenFields* hidden,
                          uint64_t* seq) {
  if (bytes.size() < 17 || bytes[0] != kSourceRecordVersion) {
    return Status::Corruption("a stored source record is malformed or from an earlier build");
  }
  *seq = DecodeBigEndian64(bytes.data() + 1);
  const uint64_t n = DecodeBigEndian64(bytes.data() + 9);
  if (bytes.size() - 17 < n) return Status::Corruption("a stored source record is truncated");
  auto r = DecodeChildRecord(bytes.substr(17, n));
  if (!r.ok()) return r.status();
  auto h = DecodeHiddenFields(bytes.substr(17 + n));
  if (!h.ok()) return h.status();
  *record = std::move(*r);
  *hidden = std::move(*h);
  return Status::OK();
}

Status ChildStore::LoadFeedCounters() {
  if (feed_counters_loaded_) return Status::OK();
  for (auto [name, slot] : {std::pair{keys::kMetaNextSourceSeq, &next_source_seq_},
                            std::pair{keys::kMetaNextReviewId, &next_review_id_}}) {
    std::string v;
    auto s = h_->db->Get(rocksdb::ReadOptions(), h_->meta, std::string(name), &v);
    if (s.IsNotFound()) continue;  // a database from before feeds: counters start at 1
    if (!s.ok()) return FromRocks(s, "reading feed counters");
    if (v.size() != 8) return Status::Corruption("meta " + std::string(name) + " is malformed");
    *slot = DecodeBigEndian64(v.data());
  }
  feed_counters_loaded_ = true;
  return Status::OK();
}

namespace {

// An EntryList that also takes what PostingKeys gives: a delete, as an entry whose value is
// empty. Entries of `skip` (null: none) are dropped.
class EntryCollector : public EntryList {
 public:
  EntryCollector(std::vector<Entry>* out, rocksdb::ColumnFamilyHandle* skip)
      : EntryList(out), skip_(skip) {}
  void Put(rocksdb::ColumnFamilyHandle* cf, std::string_view key, std::string_view value) override {
    if (cf != skip_) EntryList::Put(cf, key, value);
  }
  void Delete(rocksdb::ColumnFamilyHandle* cf, std::string_view key) { Put(cf, key, {}); }

 private:
  rocksdb::ColumnFamilyHandle* skip_;
};

// Whether `a` and `b` (with hidden fields `ah`, `bh`) have the same name-index entries:
// those are made from the names, the date of birth, the gender and the identifiers (terms
// and features), the shield (a flag, and the shielded postings), a shielded child's
// postcode district (a digest its postings end with: a shielded child that moves to
// another district has every posting rewritten) and whether the child is archived (none
// but those).
bool SameNamePostings(const ChildRecord& a, const HiddenFields& ah, const ChildRecord& b,
                      const HiddenFields& bh) {
  return a.id == b.id && a.given_name == b.given_name && a.middle_names == b.middle_names &&
         a.family_name == b.family_name && a.former_family_names == b.former_family_names &&
         a.date_of_birth == b.date_of_birth && a.gender == b.gender &&
         a.nhs_number == b.nhs_number && a.pupil_number == b.pupil_number &&
         a.shield.shielded == b.shield.shielded &&
         a.lifecycle.archived() == b.lifecycle.archived() &&
         (!a.shield.shielded || PostcodeOutward(ah.postcode) == PostcodeOutward(bh.postcode));
}

// Entries in the order of their families and keys.
bool EntryLess(const Entry& a, const Entry& b) {
  return a.cf_id != b.cf_id ? a.cf_id < b.cf_id : a.key < b.key;
}

}  // namespace

// Every posting key `o` (with hidden fields `hidden`) may have, to `sink->Delete` (`sink`:
// a rocksdb::WriteBatch or an EntryCollector). `known_terms`: the index policy's NameTerms
// of `o`, when the caller has them.
template <typename Sink>
void ChildStore::PostingKeys(const ChildRecord& o, const HiddenFields& hidden, Sink* sink,
                             const std::vector<IndexTerm>* known_terms) const {
  std::vector<IndexTerm> own_terms;
  if (known_terms == nullptr) options_.policy->NameTerms(o, &own_terms);
  const std::vector<IndexTerm>& terms = known_terms != nullptr ? *known_terms : own_terms;
  std::string key;
  const bool day_postings = h_->day_postings;
  for (const auto& t : terms) {
    // Birth day postings too where the database does not have them (yet): an interrupted
    // `upgrade` leaves some children with them before the marker is written, and one left
    // behind by a change of name or date would be found under the old ones. Not kBirthday
    // postings where their successors are filed: `upgrade` deleted every one.
    if (t.kind == TermKind::kBirthday && day_postings) continue;
    keys::NameTermKeyInto(&key, t.kind, t.token, o.date_of_birth, o.id);
    if (!key.empty()) sink->Delete(h_->name_index, key);
  }
  if (o.shield.shielded) DeleteShieldedPostings(*h_, o, terms, sink);
  if (!o.nhs_number.empty())
    sink->Delete(h_->id_index, keys::IdKey(keys::IdKind::kNhsNumber, o.nhs_number, o.id));
  if (!o.pupil_number.empty()) {
    sink->Delete(h_->id_index, keys::IdKey(keys::IdKind::kPupilNumber, o.pupil_number, o.id));
  }
  if (!o.shield.shielded && !hidden.postcode.empty()) {
    sink->Delete(h_->place_index, keys::PlaceKey(PlaceHash(*h_, *crypto_, hidden.postcode), o.id));
  }
}

// Deletes every posting `o` (with hidden fields `hidden`) has.
void ChildStore::DeletePostings(const ChildRecord& o, const HiddenFields& hidden, void* batch_ptr) {
  PostingKeys(o, hidden, static_cast<rocksdb::WriteBatch*>(batch_ptr));
}

// What deleting every posting of the stored record `o` and putting every entry of `r`
// leaves, written as only the entries that differ: a delete for each posting key of `o`
// that `r` does not file, and a put for each entry of `r` that `o`'s entries do not hold
// with the same value. An update that moves a child (a new address, a new GP) rewrites
// its place posting, not its two dozen name postings: each entry written is a memtable
// insert, most of an update's cost. It assumes the indexes hold `o`'s entries, which
// `check` verifies; a posting an older build wrote in a form `check` still accepts (one
// without identifier digests) keeps that form until the child's features change.
void ChildStore::RewriteIndexEntries(const ChildRecord& o, const HiddenFields& o_hidden,
                                     const ChildRecord& r, const HiddenFields& r_hidden,
                                     const IndexImage& image, void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  std::vector<Entry> before, after, stale;
  // Most updates change an address or a service: the name postings, most of a child's
  // entries, are then the same before and after, and are left out of the comparison (the
  // image without its terms, and the name index's entries dropped). The place posting
  // carries the same features either way.
  const bool same_names = SameNamePostings(o, o_hidden, r, r_hidden);
  rocksdb::ColumnFamilyHandle* skip = same_names ? h_->name_index : nullptr;
  EntryCollector before_sink(&before, skip), after_sink(&after, skip), stale_sink(&stale, skip);
  IndexImage old_image;
  if (same_names) {
    old_image.posting_value = image.posting_value;
    old_image.flags_only = image.flags_only;
  } else {
    old_image = MakeIndexImage(*options_.policy, *crypto_, o, o_hidden);
  }
  PutIndexEntries(h_.get(), *crypto_, old_image, o, o_hidden, &before_sink);
  PutIndexEntries(h_.get(), *crypto_, same_names ? old_image : image, r, r_hidden, &after_sink);
  PostingKeys(o, o_hidden, &stale_sink, &old_image.terms);
  std::sort(before.begin(), before.end(), EntryLess);
  std::sort(after.begin(), after.end(), EntryLess);
  for (const Entry& e : stale) {
    if (!std::binary_search(after.begin(), after.end(), e, EntryLess)) {
      batch->Delete(e.cf, e.key);
    }
  }
  for (const Entry& e : after) {
    auto it = std::lower_bound(before.begin(), before.end(), e, EntryLess);
    const bool held = it != before.end() && !EntryLess(e, *it) && it->value == e.value;
    if (!held) batch->Put(e.cf, e.key, e.value);
  }
}

// A derived source link (child id and fingerprint only, written by an import) stands for
// the child's record as it was created. Before a change rewrites or removes that child,
// this writes each such link of `record` out in full, sealed, from the record as it still
// is, so that what the source said survives the change. Links the same change puts or
// deletes explicitly come later in the batch and win.
Status ChildStore::MaterializeDerivedLinks(const ChildRecord& record, const HiddenFields& hidden,
                                           void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  std::string sealed_plain;
  for (const auto& ref : record.sources) {
    std::string key = keys::SourceKey(ref.source, ref.key);
    std::string value;
    auto s = h_->db->Get(rocksdb::ReadOptions(), h_->sources, key, &value);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return FromRocks(s, "reading a source link");
    if (value.size() < 16) return Status::Corruption("source link is malformed");
    if (value.size() > 16 || DecodeBigEndian64(value.data()) != record.id) continue;
    if (sealed_plain.empty()) sealed_plain = EncodeSourceRecord(record, hidden, 0);
    value += crypto_->Seal(sealed_plain, key);
    batch->Put(h_->sources, key, value);
  }
  return Status::OK();
}

// Adds one child's record, hidden fields and postings to `batch_ptr` (a WriteBatch). For
// an existing child, first deletes the postings its stored record has: names, date of
// birth, identifiers or postcode may all have changed.
Status ChildStore::AppendChildWrite(const FeedChange::ChildWrite& w, bool is_new, void* batch_ptr) {
  auto* batch = static_cast<rocksdb::WriteBatch*>(batch_ptr);
  const ChildRecord& r = w.record;
  std::optional<ChildView> old;  // the stored child, which this write replaces
  if (!is_new) {
    auto stored = Get(r.id, Clearance::Elevated(Clearance::Level::kMatching, "storage", "reindex"));
    if (!stored.ok()) return stored.status();
    old = std::move(*stored);
    const ChildRecord& o = old->record;
    if (o.id != r.id) return Status::NotFound("child " + std::to_string(r.id) + " was merged into " + std::to_string(o.id));
    // Archived, consent recorded, or a shield set or lifted since the write was computed
    // from the child: written, it would undo that.
    if (w.read_as && !(StandingOf(o) == *w.read_as))
      return Status::FailedPrecondition(std::string(kChangedSince));
    if (o.shield.shielded && !r.shield.shielded) {
      return Status::FailedPrecondition("child " + std::to_string(r.id) +
                                        " is shielded; a feed change cannot lift a shield");
    }
    Status m = MaterializeDerivedLinks(o, *old->hidden, batch);
    if (!m.ok()) return m;
  }
  // An update that leaves the name postings as they are (most: a move, a new GP) writes
  // none of them (RewriteIndexEntries), so their terms are not made.
  const bool same_names = old && SameNamePostings(old->record, *old->hidden, r, w.hidden);
  IndexImage image = MakeIndexImage(*options_.policy, *crypto_, r, w.hidden, !same_names);
  for (const auto& t : image.terms) {
    if (t.token.empty() || t.token.size() > 255) {
      return Status::InvalidArgument("an index token must be 1 to 255 bytes");
    }
  }
  batch->Put(h_->children, keys::ChildKey(r.id), EncodeChildRecord(r));
  batch->Put(h_->hidden, keys::ChildKey(r.id),
             crypto_->Seal(EncodeHiddenFields(w.hidden), HiddenAssociatedData(r.id)));
  if (old) {
    RewriteIndexEntries(old->record, *old->hidden, r, w.hidden, image, batch);
  } else {
    PutIndexEntries(h_.get(), *crypto_, image, r, w.hidden, batch);
  }
  return Status::OK();
}

Result<std::vector<ChildId>> ChildStore::ApplyChange(FeedChange change) {
  std::lock_guard<std::mutex> lock(write_mu_);
  // Shields are set under write_mu_ too: none can be set between this test and the write.
  if (change.shields_seen && *change.shields_seen != shields_set_.load(std::memory_order_acquire)) {
    return Status::FailedPrecondition(std::string(kChangedSince));
  }
  Status s = LoadFeedCounters();
  if (!s.ok()) return s;
  ChildId next_child = next_id_.load();
  uint64_t next_seq = next_source_seq_, next_review = next_review_id_;

  std::vector<ChildId> new_ids;
  std::vector<bool> is_new;
  for (auto& w : change.children) {
    is_new.push_back(w.record.id == 0);
    if (w.record.id == 0) {
      w.record.id = next_child++;
      new_ids.push_back(w.record.id);
    }
  }
  rocksdb::WriteBatch batch;
  // Deletes of an existing child's old postings come before any put, so a posting both
  // old and new ends up present.
  for (size_t i = 0; i < change.children.size(); ++i) {
    s = AppendChildWrite(change.children[i], is_new[i], &batch);
    if (!s.ok()) return s;
  }
  for (const auto& removal : change.removals) {
    auto old = Get(removal.child, Clearance::Elevated(Clearance::Level::kMatching, "storage", "merge"));
    if (!old.ok()) return old.status();
    if (old->record.id != removal.child) return Status::NotFound("child " + std::to_string(removal.child) + " was already merged");
    if (removal.merged_into == 0 || removal.merged_into == removal.child) {
      return Status::InvalidArgument("a child is merged into another child");
    }
    DeletePostings(old->record, *old->hidden, &batch);
    s = MaterializeDerivedLinks(old->record, *old->hidden, &batch);
    if (!s.ok()) return s;
    batch.Delete(h_->children, keys::ChildKey(removal.child));
    batch.Delete(h_->hidden, keys::ChildKey(removal.child));
    batch.Put(h_->merged, keys::ChildKey(removal.child), BigEndian64(removal.merged_into));
  }
  for (auto& link : change.links) {
    ChildId child = link.child;
    if (link.new_child >= 0) {
      if (static_cast<size_t>(link.new_child) >= change.children.size()) {
        return Status::InvalidArgument("a source link names no child of the change");
      }
      child = change.children[link.new_child].record.id;
    }
    if (child == 0) return Status::InvalidArgument("a source link names no child");
    const SourceRef& ref = link.source.ref;
    if (ref.source.empty() || ref.source.size() > 255 || ref.key.empty()) {
      return Status::InvalidArgument("a source name must be 1 to 255 bytes and a key non-empty");
    }
    std::string key = keys::SourceKey(ref.source, ref.key);
    std::string value = BigEndian64(child);
    value += BigEndian64(link.fingerprint ? *link.fingerprint : SourceFingerprint(*h_, *crypto_, link.fingerprint_input));
    // A moved link keeps its arrival order; a new record is the newest.
    const uint64_t seq = link.fingerprint ? link.source.seq : next_seq++;
    value += crypto_->Seal(EncodeSourceRecord(link.source.record, link.source.hidden, seq), key);
    batch.Put(h_->sources, key, value);
  }
  for (const auto& ref : change.unlinks) batch.Delete(h_->sources, keys::SourceKey(ref.source, ref.key));
  for (uint64_t id : change.review_erase) {
    auto item = GetReview(id, Clearance::Ordinary());
    if (!item.ok()) return item.status();
    batch.Delete(h_->review, keys::ReviewItemKey(id));
    batch.Delete(h_->review, keys::ReviewBySourceKey(item->ref.source, item->ref.key));
  }
  if (change.review_put) {
    ReviewItem& item = *change.review_put;
    if (item.id == 0) item.id = next_review++;
    batch.Put(h_->review, keys::ReviewItemKey(item.id), EncodeReviewValue(item, *crypto_));
    batch.Put(h_->review, keys::ReviewBySourceKey(item.ref.source, item.ref.key), BigEndian64(item.id));
  }
  for (const auto& d : change.decisions) {
    batch.Put(h_->review, keys::DecisionKey(d.ref.source, d.ref.key, d.child), d.same ? "\1" : std::string(1, '\0'));
  }
  if (change.feed_state) batch.Put(h_->feeds, change.feed_state->source, EncodeFeedState(*change.feed_state));
  if (next_child != next_id_.load()) batch.Put(h_->meta, std::string(keys::kMetaNextChildId), BigEndian64(next_child));
  if (next_seq != next_source_seq_) batch.Put(h_->meta, std::string(keys::kMetaNextSourceSeq), BigEndian64(next_seq));
  if (next_review != next_review_id_) {
    batch.Put(h_->meta, std::string(keys::kMetaNextReviewId), BigEndian64(next_review));
  }
  rocksdb::WriteOptions wo;
  wo.sync = change.sync;
  s = FromRocks(h_->db->Write(wo, &batch), "applying a feed record");
  if (!s.ok()) return s;
  next_id_ = next_child;
  next_source_seq_ = next_seq;
  next_review_id_ = next_review;
  return new_ids;
}

Result<ChildId> ChildStore::Resolve(ChildId id) const {
  // Each merge adds one hop; a chain longer than this is damage, not history.
  for (int hops = 0; hops < 64; ++hops) {
    std::string v;
    auto s = h_->db->Get(rocksdb::ReadOptions(), h_->children, keys::ChildKey(id), &v);
    if (s.ok()) return id;
    if (!s.IsNotFound()) return FromRocks(s, "reading child " + std::to_string(id));
    s = h_->db->Get(rocksdb::ReadOptions(), h_->merged, keys::ChildKey(id), &v);
    if (s.IsNotFound()) return Status::NotFound("no child " + std::to_string(id));
    if (!s.ok()) return FromRocks(s, "reading merges");
    if (v.size() != 8) return Status::Corruption("merge record of child " + std::to_string(id) + " is malformed");
    id = DecodeBigEndian64(v.data());
  }
  return Status::Corruption("merge records of child " + std::to_string(id) + " form a cycle");
}

uint64_t ChildStore::Fingerprint(std::string_view raw_row) const {
  return SourceFingerprint(*h_, *crypto_, raw_row);
}

Result<FeedState> ChildStore::GetFeedState(std::string_view source) const {
  std::string v;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->feeds, std::string(source), &v);
  if (s.IsNotFound()) {
    FeedState fresh;
    fresh.source = std::string(source);
    return fresh;
  }
  if (!s.ok()) return FromRocks(s, "reading feed state");
  return DecodeFeedState(source, v);
}

Status ChildStore::ListFeedStates(std::vector<FeedState>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->feeds));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    auto state = DecodeFeedState(View(it->key()), View(it->value()));
    if (!state.ok()) return state.status();
    out->push_back(std::move(*state));
  }
  return FromRocks(it->status(), "listing feeds");
}

Status ChildStore::PutFeedState(const FeedState& state) {
  std::lock_guard<std::mutex> lock(write_mu_);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(h_->db->Put(wo, h_->feeds, state.source, EncodeFeedState(state)), "writing feed state");
}

Result<std::string> ChildStore::GetSetting(std::string_view name) const {
  std::string v;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->meta, keys::SettingKey(name), &v);
  if (s.IsNotFound()) return Status::NotFound("setting " + std::string(name) + " is not set");
  if (!s.ok()) return FromRocks(s, "reading a setting");
  return v;
}

Status ChildStore::PutSetting(std::string_view name, std::string_view value) {
  std::lock_guard<std::mutex> lock(write_mu_);
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(h_->db->Put(wo, h_->meta, keys::SettingKey(name), rocksdb::Slice(value.data(), value.size())),
                   "writing a setting");
}

Result<SourceRecord> ChildStore::GetSourceRecord(const SourceRef& ref, const Clearance& clearance) const {
  if (!clearance.SeesHiddenFields()) {
    return Status::PermissionDenied("a source record holds hidden fields: elevated clearance needed");
  }
  std::string key = keys::SourceKey(ref.source, ref.key);
  rocksdb::PinnableSlice value;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->sources, key, &value);
  if (s.IsNotFound()) return Status::NotFound("source record not linked");
  if (!s.ok()) return FromRocks(s, "reading a source record");
  if (value.size() < 16) return Status::Corruption("source link is malformed");
  SourceRecord out;
  out.ref = ref;
  if (value.size() == 16) {
    // Derived: the source said what the child, unchanged since its import, holds.
    const ChildId id = DecodeBigEndian64(value.data());
    auto child = Get(id, Clearance::Elevated(Clearance::Level::kMatching, "storage", "source record"));
    if (!child.ok()) return child.status();
    if (child->record.id != id || !child->hidden) {
      return Status::Corruption("source link " + ref.source + " names child " + std::to_string(id) +
                                ", which no longer holds its record");
    }
    out.record = std::move(child->record);
    out.hidden = std::move(*child->hidden);
    out.seq = 0;
    return out;
  }
  auto plain = crypto_->Open(View(value).substr(16), key);
  if (!plain.ok()) return plain.status();
  Status d = DecodeSourceRecord(*plain, &out.record, &out.hidden, &out.seq);
  if (!d.ok()) return d;
  return out;
}

Status ChildStore::ForEachSourceLink(
    std::string_view source, const std::function<bool(const std::string&, const SourceLink&)>& visit) const {
  const std::string prefix = keys::SourceKey(source, "");
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->sources));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view key = View(it->key()), value = View(it->value());
    if (!key.starts_with(prefix)) break;
    if (value.size() < 16) return Status::Corruption("source link is malformed");
    SourceLink link{DecodeBigEndian64(value.data()), DecodeBigEndian64(value.data() + 8)};
    if (!visit(std::string(key.substr(prefix.size())), link)) break;
  }
  return FromRocks(it->status(), "listing source links");
}

Result<ReviewItem> ChildStore::GetReview(uint64_t id, const Clearance& clearance) const {
  std::string v;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->review, keys::ReviewItemKey(id), &v);
  if (s.IsNotFound()) return Status::NotFound("no review item " + std::to_string(id));
  if (!s.ok()) return FromRocks(s, "reading review item");
  return DecodeReviewValue(id, v, clearance.SeesHiddenFields() ? crypto_.get() : nullptr);
}

Result<ReviewItem> ChildStore::FindReview(const SourceRef& ref, const Clearance& clearance) const {
  std::string v;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->review, keys::ReviewBySourceKey(ref.source, ref.key), &v);
  if (s.IsNotFound()) return Status::NotFound("source record not in review");
  if (!s.ok()) return FromRocks(s, "reading review index");
  if (v.size() != 8) return Status::Corruption("review index entry is malformed");
  return GetReview(DecodeBigEndian64(v.data()), clearance);
}

Status ChildStore::ListReview(std::vector<ReviewItem>* out) const {
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->review));
  for (it->Seek("q"); it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    if (key.size() != 9 || key[0] != 'q') break;
    auto item = DecodeReviewValue(DecodeBigEndian64(key.data() + 1), View(it->value()), nullptr);
    if (!item.ok()) return item.status();
    out->push_back(std::move(*item));
  }
  return FromRocks(it->status(), "listing review items");
}

Status ChildStore::GetDecisions(const SourceRef& ref, std::vector<PairDecision>* out) const {
  const std::string prefix = keys::DecisionPrefix(ref.source, ref.key);
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->review));
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    if (!key.starts_with(prefix)) break;
    if (key.size() != prefix.size() + 8) continue;  // another key that starts with this one
    out->push_back({ref, DecodeBigEndian64(key.data() + prefix.size()), View(it->value()) == "\1"});
  }
  return FromRocks(it->status(), "reading decisions");
}

}  // namespace cp
