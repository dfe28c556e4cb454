// ChildStore: reads under a clearance, and bounded posting scans.
#include <rocksdb/iterator.h>

#include "storage/child_store_internal.h"
#include "storage/record_codec.h"
#include "util/coding.h"

namespace cp {

Result<ChildView> ChildStore::MakeView(ChildRecord record, std::string_view sealed_hidden,
                                       const Clearance& clearance) const {
  ChildView view;
  // An archived child is, to a reader who may not see it, no child at all.
  if (record.lifecycle.archived() && !clearance.SeesArchived(record.lifecycle.archived_on)) {
    return Status::NotFound("no child " + std::to_string(record.id));
  }
  // The one place hidden fields are opened for a reader: a shielded child's are opened
  // only under elevated clearance.
  if (record.shield.shielded && !clearance.SeesHiddenFields()) {
    // Which sources hold the child ("la_leeds") and which supplied each field say where
    // the child is as surely as an address does.
    record.sources.clear();
    record.provenance.clear();
  } else {
    auto plain = crypto_->Open(sealed_hidden, HiddenAssociatedData(record.id));
    if (!plain.ok()) return plain.status();
    auto hidden = DecodeHiddenFields(*plain);
    if (!hidden.ok()) return hidden.status();
    // Sensitive services leave storage only where the child's consent is recorded, whoever
    // reads (break glass and shielding managers included); the engine's own clearance keeps
    // them so that a feed's rewrite of the record does not lose them.
    if (!record.lifecycle.consent_sensitive_services &&
        clearance.level() != Clearance::Level::kMatching) {
      std::erase_if(hidden->services,
                    [](const ServiceContact& s) { return IsSensitiveService(s.kind); });
      // Which source supplied one says that there is one.
      std::erase_if(record.provenance, [](const FieldSource& p) {
        auto kind = ParseServiceKind(p.field);
        return kind && IsSensitiveService(*kind);
      });
    }
    view.hidden = std::move(*hidden);
  }
  view.record = std::move(record);
  return view;
}

Result<ChildRecord> ChildStore::GetRecord(ChildId id) const {
  rocksdb::PinnableSlice value;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->children, keys::ChildKey(id), &value);
  if (s.IsNotFound()) return Status::NotFound("no child " + std::to_string(id));
  if (!s.ok()) return FromRocks(s, "reading child " + std::to_string(id));
  return DecodeChildRecord(View(value));
}

Result<ChildView> ChildStore::Get(ChildId id, const Clearance& clearance) const {
  auto views = MultiGet(std::span<const ChildId>(&id, 1), clearance);
  if (!views[0].status().IsNotFound()) return std::move(views[0]);
  auto resolved = Resolve(id);  // merged into another child?
  if (!resolved.ok() || *resolved == id) return std::move(views[0]);
  views = MultiGet(std::span<const ChildId>(&*resolved, 1), clearance);
  return std::move(views[0]);
}

std::vector<Result<ChildView>> ChildStore::MultiGet(std::span<const ChildId> ids,
                                                    const Clearance& clearance) const {
  const size_t n = ids.size();
  std::vector<std::string> key_bytes;
  key_bytes.reserve(n);
  for (ChildId id : ids) key_bytes.push_back(keys::ChildKey(id));
  // Records and hidden fields in one MultiGet: 2n keys over two column families.
  std::vector<rocksdb::ColumnFamilyHandle*> families;
  std::vector<rocksdb::Slice> slices;
  for (int pass = 0; pass < 2; ++pass) {
    for (size_t i = 0; i < n; ++i) {
      families.push_back(pass == 0 ? h_->children : h_->hidden);
      slices.emplace_back(key_bytes[i]);
    }
  }
  // The vector overload, a lookup per key: RocksDB's batched one (FindSources uses it)
  // took 3-7% more instructions for the one to twenty children read here (callgrind of
  // feed updates and new records at 1M, 2026-11-30).
  std::vector<std::string> values;
  auto statuses = h_->db->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  std::vector<Result<ChildView>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const auto& rs = statuses[i];
    if (rs.IsNotFound()) {
      out.emplace_back(Status::NotFound("no child " + std::to_string(ids[i])));
      continue;
    }
    if (!rs.ok()) {
      out.emplace_back(FromRocks(rs, "reading child " + std::to_string(ids[i])));
      continue;
    }
    if (!statuses[n + i].ok()) {
      out.emplace_back(Status::Corruption("child " + std::to_string(ids[i]) + " has no hidden fields"));
      continue;
    }
    auto record = DecodeChildRecord(values[i]);
    if (!record.ok()) {
      out.emplace_back(record.status());
      continue;
    }
    out.push_back(MakeView(std::move(*record), values[n + i], clearance));
  }
  return out;
}

