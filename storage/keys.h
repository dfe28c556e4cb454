// Key encodings of every column family (docs/key_format.md says the same in prose).
// Integers are big-endian so that keys sort numerically.
#pragma once

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/index_policy.h"
#include "storage/record.h"

namespace cp::keys {

// children, hidden: child id (8).
std::string ChildKey(ChildId id);
std::optional<ChildId> DecodeChildKey(std::string_view key);

// name_index: kind (1) | token length (1) | token | birth year (2) | birth month (1) |
// child id (8). The prefix through the birth year is the bloom-filter prefix: one
// posting list is one (kind, token, birth year), e.g. every "SM0" born in 2015.
std::string NamePostingPrefix(TermKind kind, std::string_view token, uint16_t year);
std::string NamePostingKey(TermKind kind, std::string_view token, uint16_t year, uint8_t month,
                           ChildId id);
// The same key in `*out`, whose buffer is reused: a child's twenty-odd postings need no
// allocation each.
void NamePostingKeyInto(std::string* out, TermKind kind, std::string_view token, uint16_t year,
                        uint8_t month, ChildId id);
// The key of `kind`'s posting of `token` for a child born on `dob`: the year and month of
// the date, except for TermKind::kBirthday, whose two year bytes are the month and the day
// and whose month byte is 0. Empty for a kBirthday posting of a child without a date.
// TermKind::kBirthDay's two year bytes are the month and the day too, and its month byte is
// BirthYearByte of the year. Empty for either kind without a date.
void NameTermKeyInto(std::string* out, TermKind kind, std::string_view token, const Date& dob, ChildId id);
// The two "year" bytes a kBirthday or kBirthDay posting list is filed under.
inline uint16_t MonthDaySlot(uint8_t month, uint8_t day) { return static_cast<uint16_t>(month << 8 | day); }
// The byte a kBirthDay posting files its birth year under: years from 1900, those before
// and after the byte's range sharing its ends (readers compare the posting's own date).
inline uint8_t BirthYearByte(int year) {
  return static_cast<uint8_t>(std::clamp(year - 1900, 0, 255));
}
// The key of a posting filed by birth day, as kBirthDay postings and a shielded child's
// birth posting (kShieldedBirthDayToken) are: MonthDaySlot of `dob`, then BirthYearByte of
// its year. Empty without a date.
void BirthDayPostingKeyInto(std::string* out, TermKind kind, std::string_view token,
                            const Date& dob, ChildId id);
// The token of a kNamePair posting: the two codes in byte order, joined by a space.
inline std::string NamePairToken(std::string_view a, std::string_view b) {
  if (b < a) std::swap(a, b);
  std::string token;
  token.reserve(a.size() + 1 + b.size());
  token.append(a);
  token.push_back(' ');
  token.append(b);
  return token;
}
// Length of the bloom prefix of a name posting key, or 0 when the key is malformed.
size_t NamePostingPrefixLength(std::string_view key);
struct NamePostingParts {
  uint16_t year;
  uint8_t month;
  ChildId id;
};
// Decodes the tail of a key that starts with a known prefix.
NamePostingParts DecodeNamePostingTail(std::string_view key);

// id_index: identifier kind (1: 'N' NHS number, 'U' pupil number) | value | child id (8).
enum class IdKind : uint8_t { kNhsNumber = 'N', kPupilNumber = 'U' };
std::string IdPrefix(IdKind kind, std::string_view value);
std::string IdKey(IdKind kind, std::string_view value, ChildId id);

// place_index: keyed hash of the canonical postcode (16) | child id (8). Postcodes never
// appear in clear in a key, so neither SST files nor the MANIFEST (which records each
// file's first and last key) can reveal one.
constexpr size_t kPlaceHashBytes = 16;
std::string PlaceKey(std::string_view postcode_hash, ChildId id);

// sources: source length (1) | source | source key.
std::string SourceKey(std::string_view source, std::string_view key);

// feeds: the source name.
// review: 'q' | review id (8)                       -> item
//         's' | SourceKey(source, key)              -> review id (8)
//         'd' | SourceKey(source, key) | child (8)  -> 1 (same child) or 0 (not)
std::string ReviewItemKey(uint64_t id);
std::string ReviewBySourceKey(std::string_view source, std::string_view key);
std::string DecisionPrefix(std::string_view source, std::string_view key);
std::string DecisionKey(std::string_view source, std::string_view key, ChildId child);

// meta: plain names.
inline constexpr std::string_view kMetaSchemaVersion = "schema_version";
inline constexpr std::string_view kMetaNextChildId = "next_child_id";
inline constexpr std::string_view kMetaKeyFingerprint = "key_fingerprint";
inline constexpr std::string_view kMetaNextSourceSeq = "next_source_seq";
inline constexpr std::string_view kMetaNextReviewId = "next_review_id";
// How source rows are fingerprinted (SourceFingerprint): kRowFingerprintXxh3Aes in every
// database created since 2026-11-29; absent in older ones, which keep HMAC-SHA256 so that
// the rows they hold still compare equal to the same rows sent again.
inline constexpr std::string_view kMetaRowFingerprint = "row_fingerprint";
inline constexpr std::string_view kRowFingerprintXxh3Aes = "xxh3-aes";
// How place-index keys hash the postcode (PlaceHash): kPlaceHashXxh3Aes in every database
// created since 2026-11-29; absent in older ones, whose place keys are HMAC-SHA256.
inline constexpr std::string_view kMetaPlaceHash = "place_hash";
inline constexpr std::string_view kPlaceHashXxh3Aes = "xxh3-aes";
// Present (value "1") once every shielded child has its birth posting (kShieldedBirthToken):
// written when a database is created; an older database gets the postings, and this, when
// it is first opened by a build that writes them (ChildStore::AddShieldedBirthPostings).
inline constexpr std::string_view kMetaShieldedBirth = "shielded_birth_postings";
// Present (value "1") once every shielded child's birth posting is in its later form
// (kShieldedBirthDayToken, since 2026-11-30): written when a database is created; an older
// database's postings are moved, and this written, when a build that files them so first
// opens it (ChildStore::AddShieldedBirthPostings).
inline constexpr std::string_view kMetaShieldedBirthDays = "shielded_birth_days";
// Present (value "1") in a database that files TermKind::kBirthday postings: written
// when a database is created. An older database has none, and feed matching then reads a
// family code's month in each year one digit away instead (ChildStore::HasBirthdayPostings).
inline constexpr std::string_view kMetaBirthday = "birthday_postings";
// Present (value "1") in a database that files TermKind::kBirthDay and kNamePair postings
// in place of kBirthday ones: written when a database is created (since 2026-11-30), and
// by `upgrade` (ChildStore::AddDayPostings), which also deletes the kBirthday postings.
inline constexpr std::string_view kMetaDayPostings = "day_postings";
// The token of a shielded child's birth posting: kind kShieldedPhonetic (a phonetic code is
// never "@day"), filed under its birth month and day in the two year bytes and
// BirthYearByte of its year in the month byte, as a kBirthDay posting is: feed matching
// finds every shielded child whose date of birth plausibly is a record's, whatever the
// names say, by one seek for each date that could be and one list for the years one digit
// away.
inline constexpr std::string_view kShieldedBirthDayToken = "@day";
// The token of the form before 2026-11-30, filed under the birth year and month: matching
// read the record's birth year whole (a few hundred shielded children at 1M with one in a
// hundred shielded). Moved to the later form when a database is opened.
inline constexpr std::string_view kShieldedBirthToken = "@dob";
// Meta key of a named setting: "setting/" + name.
inline std::string SettingKey(std::string_view name) { return "setting/" + std::string(name); }

// Posting values start with one flags byte; feature-bearing postings follow it with the
// index policy's features.
inline constexpr uint8_t kPostingShielded = 0x01;
// A feature-bearing posting of a shielded child whose postcode has a district: its last
// byte, after the features, is the district's keyed digest (DistrictDigest in
// storage/child_store_internal.h). Written since 2026-11-30; a posting without it says
// nothing of where the child lives.
inline constexpr uint8_t kPostingDistrict = 0x02;

}  // namespace cp::keys
