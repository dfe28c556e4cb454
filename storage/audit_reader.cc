// AuditReader: verifying the chain and querying by child or user.
#include "storage/audit_internal.h"
#include "storage/child_store_internal.h"
#include "util/coding.h"

namespace cp {
namespace {

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A read-only snapshot that releases itself.
class Snapshot {
 public:
  explicit Snapshot(rocksdb::DB* db) : db_(db), snap_(db->GetSnapshot()) {
    options_.snapshot = snap_;
  }
  ~Snapshot() { db_->ReleaseSnapshot(snap_); }
  Snapshot(const Snapshot&) = delete;
  Snapshot& operator=(const Snapshot&) = delete;
  const rocksdb::ReadOptions& options() const { return options_; }

 private:
  rocksdb::DB* db_;
  const rocksdb::Snapshot* snap_;
  rocksdb::ReadOptions options_;
};

AuditVerification Broken(uint64_t entries, uint64_t at, std::string problem) {
  AuditVerification v;
  v.entries = entries;
  v.intact = false;
  v.first_bad = at;
  v.problem = std::move(problem);
  return v;
}

}  // namespace

Result<AuditVerification> AuditReader::Verify() const {
  const ChildStore::Handles* h = store_->h_.get();
  Snapshot snap(h->db);
  std::string head;
  auto hs = h->db->Get(snap.options(), h->meta, std::string(audit::kMetaHead), &head);
  if (!hs.ok() && !hs.IsNotFound()) return FromRocks(hs, "reading the audit head");

  std::string previous(audit::kHashBytes, '\0');
  uint64_t expected = 1, entries = 0;
  std::unique_ptr<rocksdb::Iterator> it(h->db->NewIterator(snap.options(), h->audit));
  for (it->SeekToFirst(); it->Valid(); it->Next(), ++expected) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.size() != 8) return Broken(entries, expected, "a key that is not a sequence number");
    uint64_t seq = DecodeBigEndian64(key.data());
    if (seq != expected) {
      return Broken(entries, expected,
                    "entry " + std::to_string(expected) + " is missing (next is " +
                        std::to_string(seq) + ")");
    }
    AuditEntry entry;
    std::string_view body, hash;
    Status s = audit::DecodeValue(std::string_view(it->value().data(), it->value().size()), seq,
                                  nullptr, &entry, &body, &hash);
    if (!s.ok()) return Broken(entries, seq, s.message());
    if (audit::ChainHash(previous, key, body) != hash) {
      return Broken(entries, seq,
                    "entry " + std::to_string(seq) +
                        " does not match its hash and its predecessor's (altered, moved or "
                        "replaced)");
    }
    previous.assign(hash);
    ++entries;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the audit log");
  if (hs.IsNotFound()) {
    if (entries > 0) return Broken(entries, entries, "the audit head is missing");
  } else if (head.size() != 8 + audit::kHashBytes) {
    return Broken(entries, entries, "the audit head is malformed");
  } else {
    uint64_t head_seq = DecodeBigEndian64(head.data());
    if (head_seq != entries) {
      return Broken(entries, std::min(head_seq, entries + 1),
                    "the head names entry " + std::to_string(head_seq) + " but the log ends at " +
                        std::to_string(entries) + " (entries removed from the end?)");
    }
    if (head.substr(8) != previous) {
      return Broken(entries, entries, "the head's hash does not match the last entry");
    }
  }
  AuditVerification v;
  v.entries = entries;
  if (entries > 0) v.head_hash_hex = Hex(previous);
  return v;
}

namespace {

Status Query(const ChildStore::Handles* h, const Crypto& crypto, const std::string& prefix,
             const AuditTimeRange& range, size_t limit, std::vector<AuditEntry>* out,
             bool* complete) {
  *complete = true;
  if (range.from_micros > range.to_micros || range.to_micros < 0) return Status::OK();
  Snapshot snap(h->db);
  std::vector<uint64_t> sequences;
  std::unique_ptr<rocksdb::Iterator> it(h->db->NewIterator(snap.options(), h->audit_index));
  const std::string end = audit::IndexKey(prefix, range.to_micros, UINT64_MAX);
  for (it->Seek(audit::IndexKey(prefix, std::max<int64_t>(range.from_micros, 0), 0));
       it->Valid() && it->key().compare(end) <= 0; it->Next()) {
    if (sequences.size() == limit) {
      *complete = false;
      break;
    }
    int64_t time = 0;
    uint64_t seq = 0;
    std::string_view key(it->key().data(), it->key().size());
    if (!audit::DecodeIndexTail(key, prefix.size(), &time, &seq)) {
      return Status::Corruption("a malformed audit index key");
    }
    sequences.push_back(seq);
  }
  if (!it->status().ok()) return FromRocks(it->status(), "reading the audit index");
  std::vector<std::string> keys;
  for (uint64_t seq : sequences) keys.push_back(audit::EntryKey(seq));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<rocksdb::PinnableSlice> values(keys.size());
  std::vector<rocksdb::Status> statuses(keys.size());
  h->db->MultiGet(snap.options(), h->audit, keys.size(), slices.data(), values.data(),
                  statuses.data());
  for (size_t i = 0; i < keys.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return Status::Corruption("the audit index names entry " + std::to_string(sequences[i]) +
                                ", which is missing; run `contactpoint audit verify`");
    }
    if (!statuses[i].ok()) return FromRocks(statuses[i], "reading an audit entry");
    AuditEntry entry;
    std::string_view body, hash;
    Status s = audit::DecodeValue(std::string_view(values[i].data(), values[i].size()),
                                  sequences[i], &crypto, &entry, &body, &hash);
    if (!s.ok()) return s;
    out->push_back(std::move(entry));
  }
  return Status::OK();
}

}  // namespace

Status AuditReader::QueryChild(ChildId child, const AuditTimeRange& range, size_t limit,
                               std::vector<AuditEntry>* out, bool* complete) const {
  return Query(store_->h_.get(), *store_->crypto_, audit::ChildIndexPrefix(child), range, limit,
               out, complete);
}

Status AuditReader::QueryUser(std::string_view user, const AuditTimeRange& range, size_t limit,
                              std::vector<AuditEntry>* out, bool* complete) const {
  if (user.size() > 255) return Status::InvalidArgument("a user name has at most 255 bytes");
  return Query(store_->h_.get(), *store_->crypto_, audit::UserIndexPrefix(user), range, limit, out,
               complete);
}

Status AuditReader::ForEach(const AuditTimeRange& range,
                            const std::function<bool(const AuditEntry&)>& visit) const {
  const ChildStore::Handles* h = store_->h_.get();
  Snapshot snap(h->db);
  std::unique_ptr<rocksdb::Iterator> it(h->db->NewIterator(snap.options(), h->audit));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    if (key.size() != 8) return Status::Corruption("an audit key that is not a sequence number");
    AuditEntry entry;
    std::string_view body, hash;
    Status s = audit::DecodeValue(std::string_view(it->value().data(), it->value().size()),
                                  DecodeBigEndian64(key.data()), store_->crypto_.get(), &entry,
                                  &body, &hash);
    if (!s.ok()) return s;
    if (entry.time_micros < range.from_micros || entry.time_micros > range.to_micros) continue;
    if (!visit(entry)) break;
  }
  return FromRocks(it->status(), "reading the audit log");
}

}  // namespace cp
