// ChildStore::CheckConsistency (storage/check.h): records against indexes, source links
// and merge records, all read from one snapshot.
//
// Pass 1 walks the children and recomputes each one's index entries exactly as a write does
// (PutIndexEntries), adding them to a digest of what each index should hold: their number and
// a sum of 128-bit hashes of key and value. Pass 2 walks each index, checks that every entry
// names a child that may have it, and makes the same digest of what it holds. Where the two
// digests agree the index holds exactly the entries the records yield, and a clean database
// has cost two sequential reads. Where they differ, the children are walked again and each
// expected entry looked up, which names the missing ones and those with another value (and
// accepts a posting in a form an earlier build wrote); an entry naming an existing child but
// not yielded by its record then shows as more entries than the lookups found, and pass 3
// recomputes per entry to name it. (The lookups were the whole of `check` before 2026-12-01:
// 228 s at 1M children, nearly all of it reading and decompressing a block per posting.)
#include <rocksdb/db.h>
#include <rocksdb/iterator.h>
#include <xxhash.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "storage/check.h"
#include "storage/child_store_internal.h"
#include "storage/record_codec.h"
#include "util/coding.h"

namespace cp {
namespace {

struct Collected {
  rocksdb::ColumnFamilyHandle* cf;
  std::string key;
  std::string value;
};

struct Collector {
  std::vector<Collected>* out;
  void Put(rocksdb::ColumnFamilyHandle* cf, std::string key, std::string value) {
    out->push_back({cf, std::move(key), std::move(value)});
  }
};

constexpr uint8_t kExists = 1, kArchived = 2, kShielded = 4;

// What an index holds, or should: its entries' number and the sums (mod 2^64) of two
// independent 64-bit hashes of each entry's key and value. Two digests of different sets of
// entries agree only by a chance of about 2^-128: this detects damage, not an adversary
// (one who can write the database can write its records too).
struct IndexDigest {
  uint64_t count = 0, sum_a = 0, sum_b = 0;
  void Add(std::string_view key, std::string_view value) {
    ++count;
    sum_a += XXH3_64bits_withSeed(value.data(), value.size(),
                                  XXH3_64bits_withSeed(key.data(), key.size(), 1));
    sum_b += XXH3_64bits_withSeed(value.data(), value.size(),
                                  XXH3_64bits_withSeed(key.data(), key.size(), 2));
  }
  bool operator==(const IndexDigest&) const = default;
};

// Children by id (ascending, as the children family is walked) with their state.
struct ChildTable {
  std::vector<ChildId> ids;
  std::vector<uint8_t> flags;
  uint8_t Of(ChildId id) const {
    auto it = std::lower_bound(ids.begin(), ids.end(), id);
    return it != ids.end() && *it == id ? flags[it - ids.begin()] : 0;
  }
};

class Checker {
 public:
  Checker(ChildStore::Handles* h, const Crypto& crypto, const IndexPolicy& policy,
          ConsistencyReport* report)
      : h_(h), crypto_(crypto), policy_(policy), report_(report) {
    snapshot_ = h_->db->GetSnapshot();
    ro_.snapshot = snapshot_;
    ro_.fill_cache = false;
  }
  ~Checker() { h_->db->ReleaseSnapshot(snapshot_); }

  Status Run() {
    Status s = CheckChildren();
    const auto indexes = {h_->name_index, h_->id_index, h_->place_index};
    bool agree = true;
    for (auto* cf : indexes) {
      if (s.ok()) s = CheckIndex(cf);
      agree = agree && expected_[cf] == held_[cf];
    }
    if (s.ok() && !agree) s = LookUpChildren();
    for (auto* cf : indexes) {
      if (agree) found_[cf] = expected_[cf].count;
      if (s.ok() && named_live_[cf] > found_[cf]) s = FindEntriesNotFromRecords(cf);
    }
    if (s.ok()) s = LoadMerged();
    if (s.ok()) s = CheckSourceLinks();
    return s;
  }

