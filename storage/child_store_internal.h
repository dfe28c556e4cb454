// Internals shared by the child_store_*.cc files. Not part of the storage interface.
#pragma once

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/statistics.h>

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/child_store.h"
#include "storage/crypto.h"
#include "storage/engine_listener.h"
#include "storage/index_policy.h"
#include "storage/keys.h"

namespace cp {

struct ChildStore::Handles {
  // The encrypted file system every file goes through (null: a database without file
  // encryption, Env::Default). Outlives `db`: ~Handles deletes db first.
  std::unique_ptr<rocksdb::Env> env;
  std::shared_ptr<rocksdb::Logger> info_log;  // LOG through `env`; null without encryption
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> all;  // every family opened, for cleanup
  rocksdb::ColumnFamilyHandle* meta = nullptr;
  rocksdb::ColumnFamilyHandle* children = nullptr;
  rocksdb::ColumnFamilyHandle* hidden = nullptr;
  rocksdb::ColumnFamilyHandle* sources = nullptr;
  rocksdb::ColumnFamilyHandle* name_index = nullptr;
  rocksdb::ColumnFamilyHandle* id_index = nullptr;
  rocksdb::ColumnFamilyHandle* place_index = nullptr;
  rocksdb::ColumnFamilyHandle* feeds = nullptr;   // feed state per source
  rocksdb::ColumnFamilyHandle* review = nullptr;  // review queue and reviewers' decisions
  rocksdb::ColumnFamilyHandle* merged = nullptr;  // merged child id -> the id it lives on as
  rocksdb::ColumnFamilyHandle* accounts = nullptr;
  rocksdb::ColumnFamilyHandle* audit = nullptr;
  rocksdb::ColumnFamilyHandle* audit_index = nullptr;
  std::shared_ptr<rocksdb::Cache> cache;
  std::shared_ptr<rocksdb::Statistics> statistics;  // null unless Options::statistics
  std::shared_ptr<EngineListener> listener;         // counts (and reports) background work
  // Source rows are fingerprinted with Crypto::RowFingerprint (true) or, in a database
  // created before it, with the first 8 bytes of Crypto::KeyedHash (keys::kMetaRowFingerprint).
  bool row_fingerprint_xxh3 = false;
  // Place-index keys hash the postcode with Crypto::PlaceHash (true) or, in a database
  // created before it, Crypto::KeyedHash (keys::kMetaPlaceHash).
  bool place_hash_xxh3 = false;
  // Children with a date of birth have postings under their birth month and day
  // (keys::kMetaBirthday): TermKind::kBirthday ones, or kBirthDay ones where day_postings.
  // Atomic, as day_postings: the only flags that change while the store is open
  // (AddDayPostings sets both under the write lock; matching reads them without).
  std::atomic<bool> birthday_postings{false};
  // They are TermKind::kBirthDay postings, with kNamePair postings beside them, in place of
  // kBirthday ones (keys::kMetaDayPostings).
  std::atomic<bool> day_postings{false};

