// ChildStore: consent, archiving and deletion of children (the rules that decide when are
// storage/retention.h). Every child's change is one WriteBatch.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <set>

#include "storage/child_store_internal.h"
#include "storage/record_codec.h"
#include "storage/retention.h"
#include "util/coding.h"

namespace cp {
namespace {

Clearance Engine(const char* why) {
  return Clearance::Elevated(Clearance::Level::kMatching, "storage", why);
}

}  // namespace

Status ChildStore::SetConsentTo25(ChildId id, bool consent) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto record = GetRecord(id);
  if (!record.ok()) return record.status();
  if (record->lifecycle.archived()) {
    return Status::FailedPrecondition("child " + std::to_string(id) + " was archived on " +
                                      record->lifecycle.archived_on.ToString() +
                                      "; consent does not bring an archived record back");
  }
  if (record->lifecycle.consent_to_25 == consent) return Status::OK();
  record->lifecycle.consent_to_25 = consent;
  // Consent is no field a source supplied and no index holds it: the record alone changes.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(h_->db->Put(wo, h_->children, keys::ChildKey(id), EncodeChildRecord(*record)),
                   "recording consent");
}

Status ChildStore::SetSensitiveServicesConsent(ChildId id, bool consent) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto record = GetRecord(id);
  if (!record.ok()) return record.status();
  if (record->id != id) return Status::NotFound("child " + std::to_string(id) + " was merged away");
  if (record->lifecycle.consent_sensitive_services == consent) return Status::OK();
  record->lifecycle.consent_sensitive_services = consent;
  // Like consent to 25: no source's field and no index entry; the record alone changes.
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(h_->db->Put(wo, h_->children, keys::ChildKey(id), EncodeChildRecord(*record)),
                   "recording consent to show sensitive services");
}

Status ChildStore::ArchiveChild(ChildId id, const Date& archived_on) {
  if (archived_on.empty()) return Status::InvalidArgument("an archive date is needed");
  std::lock_guard<std::mutex> lock(write_mu_);
  auto view = Get(id, Engine("archive"));
  if (!view.ok()) return view.status();
  if (view->record.id != id)
    return Status::NotFound("child " + std::to_string(id) + " was merged away");
  if (view->record.lifecycle.archived()) return Status::OK();
  // The date is the rules', checked on the record as it is now: a feed may have corrected a
  // date of birth since the caller decided.
  auto due = ArchiveDueFor(view->record);
  if (!due || due->on != archived_on) {
    return Status::FailedPrecondition("child " + std::to_string(id) +
                                      " is not due for archiving on " + archived_on.ToString());
  }
  const HiddenFields& hidden = *view->hidden;
  ChildRecord r = view->record;
  r.lifecycle.archived_on = archived_on;
  // Deletes first, then the archived record's own entries (PutIndexEntries writes only a
  // shielded child's shielded phonetic postings for it): a posting in both ends up present.
  // The hidden fields are not rewritten: they stay sealed as they were.
  rocksdb::WriteBatch batch;
  DeletePostings(view->record, hidden, &batch);
  batch.Put(h_->children, keys::ChildKey(id), EncodeChildRecord(r));
  PutIndexEntries(h_.get(), *crypto_, MakeIndexImage(*options_.policy, *crypto_, r, hidden), r,
                  hidden, &batch);
  return FromRocks(h_->db->Write(rocksdb::WriteOptions(), &batch), "archiving a child");
}

namespace {

// A review key that names a child or a source record: a decision ('d' | SourceKey | child)
// or a waiting item ('q' | review id, whose value names its SourceKey).
struct ReviewKey {
  std::string key;
  ChildId child = 0;  // 0 for an item
  std::string source_key;
};

Status ReadMergeRecords(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* merged,
                        std::map<ChildId, ChildId>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), merged));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->key().size() != 8 || it->value().size() != 8) {
      return Status::Corruption("a merge record is malformed");
    }
    (*out)[DecodeBigEndian64(it->key().data())] = DecodeBigEndian64(it->value().data());
  }
  return FromRocks(it->status(), "reading merge records");
}