Result<SourceLink> ChildStore::FindSource(std::string_view source, std::string_view key) const {
  rocksdb::PinnableSlice value;
  auto s = h_->db->Get(rocksdb::ReadOptions(), h_->sources, keys::SourceKey(source, key), &value);
  if (s.IsNotFound()) return Status::NotFound("source record not linked");
  if (!s.ok()) return FromRocks(s, "reading a source link");
  if (value.size() < 16) return Status::Corruption("source link is malformed");
  return SourceLink{DecodeBigEndian64(value.data()), DecodeBigEndian64(value.data() + 8)};
}

std::vector<Result<SourceLink>> ChildStore::FindSources(
    std::string_view source, std::span<const std::string_view> source_keys) const {
  std::vector<std::string> key_bytes;
  key_bytes.reserve(source_keys.size());
  for (std::string_view k : source_keys) key_bytes.push_back(keys::SourceKey(source, k));
  std::vector<rocksdb::Slice> slices(key_bytes.begin(), key_bytes.end());
  std::vector<rocksdb::PinnableSlice> values(slices.size());
  std::vector<rocksdb::Status> statuses(slices.size());
  h_->db->MultiGet(rocksdb::ReadOptions(), h_->sources, slices.size(), slices.data(), values.data(),
                   statuses.data());
  std::vector<Result<SourceLink>> out;
  out.reserve(slices.size());
  for (size_t i = 0; i < slices.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      out.emplace_back(Status::NotFound("source record not linked"));
    } else if (!statuses[i].ok()) {
      out.emplace_back(FromRocks(statuses[i], "reading a source link"));
    } else if (values[i].size() < 16) {
      out.emplace_back(Status::Corruption("source link is malformed"));
    } else {
      out.emplace_back(
          SourceLink{DecodeBigEndian64(values[i].data()), DecodeBigEndian64(values[i].data() + 8)});
    }
  }
  return out;
}

Status ChildStore::FindByIdentifier(keys::IdKind kind, std::string_view value,
                                    std::vector<ChildId>* ids) const {
  const std::string prefix = keys::IdPrefix(kind, value);
  rocksdb::ReadOptions ro;
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro, h_->id_index));
  // Sought as the smallest key of the list (child id 0), whose prefix is `prefix`.
  for (it->Seek(keys::IdKey(kind, value, 0)); it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) break;
    ids->push_back(DecodeBigEndian64(key.data() + prefix.size()));
  }
  return FromRocks(it->status(), "scanning identifiers");
}

Status ChildStore::ScanName(TermKind kind, std::string_view token, uint16_t birth_year,
                            std::optional<uint8_t> birth_month, size_t limit,
                            const PostingVisitor& visit, bool* complete) const {
  PostingScanner scanner(this);
  return scanner.ScanName(kind, token, birth_year, birth_month, limit, visit, complete);
}

Status ChildStore::ScanPlace(std::string_view canonical_postcode, size_t limit,
                             const PostingVisitor& visit, bool* complete) const {
  PostingScanner scanner(this);
  return scanner.ScanPlace(canonical_postcode, limit, visit, complete);
}

std::vector<Result<ChildRecord>> ChildStore::MultiGetRecords(std::span<const ChildId> ids) const {
  std::vector<std::string> key_bytes;
  key_bytes.reserve(ids.size());
  for (ChildId id : ids) key_bytes.push_back(keys::ChildKey(id));
  std::vector<rocksdb::Slice> slices(key_bytes.begin(), key_bytes.end());
  std::vector<rocksdb::ColumnFamilyHandle*> families(ids.size(), h_->children);
  std::vector<std::string> values;
  auto statuses = h_->db->MultiGet(rocksdb::ReadOptions(), families, slices, &values);
  std::vector<Result<ChildRecord>> out;
  out.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      out.emplace_back(Status::NotFound("no child " + std::to_string(ids[i])));
    } else if (!statuses[i].ok()) {
      out.emplace_back(FromRocks(statuses[i], "reading child " + std::to_string(ids[i])));
    } else {
      out.push_back(DecodeChildRecord(values[i]));
    }
  }
  return out;
}

std::optional<uint8_t> ChildStore::DistrictDigest(std::string_view postcode) const {
  return cp::DistrictDigest(*crypto_, postcode);
}

PostingScanner::PostingScanner(const ChildStore* store) : store_(store) {}
PostingScanner::~PostingScanner() = default;

