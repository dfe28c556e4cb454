// Tests for storage/keys.h: the byte layouts sort the way scans rely on.

#include "storage/keys.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <tuple>
#include <vector>

namespace cp {
namespace {

// RocksDB's default comparator: bytewise, unsigned.
bool BytewiseLess(const std::string& a, const std::string& b) {
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<uint8_t>(x) < static_cast<uint8_t>(y);
  });
}

bool StartsWith(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

TEST(KeysTest, ChildKeysSortInNumericOrder) {
  const std::vector<ChildId> ids = {1,          2,         9,          10,
                                    255,        256,       257,        65535,
                                    65536,      1u << 24,  1ull << 32, (1ull << 40) + 3,
                                    1ull << 56, ~0ull - 1, ~0ull};
  for (size_t i = 0; i + 1 < ids.size(); ++i) {
    EXPECT_TRUE(BytewiseLess(keys::ChildKey(ids[i]), keys::ChildKey(ids[i + 1])))
        << ids[i] << " vs " << ids[i + 1];
  }
}

TEST(KeysTest, ChildKeyRoundTripsAndRejectsWrongLengths) {
  for (ChildId id : {ChildId{1}, ChildId{4242}, ~ChildId{0}}) {
    const std::string key = keys::ChildKey(id);
    EXPECT_EQ(key.size(), 8u);
    EXPECT_EQ(keys::DecodeChildKey(key), id);
  }
  EXPECT_EQ(keys::DecodeChildKey(""), std::nullopt);
  EXPECT_EQ(keys::DecodeChildKey(std::string(7, '\0')), std::nullopt);
  EXPECT_EQ(keys::DecodeChildKey(std::string(9, '\0')), std::nullopt);
}

struct PostingSpec {
  TermKind kind;
  std::string token;
  uint16_t year;
  uint8_t month;
  ChildId id;
};

// Name postings sort grouped by (kind, token, year), then by month, then by child id;
// each posting starts with the prefix of its own (kind, token, year) and no other.
TEST(KeysTest, NamePostingsGroupByKindTokenYearThenMonthThenId) {
  std::vector<PostingSpec> specs;
  for (TermKind kind : {TermKind::kPhonetic, TermKind::kNickname, TermKind::kTrigram}) {
    for (const std::string& token :
         std::vector<std::string>{"A", "AB", "ABC", "SM0", "SM0X", "B", std::string(255, 'Z')}) {
      for (uint16_t year :
           {uint16_t{0}, uint16_t{1999}, uint16_t{2015}, uint16_t{2016}, uint16_t{65535}}) {
        for (uint8_t month : {uint8_t{0}, uint8_t{1}, uint8_t{2}, uint8_t{12}}) {
          for (ChildId id : {ChildId{1}, ChildId{2}, ChildId{256}, ChildId{1} << 40}) {
            specs.push_back({kind, token, year, month, id});
          }
        }
      }
    }
  }
  std::vector<std::pair<std::string, size_t>> keyed;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    keyed.emplace_back(keys::NamePostingKey(s.kind, s.token, s.year, s.month, s.id), i);
  }
  std::sort(keyed.begin(), keyed.end(),
            [](const auto& a, const auto& b) { return BytewiseLess(a.first, b.first); });

  // Each (kind, token, year) group is contiguous, and within it (month, id) ascend.
  std::vector<std::tuple<TermKind, std::string, uint16_t>> groups_seen;
  for (size_t i = 0; i < keyed.size(); ++i) {
    const auto& s = specs[keyed[i].second];
    auto group = std::make_tuple(s.kind, s.token, s.year);
    if (groups_seen.empty() || groups_seen.back() != group) {
      ASSERT_EQ(std::find(groups_seen.begin(), groups_seen.end(), group), groups_seen.end())
          << "group (" << static_cast<char>(s.kind) << ", " << s.token << ", " << s.year
          << ") is split";
      groups_seen.push_back(group);
    } else {
      const auto& prev = specs[keyed[i - 1].second];
      EXPECT_LT(std::make_tuple(prev.month, prev.id), std::make_tuple(s.month, s.id));
    }
  }

  // Within one kind and token, years ascend.
  for (size_t i = 1; i < groups_seen.size(); ++i) {
    const auto& [kind_a, token_a, year_a] = groups_seen[i - 1];
    const auto& [kind_b, token_b, year_b] = groups_seen[i];
    if (kind_a == kind_b && token_a == token_b) {
      EXPECT_LT(year_a, year_b);
    }
  }

  // Exactly the postings of a group start with its prefix.
  for (const auto& [kind, token, year] : groups_seen) {
    const std::string prefix = keys::NamePostingPrefix(kind, token, year);
    for (const auto& [key, index] : keyed) {
      const auto& s = specs[index];
      const bool member = s.kind == kind && s.token == token && s.year == year;
      EXPECT_EQ(StartsWith(key, prefix), member)
          << "prefix (" << static_cast<char>(kind) << ", " << token << ", " << year
          << ") vs posting (" << static_cast<char>(s.kind) << ", " << s.token << ", " << s.year
          << ")";
    }
  }
}