Status ReadReviewKeys(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* review,
                      std::vector<ReviewKey>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), review));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key = View(it->key()), value = View(it->value());
    if (key.size() > 9 && key[0] == 'd') {
      out->push_back({std::string(key), DecodeBigEndian64(key.data() + key.size() - 8),
                      std::string(key.substr(1, key.size() - 9))});
    } else if (key.size() == 9 && key[0] == 'q' && value.size() >= 3) {
      const size_t n = DecodeBigEndian16(value.data() + 1);
      if (value.size() < 3 + n) return Status::Corruption("a review item is malformed");
      out->push_back({std::string(key), 0, std::string(value.substr(3, n))});
    }
  }
  return FromRocks(it->status(), "reading the review family");
}

// Links naming a child in `owner` (merged away), by the deleted child it resolves to.
Status ReadStrayLinks(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* sources,
                      const std::map<ChildId, ChildId>& owner,
                      std::map<ChildId, std::vector<std::string>>* out) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), sources));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value().size() < 8) continue;
    auto o = owner.find(DecodeBigEndian64(it->value().data()));
    if (o != owner.end()) (*out)[o->second].push_back(it->key().ToString());
  }
  return FromRocks(it->status(), "reading source links");
}

}  // namespace

Status ChildStore::DeleteChildren(std::span<const ChildId> ids, uint64_t* deleted) {
  *deleted = 0;
  if (ids.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(write_mu_);
  std::map<ChildId, ChildId> merges;  // merged away -> merged into
  std::vector<ReviewKey> review_keys;
  Status s = ReadMergeRecords(h_->db, h_->merged, &merges);
  if (s.ok()) s = ReadReviewKeys(h_->db, h_->review, &review_keys);
  if (!s.ok()) return s;

  // Children merged into a deleted one, directly or through others, resolve to it: their
  // merge records go with it, and so do links still naming them (a merge moves links, but a
  // link left behind would otherwise outlive the child).
  const std::set<ChildId> deleting(ids.begin(), ids.end());
  std::map<ChildId, std::set<ChildId>> merged_into;  // deleted child -> ids merged into it
  std::map<ChildId, ChildId> owner;                  // the same, the other way round
  for (const auto& [from, into] : merges) {
    ChildId end = into;
    for (int hops = 0; hops < 64 && merges.count(end); ++hops) end = merges.at(end);
    if (!deleting.count(end)) continue;
    merged_into[end].insert(from);
    owner[from] = end;
  }
  std::map<ChildId, std::vector<std::string>> stray_links;
  if (!owner.empty()) s = ReadStrayLinks(h_->db, h_->sources, owner, &stray_links);
  if (!s.ok()) return s;

  for (ChildId id : ids) {
    auto view = Get(id, Engine("delete"));
    if (view.status().IsNotFound()) continue;
    if (!view.ok()) return view.status();
    if (view->record.id != id) continue;  // merged away: deleted with the child it lives on as
    const ChildRecord& r = view->record;
    rocksdb::WriteBatch batch;
    DeletePostings(r, *view->hidden, &batch);
    batch.Delete(h_->children, keys::ChildKey(id));
    batch.Delete(h_->hidden, keys::ChildKey(id));
    std::set<std::string> source_keys;
    for (const auto& ref : r.sources) {
      std::string key = keys::SourceKey(ref.source, ref.key);
      auto link = FindSource(ref.source, ref.key);
      if (link.ok() && link->child == id) batch.Delete(h_->sources, key);
      source_keys.insert(std::move(key));
    }
    for (const auto& key : stray_links[id]) {
      batch.Delete(h_->sources, key);
      source_keys.insert(key);
    }
    for (const auto& key : source_keys) batch.Delete(h_->review, "s" + key);
    std::set<ChildId> names{id};
    for (ChildId from : merged_into[id]) {
      names.insert(from);
      batch.Delete(h_->merged, keys::ChildKey(from));
    }
    for (const auto& rk : review_keys) {
      if (!names.count(rk.child) && !source_keys.count(rk.source_key)) continue;
      batch.Delete(h_->review, rk.key);
      if (rk.child == 0) batch.Delete(h_->review, "s" + rk.source_key);
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    s = FromRocks(h_->db->Write(wo, &batch), "deleting a child");
    if (!s.ok()) return s;
    ++*deleted;
  }
  return Status::OK();
}

}  // namespace cp
