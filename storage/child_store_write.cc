// ChildStore: inserting children and setting shields. Every change is one WriteBatch.
#include <rocksdb/write_batch.h>

#include <algorithm>
#include <ctime>
#include <set>

#include "storage/child_store_internal.h"
#include "storage/record_codec.h"
#include "util/coding.h"
#include "util/postcode.h"

namespace cp {

// Keyed, because the payload holds an address: an unkeyed hash on disk would let anyone
// holding the files confirm a guessed address.
uint64_t SourceFingerprint(const ChildStore::Handles& h, const Crypto& crypto, std::string_view payload) {
  if (h.row_fingerprint_xxh3) return crypto.RowFingerprint(payload);
  return DecodeBigEndian64(crypto.KeyedHash(payload).data());
}

std::optional<uint8_t> DistrictDigest(const Crypto& crypto, std::string_view postcode) {
  const std::string_view district = PostcodeOutward(postcode);
  if (district.empty()) return std::nullopt;
  std::string input("cp.district\0", 12);  // apart from every other keyed hash's input
  input += district;
  return static_cast<uint8_t>(crypto.KeyedHash(input)[0]);
}

IndexImage MakeIndexImage(const IndexPolicy& policy, const ChildRecord& record,
                          std::optional<uint8_t> district, bool with_terms) {
  IndexImage image;
  if (with_terms) policy.NameTerms(record, &image.terms);
  const uint8_t flags = record.shield.shielded ? keys::kPostingShielded : 0;
  image.flags_only.assign(1, static_cast<char>(flags));
  image.posting_value.assign(1,
                             static_cast<char>(district ? flags | keys::kPostingDistrict : flags));
  policy.EncodeFeatures(record, &image.posting_value);
  if (district) image.posting_value.push_back(static_cast<char>(*district));
  return image;
}

Status AppendNewChildEntries(ChildStore::Handles* h, const Crypto& crypto,
                             const IndexPolicy& policy, const NewChild& c, EntryWriter* sink) {
  const ChildRecord& r = c.record;
  IndexImage image = MakeIndexImage(policy, crypto, r, c.hidden);
  for (const auto& t : image.terms) {
    if (t.token.empty() || t.token.size() > 255) {
      return Status::InvalidArgument("an index token must be 1 to 255 bytes");
    }
  }
  sink->Put(h->children, keys::ChildKey(r.id), EncodeChildRecord(r));
  sink->Put(h->hidden, keys::ChildKey(r.id),
            crypto.Seal(EncodeHiddenFields(c.hidden), HiddenAssociatedData(r.id)));
  PutIndexEntries(h, crypto, image, r, c.hidden, sink);
  std::string source_key = keys::SourceKey(c.source.source, c.source.key);
  // No sealed copy of the record: what this source said is the child as created, and
  // stays readable from the child until a change to the child writes the copy out
  // (ChildStore::MaterializeDerivedLinks). A copy would double the database.
  std::string link = BigEndian64(r.id);
  link += BigEndian64(SourceFingerprint(*h, crypto, c.source_payload));
  sink->Put(h->sources, source_key, link);
  return Status::OK();
}

void SortEntries(std::vector<Entry>* entries) {
  std::sort(entries->begin(), entries->end(), [](const Entry& a, const Entry& b) {
    return a.cf_id != b.cf_id ? a.cf_id < b.cf_id : a.key < b.key;
  });
}

Result<std::vector<ChildId>> ChildStore::InsertChildren(std::span<NewChild> children) {
  std::lock_guard<std::mutex> lock(write_mu_);
  std::set<std::string> batch_sources;
  for (const auto& c : children) {
    std::string key = keys::SourceKey(c.source.source, c.source.key);
    if (c.source.source.empty() || c.source.source.size() > 255) {
      return Status::InvalidArgument("a source name must be 1 to 255 bytes");
    }
    if (!batch_sources.insert(key).second) {
      return Status::AlreadyExists("source key '" + c.source.key + "' appears twice");
    }
    auto linked = FindSource(c.source.source, c.source.key);
    if (linked.ok()) {
      return Status::AlreadyExists("source " + c.source.source + " key '" + c.source.key +
                                   "' is already linked to child " + std::to_string(linked->child));
    }
    if (!linked.status().IsNotFound()) return linked.status();
  }

  // Memtable inserts in key order reuse the skip list's insert position; in arrival order
  // (postings of many tokens interleaved) each insert walks the list from the top, with a
  // cache miss per level: sorting took a 20k-child import from 5,315 to 9,050 rows/s.
  std::vector<Entry> entries;
  std::vector<ChildId> ids;
  ChildId next = next_id_.load();
  for (auto& c : children) {
    ChildRecord& r = c.record;
    r.id = next++;
    if (std::find(r.sources.begin(), r.sources.end(), c.source) == r.sources.end()) {
      r.sources.push_back(c.source);
    }
    EntryList list(&entries);
    Status s = AppendNewChildEntries(h_.get(), *crypto_, *options_.policy, c, &list);
    if (!s.ok()) return s;
    ids.push_back(r.id);
  }
  SortEntries(&entries);
  rocksdb::WriteBatch batch;
  for (const auto& e : entries) batch.Put(e.cf, e.key, e.value);
  batch.Put(h_->meta, std::string(keys::kMetaNextChildId), BigEndian64(next));
  Status s = FromRocks(h_->db->Write(rocksdb::WriteOptions(), &batch), "inserting children");
  if (!s.ok()) return s;
  next_id_ = next;
  return ids;
}

Status ChildStore::SetShield(ChildId id, bool shielded, std::string_view by,
                             std::string_view reason) {
  return SetShields(std::span<const ChildId>(&id, 1), shielded, by, reason, nullptr);
}

Status ChildStore::SetShields(std::span<const ChildId> ids, bool shielded, std::string_view by,
                              std::string_view reason, size_t* done) {
  std::lock_guard<std::mutex> lock(write_mu_);
  if (done != nullptr) *done = 0;
  bool purge = false;
  Status s;
  for (ChildId id : ids) {
    s = SetShieldLocked(id, shielded, by, reason, &purge);
    if (!s.ok()) break;
    if (done != nullptr) ++*done;
  }
  // Whatever was done is purged, even when a later child failed.
  if (purge) {
    Status p = PurgeSupersededPlacePostings();
    if (s.ok()) s = p;
  }
  return s;
}

Status ChildStore::SetShieldLocked(ChildId id, bool shielded, std::string_view by,
                                   std::string_view reason, bool* purge) {
  auto view = Get(id, Clearance::Elevated(Clearance::Level::kShieldingManager, std::string(by),
                                          std::string(reason)));
  if (!view.ok()) return view.status();
  ChildRecord r = view->record;
  if (r.shield.shielded == shielded) return Status::OK();
  const HiddenFields& hidden = *view->hidden;
  r.shield = ShieldState{shielded, std::string(by), std::string(reason),
                         static_cast<int64_t>(std::time(nullptr))};

  // The postings keep their keys (names and date of birth are unchanged); rewriting them
  // carries the new shield bit.
  rocksdb::WriteBatch batch;
  batch.Put(h_->children, keys::ChildKey(id), EncodeChildRecord(r));
  PutIndexEntries(h_.get(), *crypto_, MakeIndexImage(*options_.policy, *crypto_, r, hidden), r,
                  hidden, &batch);
  if (!shielded) {
    // Lifting a shield drops the postings only a shielded child has.
    std::vector<IndexTerm> terms;
    options_.policy->NameTerms(r, &terms);
    DeleteShieldedPostings(*h_, r, terms, &batch);
  }
  const bool drops_place = shielded && !hidden.postcode.empty();
  if (drops_place) batch.Delete(h_->place_index, keys::PlaceKey(PlaceHash(*h_, *crypto_, hidden.postcode), id));
  rocksdb::WriteOptions wo;
  wo.sync = true;
  Status s = FromRocks(h_->db->Write(wo, &batch), "writing the shield");
  if (s.ok() && drops_place) *purge = true;
  if (s.ok() && shielded) shields_set_.fetch_add(1, std::memory_order_acq_rel);
  return s;
}

// Drops superseded place postings from disk now rather than at some later compaction.
// Flush every family, so that no write-ahead log still holds an old posting (a log is
// deleted only once every family written to it is flushed), then compact the whole place
// index: a ranged compaction would write the key range into RocksDB's LOG.
Status ChildStore::PurgeSupersededPlacePostings() {
  rocksdb::FlushOptions flush;
  Status s = FromRocks(h_->db->Flush(flush, h_->all), "flushing after shield");
  if (!s.ok()) return s;
  rocksdb::CompactRangeOptions compact;
  compact.bottommost_level_compaction = rocksdb::BottommostLevelCompaction::kForce;
  s = FromRocks(h_->db->CompactRange(compact, h_->place_index, nullptr, nullptr),
                "compacting after shield");
  if (!s.ok()) return s;
  // The MANIFEST rolls at every version edit (max_manifest_file_size), but the compaction's
  // own edit is applied after the roll's snapshot was taken, so that snapshot still lists
  // the compacted-away file and its first key. One more edit rolls it past that.
  s = FromRocks(h_->db->Put(rocksdb::WriteOptions(), h_->meta, "last_shield_change",
                            std::to_string(std::time(nullptr))),
                "recording the shield change");
  if (s.ok()) s = FromRocks(h_->db->Flush(flush, h_->meta), "flushing after shield");
  return s;
}

}  // namespace cp
