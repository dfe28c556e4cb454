// The name memo (AnalyzeName) must give exactly what computing afresh gives, and the index
// terms and posting features built from it must be byte for byte what they were when every
// field was split, folded and encoded on each call: postings written before and after the
// memo must agree, or a search would miss children.
#include "index/name_analysis.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "index/double_metaphone.h"
#include "index/features.h"
#include "index/index_policy.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/trigrams.h"
#include "storage/keys.h"
#include "util/coding.h"

namespace cp {
namespace {

bool SamePart(const NamePartAnalysis& a, const NamePartAnalysis& b) {
  return a.part == b.part && a.primary == b.primary && a.alternate == b.alternate &&
         a.trigrams == b.trigrams &&
         std::equal(a.nickname_groups.begin(), a.nickname_groups.end(), b.nickname_groups.begin(),
                    b.nickname_groups.end());
}

bool Same(const NameAnalysis& a, const NameAnalysis& b) {
  return std::equal(a.parts.begin(), a.parts.end(), b.parts.begin(), b.parts.end(), SamePart);
}

bool Same(NameView a, const NameAnalysis& b) { return Same(a.ToAnalysis(), b); }
bool Same(NameView a, NameView b) { return Same(a.ToAnalysis(), b.ToAnalysis()); }

// Hand-picked fields: particles, punctuation, non-ASCII, nicknames, empty and letterless
// fields, one far over the 255 bytes a posting keeps of a name.
std::vector<std::string> Fields() {
  return {"",           "   ",        "-",           "123",        "William",
          "Bill",       "Mary-Jane",  "Mary Ann",    "O'Brien",    "Mac Donald",
          "McDonald",   "Zoë",        "Łukasz",      "Ólafsdóttir", "Smith-Jones",
          "de la Cruz", "Siobhán",    "Xiang",       "Aaliyah",    "Elizabeth Anne",
          "Иван",       "D'Arcy",     "Thompson",    "Jean-Luc",   std::string(300, 'a'),
          std::string(200, 'b') + " " + std::string(100, 'c'), std::string(254, 'd') + " e",
          std::string(255, 'f') + " g"};
}

// Random fields: letters, spaces, hyphens and apostrophes, some upper case.
std::vector<std::string> RandomFields(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  const std::string alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJ -'";
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) {
    std::string s(1 + rng() % 14, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    out.push_back(s);
  }
  return out;
}

// The terms as NameTerms built them before the memo: every field split and encoded afresh.
std::vector<IndexTerm> ReferenceTerms(const ChildRecord& r) {
  std::vector<IndexTerm> terms;
  const bool dated = !r.date_of_birth.empty();
  std::vector<std::string> given_side, family_side;  // primary codes, for the name pairs
  auto add = [&](std::string_view raw, bool trigrams, bool nicknames, bool birthdays,
                 std::vector<std::string>* side) {
    for (const auto& part : NameParts(raw)) {
      PhoneticCodes codes = DoubleMetaphone(part);
      if (dated && !codes.primary.empty()) side->push_back(codes.primary);
      for (TermKind kind : {TermKind::kPhonetic, TermKind::kBirthday, TermKind::kBirthDay}) {
        if (kind == TermKind::kBirthday && !birthdays) continue;
        if (kind == TermKind::kBirthDay && !dated) continue;
        if (!codes.primary.empty()) terms.push_back({kind, codes.primary});
        if (!codes.alternate.empty() && codes.alternate != codes.primary) {
          terms.push_back({kind, codes.alternate});
        }
      }
      if (trigrams) {
        for (auto& t : Trigrams(part)) terms.push_back({TermKind::kTrigram, t});
      }
      if (nicknames) {
        for (const auto& g : NameVariants::Default().Groups(part)) {
          terms.push_back({TermKind::kNickname, g});
        }
      }
    }
  };
  // Birthday terms: given, family and former family codes again, for a child with a date;
  // birth day terms: every code again; name pairs: a given or middle code with a family or
  // former family one.
  add(r.given_name, true, true, dated, &given_side);
  add(r.middle_names, false, true, false, &given_side);
  add(r.family_name, true, false, dated, &family_side);
  for (const auto& f : r.former_family_names) add(f, true, false, dated, &family_side);
  for (const auto& g : given_side) {
    for (const auto& f : family_side) {
      terms.push_back({TermKind::kNamePair, std::min(g, f) + " " + std::max(g, f)});
    }
  }
  std::sort(terms.begin(), terms.end(), [](const IndexTerm& a, const IndexTerm& b) {
    return a.kind != b.kind ? a.kind < b.kind : a.token < b.token;
  });
  terms.erase(std::unique(terms.begin(), terms.end()), terms.end());
  return terms;
}

// The posting features as EncodeCandidateFeatures built them before the memo.
void ReferenceAppendName(NameRole role, std::string_view raw, std::string* out) {
  std::vector<std::string> parts = NameParts(raw);
  if (parts.empty()) return;
  std::string canonical;
  for (const auto& p : parts) {
    if (!canonical.empty()) canonical.push_back(' ');
    canonical += p;
  }
  if (canonical.size() > 255) canonical.resize(255);
  out->push_back(static_cast<char>(role));
  out->push_back(static_cast<char>(canonical.size()));
  out->append(canonical);
  size_t count_pos = out->size();
  out->push_back(0);
  uint8_t count = 0;
  for (const auto& p : parts) {
    if (count == 255) break;
    std::string code = DoubleMetaphone(p).primary;
    if (code.empty()) continue;
    out->push_back(static_cast<char>(code.size()));
    out->append(code);
    ++count;
  }
  (*out)[count_pos] = static_cast<char>(count);
}

std::string ReferenceFeatures(const ChildRecord& r) {
  std::string out;
  out.push_back(static_cast<char>(r.gender));
  PutBigEndian16(&out, static_cast<uint16_t>(r.date_of_birth.year));
  out.push_back(static_cast<char>(r.date_of_birth.month));
  out.push_back(static_cast<char>(r.date_of_birth.day));
  ReferenceAppendName(NameRole::kGiven, r.given_name, &out);
  ReferenceAppendName(NameRole::kMiddle, r.middle_names, &out);
  ReferenceAppendName(NameRole::kFamily, r.family_name, &out);
  for (const auto& f : r.former_family_names) ReferenceAppendName(NameRole::kFormerFamily, f, &out);
  // The identifier section (not part of the memo's work): which numbers, their digests.
  out.push_back(static_cast<char>(0x80 | (r.nhs_number.empty() ? 0 : 1) | (r.pupil_number.empty() ? 0 : 2)));
  if (!r.nhs_number.empty()) out.push_back(static_cast<char>(IdentifierDigest(r.nhs_number)));
  if (!r.pupil_number.empty()) out.push_back(static_cast<char>(IdentifierDigest(r.pupil_number)));
  return out;
}

TEST(NameAnalysisTest, PartsCodesTrigramsAndGroupsAreThoseOfTheTextFunctions) {
  for (const auto& field : Fields()) {
    const NameAnalysis a = ComputeNameAnalysis(field);
    const std::vector<std::string> parts = NameParts(field);
    ASSERT_EQ(a.parts.size(), parts.size()) << field;
    for (size_t i = 0; i < parts.size(); ++i) {
      const NamePartAnalysis& p = a.parts[i];
      const PhoneticCodes codes = DoubleMetaphone(parts[i]);
      EXPECT_EQ(p.part, parts[i]);
      EXPECT_EQ(p.primary, codes.primary);
      EXPECT_EQ(p.alternate, codes.alternate == codes.primary ? "" : codes.alternate);
      EXPECT_EQ(p.trigrams, Trigrams(parts[i]));
      const auto groups = NameVariants::Default().Groups(parts[i]);
      EXPECT_TRUE(std::equal(p.nickname_groups.begin(), p.nickname_groups.end(), groups.begin(),
                             groups.end()));
    }
  }
  // Spot checks, so that the comparison above is not of two empty things.
  const NameAnalysis bill = ComputeNameAnalysis("Bill O'Brien-Smith");
  ASSERT_EQ(bill.parts.size(), 3u);
  EXPECT_EQ(bill.parts[1].part, "obrien");
  EXPECT_FALSE(bill.parts[0].nickname_groups.empty());
  EXPECT_TRUE(ComputeNameAnalysis(" - ").parts.empty());
}

TEST(NameAnalysisTest, RememberedAnalysisIsTheComputedOne) {
  auto fields = Fields();
  for (const auto& f : RandomFields(2000, 1)) fields.push_back(f);
  for (int round = 0; round < 2; ++round) {  // the second round is served from the memo
    for (const auto& field : fields) {
      EXPECT_TRUE(Same(AnalyzeName(field), ComputeNameAnalysis(field))) << field;
    }
  }
  // Remembered under the bytes given: "Bill" and "bill" are two entries, one analysis.
  EXPECT_TRUE(Same(AnalyzeName("Bill"), AnalyzeName("bill")));
}

TEST(NameAnalysisTest, AReferenceOutlivesTheMemoFillingUp) {
  // More distinct names than the memo holds, twice over, so that it is set aside and
  // replaced. A reference taken at the start stays what it was for the calls promised
  // (under ASan a freed one would be reported here).
  const auto names = RandomFields(2 * kNameMemoValidCalls + 100, 2);
  const NameView first = AnalyzeName("Theodora Fitzwilliam");
  const NameAnalysis expected = ComputeNameAnalysis("Theodora Fitzwilliam");
  for (size_t i = 0; i < kNameMemoValidCalls; ++i) AnalyzeName(names[i] + "#");
  EXPECT_TRUE(Same(first, expected));
  for (size_t i = 0; i < names.size(); ++i) {
    ASSERT_TRUE(Same(AnalyzeName(names[i]), ComputeNameAnalysis(names[i]))) << names[i];
  }
}

TEST(NameAnalysisTest, ANameLookedUpJustBeforeTheMemoIsReplacedTwiceIsStillRight) {
  // The last few names are remembered apart from the memo. Long names are not: a short name
  // looked up, then only long ones until the memo has been replaced twice, must not be
  // answered from what was freed.
  const NameAnalysis expected = ComputeNameAnalysis("Maisie");
  EXPECT_TRUE(Same(AnalyzeName("Maisie"), expected));
  const std::string long_prefix(30, 'z');
  auto names = RandomFields(2 * kNameMemoValidCalls + 10, 7);
  for (const auto& n : names) AnalyzeName(long_prefix + n);
  EXPECT_TRUE(Same(AnalyzeName("Maisie"), expected));
}

TEST(NameAnalysisTest, EachThreadHasItsOwnMemo) {
  const auto fields = RandomFields(3000, 3);
  std::vector<int> mismatches(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 2; ++round) {
        for (const auto& f : fields) mismatches[t] += !Same(AnalyzeName(f), ComputeNameAnalysis(f));
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(mismatches, std::vector<int>(4, 0));
}

ChildRecord RandomRecord(std::mt19937& rng, const std::vector<std::string>& fields) {
  auto pick = [&] { return fields[rng() % fields.size()]; };
  ChildRecord r;
  r.given_name = pick();
  r.middle_names = rng() % 2 ? pick() : "";
  r.family_name = pick();
  for (uint32_t i = rng() % 3; i > 0; --i) r.former_family_names.push_back(pick());
  r.date_of_birth = Date{static_cast<int16_t>(2008 + rng() % 18), static_cast<uint8_t>(1 + rng() % 12),
                         static_cast<uint8_t>(1 + rng() % 28)};
  if (rng() % 10 == 0) r.date_of_birth = Date{};
  r.gender = static_cast<Gender>(rng() % 3);
  if (rng() % 2) r.nhs_number = std::to_string(1000000000 + rng() % 900000000);
  if (rng() % 3 == 0) r.pupil_number = "A" + std::to_string(100000000000 + rng() % 900000000);
  return r;
}

TEST(NameAnalysisTest, TermsAndFeaturesAreThoseBuiltWithoutTheMemo) {
  auto fields = Fields();
  for (const auto& f : RandomFields(500, 4)) fields.push_back(f);
  std::mt19937 rng(5);
  std::vector<IndexTerm> terms;
  size_t with_terms = 0;
  for (int i = 0; i < 3000; ++i) {
    const ChildRecord r = RandomRecord(rng, fields);
    NameIndexPolicy::Instance().NameTerms(r, &terms);
    ASSERT_EQ(terms, ReferenceTerms(r)) << r.given_name << " / " << r.family_name;
    with_terms += !terms.empty();
    std::string features;
    EncodeCandidateFeatures(r, &features);
    ASSERT_EQ(features, ReferenceFeatures(r)) << r.given_name << " / " << r.family_name;
  }
  EXPECT_GT(with_terms, 2900u);
}

// Birthday terms are the given, family and former family names' codes (not the middle
// names'), and only for a child with a date of birth (storage files them under its month
// and day).
TEST(NameAnalysisTest, BirthdayTermsAreTheGivenAndFamilyCodesOfADatedChildAndItsPairs) {
  ChildRecord r;
  r.given_name = "Ada";
  r.middle_names = "Grace";
  r.family_name = "Lovelace";
  r.former_family_names = {"Byron"};
  r.date_of_birth = Date{2015, 4, 12};
  auto birthdays = [&](TermKind kind) {
    std::vector<IndexTerm> terms;
    NameIndexPolicy::Instance().NameTerms(r, &terms);
    std::vector<std::string> out;
    for (const auto& t : terms) {
      if (t.kind == kind) out.push_back(t.token);
    }
    return out;
  };
  std::vector<std::string> expected;
  for (const char* name : {"Ada", "Lovelace", "Byron"}) {
    PhoneticCodes codes = DoubleMetaphone(name);
    expected.push_back(codes.primary);
    if (!codes.alternate.empty() && codes.alternate != codes.primary) expected.push_back(codes.alternate);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(birthdays(TermKind::kBirthday), expected);
  // Birth day terms: every code, the middle name's too. Name pairs: given or middle with
  // family or former family, primary codes, in byte order.
  for (const char* name : {"Grace"}) {
    PhoneticCodes codes = DoubleMetaphone(name);
    expected.push_back(codes.primary);
    if (!codes.alternate.empty() && codes.alternate != codes.primary)
      expected.push_back(codes.alternate);
  }
  std::sort(expected.begin(), expected.end());
  EXPECT_EQ(birthdays(TermKind::kBirthDay), expected);
  std::vector<std::string> pairs;
  for (const char* g : {"Ada", "Grace"}) {
    for (const char* f : {"Lovelace", "Byron"}) {
      pairs.push_back(keys::NamePairToken(DoubleMetaphone(g).primary, DoubleMetaphone(f).primary));
    }
  }
  std::sort(pairs.begin(), pairs.end());
  EXPECT_EQ(birthdays(TermKind::kNamePair), pairs);
  for (const auto& pair : birthdays(TermKind::kNamePair)) {
    const size_t space = pair.find(' ');
    ASSERT_NE(space, std::string::npos) << pair;
    EXPECT_LE(pair.substr(0, space), pair.substr(space + 1)) << "byte order: " << pair;
  }
  r.date_of_birth = Date{};
  EXPECT_TRUE(birthdays(TermKind::kBirthday).empty());
  EXPECT_TRUE(birthdays(TermKind::kBirthDay).empty());
  EXPECT_TRUE(birthdays(TermKind::kNamePair).empty());
}

TEST(NameAnalysisTest, ARecordWithMoreNamesThanTheMemoKeepsGetsItsTermsRight) {
  // A former-names field of tens of thousands of names: more fields than the memo keeps
  // valid, so NameTerms analyses them itself.
  ChildRecord r;
  r.given_name = "Ada";
  r.family_name = "Lovelace";
  for (const auto& f : RandomFields(kNameMemoValidCalls + 10, 6)) r.former_family_names.push_back(f);
  std::vector<IndexTerm> terms;
  NameIndexPolicy::Instance().NameTerms(r, &terms);
  EXPECT_EQ(terms, ReferenceTerms(r));
  EXPECT_GT(terms.size(), 1000u);
}

}  // namespace
}  // namespace cp