 private:
  void Problem(ProblemKind kind, rocksdb::ColumnFamilyHandle* cf, ChildId child,
               std::string detail) {
    ++report_->problem_count;
    if (report_->problems.size() < ConsistencyReport::kMaxProblems) {
      report_->problems.push_back({kind, cf->GetName(), child, std::move(detail)});
    }
  }

  // The child's record and hidden fields; false (a problem noted) when they do not read.
  bool Decode(ChildId id, std::string_view record_bytes, std::string_view sealed, ChildRecord* r,
              HiddenFields* hidden) {
    auto record = DecodeChildRecord(record_bytes);
    auto plain = crypto_.Open(sealed, HiddenAssociatedData(id));
    Result<HiddenFields> fields =
        plain.ok() ? DecodeHiddenFields(*plain) : Result<HiddenFields>(plain.status());
    if (!record.ok() || !fields.ok() || record->id != id) {
      Problem(ProblemKind::kUnreadable, h_->children, id, "record or hidden fields do not read");
      return false;
    }
    *r = std::move(*record);
    *hidden = std::move(*fields);
    return true;
  }

  std::vector<Collected> Expected(const ChildRecord& r, const HiddenFields& hidden) const {
    return Expected(r, hidden, MakeIndexImage(policy_, crypto_, r, hidden));
  }
  std::vector<Collected> Expected(const ChildRecord& r, const HiddenFields& hidden,
                                  const IndexImage& image) const {
    std::vector<Collected> out;
    Collector sink{&out};
    PutIndexEntries(h_, crypto_, image, r, hidden, &sink);
    return out;
  }

  // The first walk: the children's states are tabled, their problems noted, and their
  // expected entries digested.
  Status CheckChildren() {
    std::unique_ptr<rocksdb::Iterator> rec(h_->db->NewIterator(ro_, h_->children));
    std::unique_ptr<rocksdb::Iterator> hid(h_->db->NewIterator(ro_, h_->hidden));
    rec->SeekToFirst();
    hid->SeekToFirst();
    while (rec->Valid() || hid->Valid()) {
      const int order = !rec->Valid() ? 1 : !hid->Valid() ? -1 : rec->key().compare(hid->key());
      if (order > 0) {
        auto id = keys::DecodeChildKey(View(hid->key()));
        Problem(ProblemKind::kHiddenWithoutRecord, h_->hidden, id.value_or(0), "");
        hid->Next();
        continue;
      }
      auto id = keys::DecodeChildKey(View(rec->key())).value_or(0);
      ++report_->children;
      if (order < 0) {
        Problem(ProblemKind::kRecordWithoutHidden, h_->children, id, "");
        table_.ids.push_back(id);
        table_.flags.push_back(kExists);
        rec->Next();
        continue;
      }
      ChildRecord r;
      HiddenFields hidden;
      uint8_t flags = kExists;
      if (Decode(id, View(rec->value()), View(hid->value()), &r, &hidden)) {
        if (r.lifecycle.archived()) flags |= kArchived;
        if (r.shield.shielded) flags |= kShielded;
        Digest(Expected(r, hidden));
      }
      table_.ids.push_back(id);
      table_.flags.push_back(flags);
      rec->Next();
      hid->Next();
    }
    Status s = FromRocks(rec->status(), "reading children");
    return s.ok() ? FromRocks(hid->status(), "reading hidden fields") : s;
  }

  // Adds a child's expected entries to expected_. A write that puts one key twice leaves
  // the last value, so only that one is counted.
  void Digest(std::vector<Collected> expected) {
    std::stable_sort(expected.begin(), expected.end(), [](const Collected& a, const Collected& b) {
      return a.cf != b.cf ? a.cf < b.cf : a.key < b.key;
    });
    for (size_t i = 0; i < expected.size(); ++i) {
      const bool last = i + 1 == expected.size() || expected[i + 1].cf != expected[i].cf ||
                        expected[i + 1].key != expected[i].key;
      if (last) expected_[expected[i].cf].Add(expected[i].key, expected[i].value);
    }
  }