// "SM0" is a prefix of "SM0X": the postings of "SM0X" must not fall in any "SM0" range,
// whatever the year bytes and whatever follows.
TEST(KeysTest, TokenThatIsAPrefixOfAnotherDoesNotCoverIt) {
  const struct {
    std::string shorter;
    std::string longer;
  } cases[] = {{"SM0", "SM0X"},
               {"A", "AA"},
               {"A", std::string("A\x07\xdf", 3)},  // longer token's bytes look like a year
               {"AB", std::string("AB\0", 3)},
               {std::string(254, 'Q'), std::string(255, 'Q')}};
  for (const auto& c : cases) {
    for (uint16_t year : {uint16_t{0}, uint16_t{2015}, uint16_t{0xffff}}) {
      const std::string prefix = keys::NamePostingPrefix(TermKind::kPhonetic, c.shorter, year);
      for (uint16_t other_year : {uint16_t{0}, uint16_t{2015}, uint16_t{0xffff}}) {
        for (uint8_t month : {uint8_t{0}, uint8_t{7}}) {
          const std::string key =
              keys::NamePostingKey(TermKind::kPhonetic, c.longer, other_year, month, 1);
          EXPECT_FALSE(StartsWith(key, prefix)) << c.shorter.size() << " vs " << c.longer.size();
        }
      }
    }
  }
}

TEST(KeysTest, NamePostingKeyLayout) {
  const std::string key = keys::NamePostingKey(TermKind::kTrigram, "SMI", 2015, 3, 258);
  const std::string expected =
      std::string("T\x03SMI\x07\xdf\x03", 8) + std::string("\0\0\0\0\0\0\x01\x02", 8);
  EXPECT_EQ(key, expected);
  EXPECT_EQ(keys::NamePostingPrefix(TermKind::kTrigram, "SMI", 2015), expected.substr(0, 7));
}

TEST(KeysTest, NamePostingPrefixLengthOfWellFormedKeys) {
  for (const std::string& token : std::vector<std::string>{"A", "SM0", std::string(255, 'x')}) {
    const std::string prefix = keys::NamePostingPrefix(TermKind::kNickname, token, 2012);
    const std::string key = keys::NamePostingKey(TermKind::kNickname, token, 2012, 11, 99);
    EXPECT_EQ(keys::NamePostingPrefixLength(key), prefix.size());
    // A scan seeks with the prefix alone, or the prefix and a month: both are in domain.
    EXPECT_EQ(keys::NamePostingPrefixLength(prefix), prefix.size());
    EXPECT_EQ(keys::NamePostingPrefixLength(prefix + '\x0b'), prefix.size());
  }
}

TEST(KeysTest, NamePostingPrefixLengthOfMalformedKeysIsZero) {
  const struct {
    const char* what;
    std::string key;
  } cases[] = {
      {"empty", ""},
      {"kind only", "P"},
      {"token length but no token", std::string("P\x03", 2)},
      {"token shorter than its length", std::string("P\x03SM", 4)},
      {"token but no year", std::string("P\x03SM0", 5)},
      {"token and half a year", std::string("P\x03SM0\x07", 6)},
      {"length 255, 10 bytes follow", std::string("P\xff", 2) + std::string(10, 'a')},
  };
  for (const auto& c : cases) {
    EXPECT_EQ(keys::NamePostingPrefixLength(c.key), 0u) << c.what;
  }
}

TEST(KeysTest, DecodeNamePostingTailReadsYearMonthAndId) {
  const std::string key =
      keys::NamePostingKey(TermKind::kPhonetic, "XYZ", 2019, 12, (ChildId{1} << 33) + 5);
  auto parts = keys::DecodeNamePostingTail(key);
  EXPECT_EQ(parts.year, 2019);
  EXPECT_EQ(parts.month, 12);
  EXPECT_EQ(parts.id, (ChildId{1} << 33) + 5);
}

TEST(KeysTest, IdKeysOfOneValueShareItsPrefixAndSortById) {
  const std::string prefix = keys::IdPrefix(keys::IdKind::kNhsNumber, "9434765919");
  std::string previous;
  for (ChildId id : {ChildId{1}, ChildId{2}, ChildId{300}, ChildId{1} << 50}) {
    const std::string key = keys::IdKey(keys::IdKind::kNhsNumber, "9434765919", id);
    EXPECT_TRUE(StartsWith(key, prefix));
    EXPECT_EQ(key.size(), prefix.size() + 8);
    if (!previous.empty()) {
      EXPECT_TRUE(BytewiseLess(previous, key));
    }
    previous = key;
  }
  // Kinds do not mix: a pupil number key never starts with an NHS number prefix.
  EXPECT_FALSE(StartsWith(keys::IdKey(keys::IdKind::kPupilNumber, "9434765919", 1), prefix));
}

TEST(KeysTest, PlaceKeysGroupByHashThenId) {
  const std::string hash_a(keys::kPlaceHashBytes, '\x10');
  const std::string hash_b(keys::kPlaceHashBytes, '\x11');
  const std::string a1 = keys::PlaceKey(hash_a, 1);
  const std::string a2 = keys::PlaceKey(hash_a, 256);
  const std::string b1 = keys::PlaceKey(hash_b, 0);
  EXPECT_EQ(a1.size(), keys::kPlaceHashBytes + 8);
  EXPECT_TRUE(BytewiseLess(a1, a2));
  EXPECT_TRUE(BytewiseLess(a2, b1));
  EXPECT_TRUE(StartsWith(a2, hash_a));
}

// Source keys are length-prefixed by source, so one source's keys never fall among
// another's, even when one source name is a prefix of the other.
TEST(KeysTest, SourceKeysDoNotMixSources) {
  const std::string births = keys::SourceKey("births", "");
  EXPECT_FALSE(StartsWith(keys::SourceKey("births2", "x"), births));
  EXPECT_FALSE(StartsWith(keys::SourceKey("birth", "sx"), births));
  EXPECT_TRUE(StartsWith(keys::SourceKey("births", "K-1"), births));
  EXPECT_NE(keys::SourceKey("ab", "c"), keys::SourceKey("a", "bc"));
}

}  // namespace
}  // namespace cp
