// ChildStore: consent, archiving and deletion of children (the rules that decide when are
// storage/retention.h). Every child's change is one WriteBatch.
#include <rocksdb/iterator.h>
#include <rocksdb/write_batch.h>

#include <map>
#include <set>

#include "storage/child_store_internal.h"
#include "storage/record_codec.h"
#include "util/coding.h"

namespace cp {
namespace {

std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

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

Status ChildStore::ArchiveChild(ChildId id, const Date& archived_on) {
  if (archived_on.empty()) return Status::InvalidArgument("an archive date is needed");
  std::lock_guard<std::mutex> lock(write_mu_);
  auto view = Get(id, Engine("archive"));
  if (!view.ok()) return view.status();
  if (view->record.id != id)
    return Status::NotFound("child " + std::to_string(id) + " was merged away");
  if (view->record.lifecycle.archived()) return Status::OK();
  const HiddenFields& hidden = *view->hidden;
  ChildRecord r = view->record;
  r.lifecycle.archived_on = archived_on;
  // Deletes first, then the archived record's own entries (PutIndexEntries writes only a
  // shielded child's shielded phonetic postings for it): a posting in both ends up present.
  // The hidden fields are not rewritten: they stay sealed as they were.
  rocksdb::WriteBatch batch;
  DeletePostings(view->record, hidden, &batch);
  batch.Put(h_->children, keys::ChildKey(id), EncodeChildRecord(r));
  PutIndexEntries(h_.get(), *crypto_, MakeIndexImage(*options_.policy, r), r, hidden, &batch);
  return FromRocks(h_->db->Write(rocksdb::WriteOptions(), &batch), "archiving a child");
}

namespace {

// What deletion must find by scanning, collected once for all the children deleted: the
// merge records and the review family's keys that name a child or its source records.
struct Traces {
  std::map<ChildId, ChildId> merged;           // merged away -> merged into
  std::vector<std::string> review_keys;        // every 'd' and 'q' key, with what it names
  std::vector<ChildId> review_key_child;       // 'd': the child named; 'q': 0
  std::vector<std::string> review_key_source;  // the SourceKey named
};

}  // namespace

Status ChildStore::DeleteChildren(std::span<const ChildId> ids, uint64_t* deleted) {
  *deleted = 0;
  if (ids.empty()) return Status::OK();
  std::lock_guard<std::mutex> lock(write_mu_);
  Traces t;
  {
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->merged));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->key().size() != 8 || it->value().size() != 8) {
        return Status::Corruption("a merge record is malformed");
      }
      t.merged[DecodeBigEndian64(it->key().data())] = DecodeBigEndian64(it->value().data());
    }
    Status s = FromRocks(it->status(), "reading merge records");
    if (!s.ok()) return s;
  }
  {
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->review));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = View(it->key()), value = View(it->value());
      if (key.size() > 9 && key[0] == 'd') {
        t.review_keys.emplace_back(key);
        t.review_key_child.push_back(DecodeBigEndian64(key.data() + key.size() - 8));
        t.review_key_source.emplace_back(key.substr(1, key.size() - 9));
      } else if (key.size() == 9 && key[0] == 'q' && value.size() >= 3) {
        const size_t n = DecodeBigEndian16(value.data() + 1);
        if (value.size() < 3 + n) return Status::Corruption("a review item is malformed");
        t.review_keys.emplace_back(key);
        t.review_key_child.push_back(0);
        t.review_key_source.emplace_back(value.substr(3, n));
      }
    }
    Status s = FromRocks(it->status(), "reading the review family");
    if (!s.ok()) return s;
  }

  // Children merged into a deleted one, directly or through others, resolve to it: their
  // merge records go with it, and so do links still naming them (a merge moves links, but a
  // link left behind would otherwise outlive the child).
  const std::set<ChildId> deleting(ids.begin(), ids.end());
  std::map<ChildId, std::set<ChildId>> merged_into;  // deleted child -> ids merged into it
  for (const auto& [from, into] : t.merged) {
    ChildId end = into;
    for (int hops = 0; hops < 64 && t.merged.count(end); ++hops) end = t.merged.at(end);
    if (deleting.count(end)) merged_into[end].insert(from);
  }
  std::map<ChildId, std::vector<std::string>> stray_links;  // deleted child -> link keys
  if (!merged_into.empty()) {
    std::map<ChildId, ChildId> owner;
    for (const auto& [end, froms] : merged_into) {
      for (ChildId from : froms) owner[from] = end;
    }
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(rocksdb::ReadOptions(), h_->sources));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      if (it->value().size() < 8) continue;
      auto o = owner.find(DecodeBigEndian64(it->value().data()));
      if (o != owner.end()) stray_links[o->second].push_back(it->key().ToString());
    }
    Status s = FromRocks(it->status(), "reading source links");
    if (!s.ok()) return s;
  }

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
    for (size_t i = 0; i < t.review_keys.size(); ++i) {
      if (names.count(t.review_key_child[i]) || source_keys.count(t.review_key_source[i])) {
        batch.Delete(h_->review, t.review_keys[i]);
        if (t.review_keys[i][0] == 'q') batch.Delete(h_->review, "s" + t.review_key_source[i]);
      }
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    Status s = FromRocks(h_->db->Write(wo, &batch), "deleting a child");
    if (!s.ok()) return s;
    ++*deleted;
  }
  return Status::OK();
}

}  // namespace cp