  // The second walk, only after the digests disagreed: each child's expected entries are
  // looked up (LookUpExpected); nothing the first walk noted is noted again.
  Status LookUpChildren() {
    std::unique_ptr<rocksdb::Iterator> rec(h_->db->NewIterator(ro_, h_->children));
    for (rec->SeekToFirst(); rec->Valid(); rec->Next()) {
      auto id = keys::DecodeChildKey(View(rec->key()));
      std::string sealed;
      ChildRecord r;
      HiddenFields hidden;
      if (!id || !h_->db->Get(ro_, h_->hidden, rec->key(), &sealed).ok() ||
          !DecodeQuietly(*id, View(rec->value()), sealed, &r, &hidden)) {
        continue;
      }
      Status s = LookUpExpected(*id, Expected(r, hidden));
      if (!s.ok()) return s;
    }
    return FromRocks(rec->status(), "reading children");
  }

  Status LookUpExpected(ChildId id, const std::vector<Collected>& expected) {
    std::vector<rocksdb::ColumnFamilyHandle*> cfs;
    std::vector<rocksdb::Slice> slices;
    for (const auto& e : expected) {
      cfs.push_back(e.cf);
      slices.emplace_back(e.key);
    }
    std::vector<std::string> values;
    auto statuses = h_->db->MultiGet(ro_, cfs, slices, &values);
    report_->looked_up += expected.size();
    for (size_t i = 0; i < expected.size(); ++i) {
      const std::string kind = KindOf(expected[i].cf, expected[i].key);
      if (statuses[i].IsNotFound()) {
        Problem(ProblemKind::kPostingMissing, expected[i].cf, id, kind);
      } else if (!statuses[i].ok()) {
        return FromRocks(statuses[i], "reading postings");
      } else if (values[i] != expected[i].value && !InEarlierForm(values[i], expected[i])) {
        Problem(ProblemKind::kPostingNotFromRecord, expected[i].cf, id, kind + ", another value");
      } else {
        ++found_[expected[i].cf];
      }
    }
    return Status::OK();
  }

  // Whether `stored` is the expected posting in a form an earlier build wrote: without the
  // district digest a shielded child's postings end with (keys::kPostingDistrict; an
  // upgrade that does not open the hidden fields writes them so too), and with its
  // features as an earlier build wrote them (IndexPolicy::IsEarlierForm). A digest other
  // than the expected one is no earlier form: it would tell matching the child lives
  // elsewhere.
  bool InEarlierForm(std::string_view stored, const Collected& expected) const {
    if (expected.cf == h_->id_index || expected.value.size() < 2 || stored.size() < 2) return false;
    std::string_view want = expected.value;
    std::string without_district;
    if (static_cast<uint8_t>(want[0]) & keys::kPostingDistrict) {
      without_district.assign(
          1, static_cast<char>(static_cast<uint8_t>(want[0]) & ~keys::kPostingDistrict));
      without_district.append(want.substr(1, want.size() - 2));
      if (stored == without_district) return true;
      want = without_district;
    }
    if (stored[0] != want[0] || want.size() < 2) return false;
    return policy_.IsEarlierForm(stored.substr(1), want.substr(1));
  }

  // "posting kind P" for a name posting; "identifier kind N"; "place".
  std::string KindOf(rocksdb::ColumnFamilyHandle* cf, std::string_view key) const {
    if (cf == h_->name_index) return "posting kind " + std::string(1, key[0]);
    if (cf == h_->id_index) return "identifier kind " + std::string(1, key[0]);
    return "place";
  }

  // The problem an entry is by the children's states alone, if any.
  std::optional<ProblemKind> Classify(rocksdb::ColumnFamilyHandle* cf, std::string_view key,
                                      std::string_view value, ChildId id) const {
    const uint8_t flags = table_.Of(id);
    const bool shielded_phonetic =
        cf == h_->name_index && key[0] == static_cast<char>(TermKind::kShieldedPhonetic);
    if (!(flags & kExists)) return ProblemKind::kPostingForMissingChild;
    if (cf == h_->place_index &&
        ((flags & kShielded) || (!value.empty() && (value[0] & keys::kPostingShielded)))) {
      return ProblemKind::kShieldedChildInPlaceIndex;
    }
    if ((flags & kArchived) && !shielded_phonetic) return ProblemKind::kArchivedChildSearchable;
    return std::nullopt;
  }

