// The contract between storage and the index layer.
//
// Storage owns every index entry: it writes, rewrites and deletes them in the same
// WriteBatch as the record, and it alone decides which entries a shielded child may have.
// What a child is findable *by* is the index layer's decision, handed to storage as an
// IndexPolicy when the store is opened. This keeps the layering one way (index depends
// on storage) while storage still enforces the shielding rules on every write.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "storage/record.h"

namespace cp {

// Kinds of name posting. The byte value is part of the key format (docs/key_format.md).
enum class TermKind : uint8_t {
  kPhonetic = 'P',  // Double Metaphone code of a name part; posting carries features
  kNickname = 'N',  // nickname group of a given name; posting carries features
  kTrigram = 'T',   // character trigram of a name part; posting carries only flags
  // A shielded child's phonetic codes again, filed under birth year 0 so that one scan
  // covers every year: feed matching must find every shielded child a record could
  // plausibly be, whatever its date of birth says. Written by storage, never by a policy.
  kShieldedPhonetic = 'S',
  // A given, family or former family name part's Double Metaphone code, filed under the
  // child's birth month and day in place of the year (keys::NameTermKeyInto): one scan
  // finds every child with a record's family-name code born on its day of the year,
  // whatever the year, where feed matching would otherwise read the code's month in each
  // year one digit from the record's (given names too: a record may have the names
  // swapped). Written only for children with a date of birth, in databases that have them
  // (keys::kMetaBirthday); searches never read them.
  kBirthday = 'D',
  // Every name part's Double Metaphone code (primary and alternate, middle names too: as
  // kPhonetic), filed under the child's birth month and day, then its birth year
  // (keys::NameTermKeyInto): one list per code and day of the year, in year order. Feed
  // matching reads a list whole for the years one digit from a record's (as kBirthday),
  // and seeks to the record's own year in the lists of each other date its date plausibly
  // is, where it read the code's whole birth year. Written only for children with a date
  // of birth, in databases that have them (keys::kMetaDayPostings), in place of kBirthday;
  // searches never read them.
  kBirthDay = 'B',
  // A pair of primary codes, one of a given or middle name part and one of a family or
  // former family name part, in byte order joined by a space ("JN SM0" for John Smith, and
  // for Smith John): every child whose given and family names both agree with a record's
  // by a code, either way round, born in its year, in one short scan (where matching read
  // the family code's whole birth year for them). Filed like kPhonetic; written for
  // children with a date of birth in databases with kBirthDay postings.
  kNamePair = 'Q',
};

inline bool CarriesFeatures(TermKind kind) { return kind != TermKind::kTrigram; }

struct IndexTerm {
  TermKind kind;
  std::string token;  // 1..255 bytes
  friend bool operator==(const IndexTerm&, const IndexTerm&) = default;
};

class IndexPolicy {
 public:
  virtual ~IndexPolicy() = default;

  // The distinct terms under which `record` is findable by name. Must be deterministic
  // in the record's visible fields: storage recomputes them from the stored record to
  // delete old postings.
  virtual void NameTerms(const ChildRecord& record, std::vector<IndexTerm>* terms) const = 0;

  // The compact scoring features carried in feature-bearing name postings and in place
  // postings, so that a search can score candidates from the scan alone. Opaque to
  // storage. Deterministic in the record's visible fields.
  virtual void EncodeFeatures(const ChildRecord& record, std::string* out) const = 0;

  // Whether `stored` are features an earlier build wrote where this one writes `current`,
  // in a format this build still reads: `check` accepts such a posting as the record's.
  virtual bool IsEarlierForm(std::string_view stored, std::string_view current) const {
    (void)stored;
    (void)current;
    return false;
  }
};

}  // namespace cp
