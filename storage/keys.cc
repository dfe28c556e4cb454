#include "storage/keys.h"

#include "util/coding.h"

namespace cp::keys {

std::string ChildKey(ChildId id) { return BigEndian64(id); }

std::optional<ChildId> DecodeChildKey(std::string_view key) {
  if (key.size() != 8) return std::nullopt;
  return DecodeBigEndian64(key.data());
}

std::string NamePostingPrefix(TermKind kind, std::string_view token, uint16_t year) {
  std::string k;
  k.reserve(4 + token.size() + 9);
  k.push_back(static_cast<char>(kind));
  k.push_back(static_cast<char>(token.size()));
  k.append(token);
  PutBigEndian16(&k, year);
  return k;
}

std::string NamePostingKey(TermKind kind, std::string_view token, uint16_t year, uint8_t month,
                           ChildId id) {
  std::string k;
  NamePostingKeyInto(&k, kind, token, year, month, id);
  return k;
}

void NamePostingKeyInto(std::string* out, TermKind kind, std::string_view token, uint16_t year,
                        uint8_t month, ChildId id) {
  out->clear();
  out->reserve(2 + token.size() + 11);
  out->push_back(static_cast<char>(kind));
  out->push_back(static_cast<char>(token.size()));
  out->append(token);
  PutBigEndian16(out, year);
  out->push_back(static_cast<char>(month));
  PutBigEndian64(out, id);
}

void NameTermKeyInto(std::string* out, TermKind kind, std::string_view token, const Date& dob, ChildId id) {
  if (kind == TermKind::kBirthDay) {
    BirthDayPostingKeyInto(out, kind, token, dob, id);
  } else if (kind != TermKind::kBirthday) {
    NamePostingKeyInto(out, kind, token, static_cast<uint16_t>(dob.year), dob.month, id);
  } else if (dob.empty()) {
    out->clear();
  } else {
    NamePostingKeyInto(out, kind, token, MonthDaySlot(dob.month, dob.day), 0, id);
  }
}

void BirthDayPostingKeyInto(std::string* out, TermKind kind, std::string_view token,
                            const Date& dob, ChildId id) {
  if (dob.empty()) {
    out->clear();
    return;
  }
  NamePostingKeyInto(out, kind, token, MonthDaySlot(dob.month, dob.day), BirthYearByte(dob.year),
                     id);
}

size_t NamePostingPrefixLength(std::string_view key) {
  if (key.size() < 2) return 0;
  size_t len = 2 + static_cast<uint8_t>(key[1]) + 2;
  return key.size() >= len ? len : 0;
}

NamePostingParts DecodeNamePostingTail(std::string_view key) {
  // year (2) | month (1) | id (8) are the last 11 bytes.
  const char* tail = key.data() + key.size() - 11;
  return {DecodeBigEndian16(tail), static_cast<uint8_t>(tail[2]), DecodeBigEndian64(tail + 3)};
}

std::string IdPrefix(IdKind kind, std::string_view value) {
  std::string k;
  k.push_back(static_cast<char>(kind));
  k.append(value);
  return k;
}

std::string IdKey(IdKind kind, std::string_view value, ChildId id) {
  std::string k = IdPrefix(kind, value);
  PutBigEndian64(&k, id);
  return k;
}

std::string PlaceKey(std::string_view postcode_hash, ChildId id) {
  std::string k(postcode_hash);
  PutBigEndian64(&k, id);
  return k;
}

std::string SourceKey(std::string_view source, std::string_view key) {
  std::string k;
  k.push_back(static_cast<char>(source.size()));
  k.append(source);
  k.append(key);
  return k;
}

}  // namespace cp::keys

namespace cp::keys {

std::string ReviewItemKey(uint64_t id) {
  std::string k(1, 'q');
  PutBigEndian64(&k, id);
  return k;
}

std::string ReviewBySourceKey(std::string_view source, std::string_view key) {
  return "s" + SourceKey(source, key);
}

std::string DecisionPrefix(std::string_view source, std::string_view key) {
  return "d" + SourceKey(source, key);
}

std::string DecisionKey(std::string_view source, std::string_view key, ChildId child) {
  std::string k = DecisionPrefix(source, key);
  PutBigEndian64(&k, child);
  return k;
}

}  // namespace cp::keys