Status PostingScanner::ScanName(TermKind kind, std::string_view token, uint16_t birth_year,
                                std::optional<uint8_t> birth_month, size_t limit,
                                const PostingVisitor& visit, bool* complete) {
  if (token.empty() || token.size() > 255) return Status::InvalidArgument("bad index token");
  std::string seek = keys::NamePostingPrefix(kind, token, birth_year);
  const size_t prefix_len = seek.size();
  if (birth_month) seek.push_back(static_cast<char>(*birth_month));
  if (!name_it_) {
    rocksdb::ReadOptions ro;
    ro.prefix_same_as_start = true;
    name_it_.reset(store_->h_->db->NewIterator(ro, store_->h_->name_index));
  }
  rocksdb::Iterator* it = name_it_.get();
  size_t visited = 0;
  *complete = true;
  for (it->Seek(seek); it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    if (key.size() != prefix_len + 9 || !key.starts_with(seek)) break;
    if (visited == limit) {
      *complete = false;
      break;
    }
    std::string_view value = View(it->value());
    if (value.empty()) return Status::Corruption("name posting without flags");
    auto tail = keys::DecodeNamePostingTail(key);
    const auto flags = static_cast<uint8_t>(value[0]);
    std::string_view features = value.substr(1);
    std::optional<uint8_t> district;
    if (flags & keys::kPostingDistrict) {
      if (features.empty()) return Status::Corruption("name posting without its district digest");
      district = static_cast<uint8_t>(features.back());
      features.remove_suffix(1);
    }
    visit(Posting{tail.id, tail.year, tail.month, (flags & keys::kPostingShielded) != 0, features,
                  district});
    ++visited;
  }
  return FromRocks(it->status(), "scanning name postings");
}

Status PostingScanner::ScanPlace(std::string_view canonical_postcode, size_t limit,
                                 const PostingVisitor& visit, bool* complete) {
  const std::string prefix = PlaceHash(*store_->h_, *store_->crypto_, canonical_postcode);
  if (!place_it_) {
    rocksdb::ReadOptions ro;
    ro.prefix_same_as_start = true;
    place_it_.reset(store_->h_->db->NewIterator(ro, store_->h_->place_index));
  }
  rocksdb::Iterator* it = place_it_.get();
  size_t visited = 0;
  *complete = true;
  for (it->Seek(prefix); it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    if (key.size() != prefix.size() + 8 || !key.starts_with(prefix)) break;
    if (visited == limit) {
      *complete = false;
      break;
    }
    std::string_view value = View(it->value());
    if (value.empty()) return Status::Corruption("place posting without flags");
    bool shielded = (static_cast<uint8_t>(value[0]) & keys::kPostingShielded) != 0;
    if (shielded) return Status::Corruption("a shielded child has a place posting");
    visit(Posting{DecodeBigEndian64(key.data() + prefix.size()), 0, 0, false, value.substr(1)});
    ++visited;
  }
  return FromRocks(it->status(), "scanning place postings");
}

Status ChildStore::ForEachChild(const Clearance& clearance,
                                const std::function<bool(const ChildView&)>& visit) const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;  // an export should not evict the search working set
  const rocksdb::Snapshot* snapshot = h_->db->GetSnapshot();
  ro.snapshot = snapshot;
  std::unique_ptr<rocksdb::Iterator> records(h_->db->NewIterator(ro, h_->children));
  std::unique_ptr<rocksdb::Iterator> hidden(h_->db->NewIterator(ro, h_->hidden));
  Status s;
  hidden->SeekToFirst();
  for (records->SeekToFirst(); records->Valid() && s.ok(); records->Next()) {
    // Both families are keyed by child id and written together, so they advance in step.
    if (!hidden->Valid() || hidden->key() != records->key()) {
      s = Status::Corruption("hidden fields out of step with records");
      break;
    }
    auto record = DecodeChildRecord(View(records->value()));
    if (!record.ok()) {
      s = record.status();
      break;
    }
    auto view = MakeView(std::move(*record), View(hidden->value()), clearance);
    if (view.status().IsNotFound()) {  // archived, and not for this reader
      hidden->Next();
      continue;
    }
    if (!view.ok()) {
      s = view.status();
      break;
    }
    hidden->Next();
    if (!visit(*view)) break;
  }
  if (s.ok()) s = FromRocks(records->status(), "reading children");
  records.reset();
  hidden.reset();
  h_->db->ReleaseSnapshot(snapshot);
  return s;
}

Result<uint64_t> ChildStore::CountChildren() const {
  rocksdb::ReadOptions ro;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro, h_->children));
  uint64_t n = 0;
  for (it->SeekToFirst(); it->Valid(); it->Next()) ++n;
  Status s = FromRocks(it->status(), "counting children");
  if (!s.ok()) return s;
  return n;
}

}  // namespace cp