  Status CheckIndex(rocksdb::ColumnFamilyHandle* cf) {
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro_, cf));
    uint64_t& named_live = named_live_[cf];
    IndexDigest& held = held_[cf];
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->postings;
      std::string_view key = View(it->key()), value = View(it->value());
      held.Add(key, value);
      if (key.size() < 9) {
        Problem(ProblemKind::kPostingForMissingChild, cf, 0, "malformed key");
        continue;
      }
      const ChildId id = DecodeBigEndian64(key.data() + key.size() - 8);
      if (auto problem = Classify(cf, key, value, id)) {
        Problem(*problem, cf, id, KindOf(cf, key));
      } else {
        ++named_live;
      }
    }
    return FromRocks(it->status(), "reading " + cf->GetName());
  }

  // Pass 3, only when an index holds more entries for existing children than their records
  // yield: recompute per entry to name them. nullopt in the cache: the child did not read
  // (pass 1 named it).
  Status FindEntriesNotFromRecords(rocksdb::ColumnFamilyHandle* cf) {
    using Entries = std::set<std::pair<std::string, std::string>>;
    std::unordered_map<ChildId, std::optional<Entries>> cache;
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro_, cf));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      std::string_view key = View(it->key()), value = View(it->value());
      if (key.size() < 9) continue;
      const ChildId id = DecodeBigEndian64(key.data() + key.size() - 8);
      if (Classify(cf, key, value, id)) continue;  // named in pass 2
      if (cache.size() > 100000) cache.clear();
      auto [slot, fresh] = cache.try_emplace(id);
      if (fresh) {
        std::string rec, sealed;
        auto s1 = h_->db->Get(ro_, h_->children, keys::ChildKey(id), &rec);
        auto s2 = h_->db->Get(ro_, h_->hidden, keys::ChildKey(id), &sealed);
        ChildRecord r;
        HiddenFields hidden;
        if (s1.ok() && s2.ok() && DecodeQuietly(id, rec, sealed, &r, &hidden)) {
          slot->second.emplace();
          const IndexImage image = MakeIndexImage(policy_, crypto_, r, hidden);
          for (auto& e : Expected(r, hidden, image)) {
            if (e.cf == cf) slot->second->emplace(std::move(e.key), std::move(e.value));
          }
          if (cf == h_->name_index) AddUnfinishedUpgrade(r, image, &*slot->second);
        }
      }
      if (!slot->second) continue;
      // An expected key with another value was named in pass 1.
      if (!HasKey(*slot->second, key))
        Problem(ProblemKind::kPostingNotFromRecord, cf, id, KindOf(cf, key));
    }
    return FromRocks(it->status(), "reading " + cf->GetName());
  }

  // In a database without birthday postings (keys::kMetaBirthday), or without birth day
  // and name pair postings (keys::kMetaDayPostings), a live child's own ones are what an
  // interrupted `upgrade` wrote before it could write the marker: not a fault. Matching
  // does not read them until the upgrade is run again and finishes, and writes delete them
  // with the child's other postings (ChildStore::DeletePostings). `image` is the record's
  // (MakeIndexImage).
  void AddUnfinishedUpgrade(const ChildRecord& r, const IndexImage& image,
                            std::set<std::pair<std::string, std::string>>* set) const {
    if (h_->day_postings || r.lifecycle.archived()) return;
    std::string key;
    for (const auto& t : image.terms) {
      const bool unfinished = t.kind == TermKind::kBirthDay || t.kind == TermKind::kNamePair ||
                              (t.kind == TermKind::kBirthday && !h_->birthday_postings);
      if (!unfinished) continue;
      keys::NameTermKeyInto(&key, t.kind, t.token, r.date_of_birth, r.id);
      if (!key.empty()) set->emplace(key, image.posting_value);
    }
  }

  static bool HasKey(const std::set<std::pair<std::string, std::string>>& set,
                     std::string_view key) {
    auto it = set.lower_bound({std::string(key), std::string()});
    return it != set.end() && it->first == key;  // another value: pass 1 named it already
  }

  bool DecodeQuietly(ChildId id, std::string_view rec, std::string_view sealed, ChildRecord* r,
                     HiddenFields* hidden) const {
    auto record = DecodeChildRecord(rec);
    auto plain = crypto_.Open(sealed, HiddenAssociatedData(id));
    if (!record.ok() || !plain.ok()) return false;
    auto fields = DecodeHiddenFields(*plain);
    if (!fields.ok()) return false;
    *r = std::move(*record);
    *hidden = std::move(*fields);
    return true;
  }

  Status LoadMerged() {
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro_, h_->merged));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->merge_records;
      auto from = keys::DecodeChildKey(View(it->key()));
      if (!from || it->value().size() != 8) {
        Problem(ProblemKind::kMergeToMissingChild, h_->merged, from.value_or(0), "malformed");
        continue;
      }
      merged_[*from] = DecodeBigEndian64(it->value().data());
    }
    Status s = FromRocks(it->status(), "reading merge records");
    if (!s.ok()) return s;
    for (const auto& [from, into] : merged_) {
      if (!(table_.Of(Resolve(into)) & kExists)) {
        Problem(ProblemKind::kMergeToMissingChild, h_->merged, from,
                "merged into " + std::to_string(into));
      }
    }
    return Status::OK();
  }

  ChildId Resolve(ChildId id) const {
    for (int hops = 0; hops < 64; ++hops) {
      auto it = merged_.find(id);
      if (it == merged_.end()) return id;
      id = it->second;
    }
    return 0;
  }

  Status CheckSourceLinks() {
    std::unique_ptr<rocksdb::Iterator> it(h_->db->NewIterator(ro_, h_->sources));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
      ++report_->source_links;
      std::string_view key = View(it->key()), value = View(it->value());
      std::string source;
      if (!key.empty() && key.size() > static_cast<uint8_t>(key[0])) {
        source = std::string(key.substr(1, static_cast<uint8_t>(key[0])));
      }
      const ChildId id = value.size() >= 8 ? DecodeBigEndian64(value.data()) : 0;
      if (!(table_.Of(Resolve(id)) & kExists)) {
        Problem(ProblemKind::kSourceLinkToMissingChild, h_->sources, id, "source " + source);
      }
    }
    return FromRocks(it->status(), "reading source links");
  }

  ChildStore::Handles* h_;
  const Crypto& crypto_;
  const IndexPolicy& policy_;
  ConsistencyReport* report_;
  const rocksdb::Snapshot* snapshot_;
  rocksdb::ReadOptions ro_;
  ChildTable table_;
  std::map<rocksdb::ColumnFamilyHandle*, IndexDigest> expected_, held_;  // per index
  std::map<rocksdb::ColumnFamilyHandle*, uint64_t> named_live_;          // entries Classify accepts
  std::map<rocksdb::ColumnFamilyHandle*, uint64_t> found_;  // expected entries present, per index
  std::map<ChildId, ChildId> merged_;
};

}  // namespace

const char* ProblemKindName(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kPostingForMissingChild:
      return "posting_for_missing_child";
    case ProblemKind::kPostingNotFromRecord:
      return "posting_not_from_record";
    case ProblemKind::kPostingMissing:
      return "posting_missing";
    case ProblemKind::kShieldedChildInPlaceIndex:
      return "shielded_child_in_place_index";
    case ProblemKind::kArchivedChildSearchable:
      return "archived_child_searchable";
    case ProblemKind::kRecordWithoutHidden:
      return "record_without_hidden_fields";
    case ProblemKind::kHiddenWithoutRecord:
      return "hidden_fields_without_record";
    case ProblemKind::kSourceLinkToMissingChild:
      return "source_link_to_missing_child";
    case ProblemKind::kMergeToMissingChild:
      return "merge_to_missing_child";
    case ProblemKind::kUnreadable:
      return "unreadable_child";
  }
  return "unknown";
}

Status ChildStore::CheckConsistency(ConsistencyReport* report) const {
  Checker checker(h_.get(), *crypto_, *options_.policy, report);
  return checker.Run();
}

}  // namespace cp