  ~Handles();
};

// The bytes of a RocksDB slice, as a view.
inline std::string_view View(const rocksdb::Slice& s) { return std::string_view(s.data(), s.size()); }

// One key-value pair bound for a column family.
struct Entry {
  uint32_t cf_id;
  rocksdb::ColumnFamilyHandle* cf;
  std::string key;
  std::string value;
};

// Everything derived from a record that lands in the indexes.
struct IndexImage {
  std::vector<IndexTerm> terms;
  std::string posting_value;  // flags + features
  std::string flags_only;     // flags, for postings without features
};

// One byte of a keyed hash of a postcode's district (its outward code), for a shielded
// child's postings (keys::kPostingDistrict): matching learns from it that a shielded
// candidate lives in another district than the record, and need not open its hidden
// fields to rule out their lifting it to a match. Keyed, so that the files alone do not
// confirm a guessed district; one byte, so that even with the key a digest names a
// district only among the hundreds sharing it. nullopt for a postcode without a district.
std::optional<uint8_t> DistrictDigest(const Crypto& crypto, std::string_view postcode);

// The digest `r`'s postings carry: its district's when it is shielded, else none.
inline std::optional<uint8_t> ShieldedDistrict(const Crypto& crypto, const ChildRecord& r,
                                               const HiddenFields& hidden) {
  if (!r.shield.shielded || hidden.postcode.empty()) return std::nullopt;
  return DistrictDigest(crypto, hidden.postcode);
}

// `district`: the digest the feature-bearing postings end with (ShieldedDistrict); none
// where the caller has not the hidden fields (an upgrade writing postings of children it
// does not open: the earlier form, which `check` accepts and matching reads as saying
// nothing). `with_terms` false: the posting values only, for a write that files no name
// posting (an update whose name postings stay as they are).
IndexImage MakeIndexImage(const IndexPolicy& policy, const ChildRecord& record,
                          std::optional<uint8_t> district, bool with_terms = true);
// The image every write of a child with these hidden fields files: its district digest
// when it is shielded (ShieldedDistrict).
inline IndexImage MakeIndexImage(const IndexPolicy& policy, const Crypto& crypto,
                                 const ChildRecord& record, const HiddenFields& hidden,
                                 bool with_terms = true) {
  return MakeIndexImage(policy, record, ShieldedDistrict(crypto, record, hidden), with_terms);
}

// The keyed fingerprint of a source's raw record ("has it changed?"), by the database's
// scheme (Handles::row_fingerprint_xxh3).
uint64_t SourceFingerprint(const ChildStore::Handles& h, const Crypto& crypto, std::string_view payload);

// The 16 bytes a canonical postcode's place-index keys start with, by the database's
// scheme (Handles::place_hash_xxh3).
inline std::string PlaceHash(const ChildStore::Handles& h, const Crypto& crypto, std::string_view postcode) {
  return h.place_hash_xxh3 ? crypto.PlaceHash(postcode) : crypto.KeyedHash(postcode);
}

// Puts every index entry of a child. A shielded child gets no place posting: that is
// the rule that keeps a postcode search from confirming where a shielded child lives. It
// gets its phonetic codes again under kShieldedPhonetic, year 0: feed matching scans those
// whatever a record's date of birth.
// An archived child is in no index a search reads: it keeps only those shielded phonetic
// postings, when shielded, so that a feed record of it still links to it or waits in
// review rather than making an unshielded child (docs/operations.md, "Record lifecycle").
// `Sink` has Put(cf, key, value): a rocksdb::WriteBatch or an entry list.
// A shielded child's birth posting (keys::kShieldedBirthDayToken); empty for a child
// without a date of birth.
inline std::string ShieldedBirthPostingKey(const ChildRecord& r) {
  std::string key;
  keys::BirthDayPostingKeyInto(&key, TermKind::kShieldedPhonetic, keys::kShieldedBirthDayToken,
                               r.date_of_birth, r.id);
  return key;
}
// The same posting in the form before 2026-11-30 (keys::kShieldedBirthToken).
inline std::string EarlierShieldedBirthPostingKey(const ChildRecord& r) {
  const Date& d = r.date_of_birth;
  if (d.empty()) return "";
  return keys::NamePostingKey(TermKind::kShieldedPhonetic, keys::kShieldedBirthToken,
                              static_cast<uint16_t>(d.year), d.month, r.id);
}

// Deletes the postings only a shielded child has (PutIndexEntries writes them): its
// phonetic terms (`terms`, the index policy's NameTerms of `r`) year-free, and its birth
// posting. Lifting a shield and removing a shielded child's postings both use it.
// `batch`: a rocksdb::WriteBatch, or anything with its Delete(family, key).
template <typename Batch>
void DeleteShieldedPostings(const ChildStore::Handles& h, const ChildRecord& r,
                            const std::vector<IndexTerm>& terms, Batch* batch) {
  for (const auto& t : terms) {
    if (t.kind != TermKind::kPhonetic) continue;
    batch->Delete(h.name_index, keys::NamePostingKey(TermKind::kShieldedPhonetic, t.token, 0, 0, r.id));
  }
  const std::string birth = ShieldedBirthPostingKey(r);
  if (!birth.empty()) batch->Delete(h.name_index, birth);
}

// The key `term`'s posting of `r` is filed under in this database, in `*key`; false when
// it files none: a birthday posting (kBirthday) in a database without them or with the
// later kinds in their place, a kBirthDay or kNamePair posting in a database without
// those, or one of these of a child without a date of birth. Writing a child's postings
// asks it.
inline bool NameTermPostingKey(const ChildStore::Handles& h, const IndexTerm& term, const ChildRecord& r,
                               std::string* key) {
  if (term.kind == TermKind::kBirthday && (!h.birthday_postings || h.day_postings)) return false;
  if ((term.kind == TermKind::kBirthDay || term.kind == TermKind::kNamePair) && !h.day_postings)
    return false;
  if (term.kind == TermKind::kNamePair && r.date_of_birth.empty()) return false;
  keys::NameTermKeyInto(key, term.kind, term.token, r.date_of_birth, r.id);
  return !key->empty();
}

template <typename Sink>
void PutIndexEntries(ChildStore::Handles* h, const Crypto& crypto, const IndexImage& image,
                     const ChildRecord& r, const HiddenFields& hidden, Sink* b) {
  const bool archived = r.lifecycle.archived();
  std::string key;  // reused: both sinks copy what they are given
  for (const auto& term : image.terms) {
    const std::string& value = CarriesFeatures(term.kind) ? image.posting_value : image.flags_only;
    if (!archived && NameTermPostingKey(*h, term, r, &key)) b->Put(h->name_index, key, value);
    if (r.shield.shielded && term.kind == TermKind::kPhonetic) {
      keys::NamePostingKeyInto(&key, TermKind::kShieldedPhonetic, term.token, 0, 0, r.id);
      b->Put(h->name_index, key, image.posting_value);
    }
  }
  if (r.shield.shielded) {
    const std::string birth = ShieldedBirthPostingKey(r);
    if (!birth.empty()) b->Put(h->name_index, birth, image.posting_value);
  }
  if (archived) return;
  if (!r.nhs_number.empty()) b->Put(h->id_index, keys::IdKey(keys::IdKind::kNhsNumber, r.nhs_number, r.id), "");
  if (!r.pupil_number.empty()) {
    b->Put(h->id_index, keys::IdKey(keys::IdKind::kPupilNumber, r.pupil_number, r.id), "");
  }
  if (!r.shield.shielded && !hidden.postcode.empty()) {
    b->Put(h->place_index, keys::PlaceKey(PlaceHash(*h, crypto, hidden.postcode), r.id), image.posting_value);
  }
}

// Where AppendNewChildEntries puts a child's entries; Put copies what it is given.
class EntryWriter {
 public:
  virtual ~EntryWriter() = default;
  virtual void Put(rocksdb::ColumnFamilyHandle* cf, std::string_view key, std::string_view value) = 0;
};

// An EntryWriter that keeps the entries in a list.
class EntryList : public EntryWriter {
 public:
  explicit EntryList(std::vector<Entry>* out) : out_(out) {}
  void Put(rocksdb::ColumnFamilyHandle* cf, std::string_view key, std::string_view value) override {
    out_->push_back({cf->GetID(), cf, std::string(key), std::string(value)});
  }

 private:
  std::vector<Entry>* out_;
};

// Writes every entry a new child writes: record, sealed hidden fields, index postings
// and the source link. `child.record.id` must be assigned and `child.record.sources`
// must hold `child.source`. InvalidArgument for an index token outside 1..255 bytes,
// before anything is written.
Status AppendNewChildEntries(ChildStore::Handles* h, const Crypto& crypto,
                             const IndexPolicy& policy, const NewChild& child, EntryWriter* out);

// Orders entries by column family, then key.
void SortEntries(std::vector<Entry>* entries);

// Converts a RocksDB status, naming what was being done.
Status FromRocks(const rocksdb::Status& s, std::string_view doing);

// Associated data binding sealed hidden fields to their child.
std::string HiddenAssociatedData(ChildId id);

}  // namespace cp
