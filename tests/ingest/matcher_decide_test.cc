// Matcher::DecisionOf, which Finish asks before reading more candidates, decides exactly
// as Matcher::Decide does, without copying or reordering the list; and both decide the same
// whatever order the candidates come in (they find the best two in one pass, not by sorting).
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "ingest/matcher.h"

namespace cp {
namespace {

// Lists near every rule's edge: totals around the thresholds (ties included, so the
// order of equal totals counts), shielded candidates, identifiers that agree, and names or
// dates that disagree.
std::vector<ScoredCandidate> RandomCandidates(std::mt19937* rng, const MatchWeights& w) {
  auto pick = [rng](uint32_t k) { return (*rng)() % k; };
  const double totals[] = {w.shield_lower - 1,
                           w.shield_lower,
                           w.lower - 0.5,
                           w.lower,
                           w.upper - 1,
                           w.upper,
                           w.upper + 2,
                           w.upper + w.strong_margin,
                           w.upper + w.strong_margin + 3};
  std::vector<ScoredCandidate> out(pick(6));
  ChildId id = 1 + pick(5);
  for (auto& c : out) {
    c.child = id;
    id += 1 + pick(3);
    c.total = totals[pick(std::size(totals))];
    c.shielded = pick(4) == 0;
    c.identifier_agrees = pick(6) == 0;
    c.given_disagrees = pick(6) == 0;
    c.names_disagree = pick(5) == 0;
    c.dob_disagrees = pick(5) == 0;
  }
  std::shuffle(out.begin(), out.end(), *rng);
  return out;
}

TEST(MatcherDecideTest, DecisionOfDecidesAsDecide) {
  const Matcher matcher(nullptr);
  std::mt19937 rng(7);
  size_t by_decision[3] = {0, 0, 0};
  for (int i = 0; i < 20000; ++i) {
    const std::vector<ScoredCandidate> list = RandomCandidates(&rng, matcher.weights());
    const std::vector<ScoredCandidate> before = list;
    const MatchDecision quick = matcher.DecisionOf(list);
    const MatchOutcome full = matcher.Decide(list);
    ASSERT_EQ(quick, full.decision) << "list " << i;
    ++by_decision[static_cast<int>(full.decision)];
    // Candidates best first; a link is to the first; two above `upper` never link.
    for (size_t k = 1; k < full.candidates.size(); ++k) {
      const ScoredCandidate &a = full.candidates[k - 1], &b = full.candidates[k];
      ASSERT_TRUE(a.total > b.total || (a.total == b.total && a.child < b.child)) << "list " << i;
    }
    if (full.decision == MatchDecision::kLink) {
      ASSERT_EQ(full.child, full.candidates[0].child) << "list " << i;
      ASSERT_TRUE(full.candidates.size() < 2 || full.candidates[1].total < matcher.weights().upper)
          << "list " << i;
    }
    // The same decision in other orders of the same list.
    std::vector<ScoredCandidate> shuffled = list;
    for (int k = 0; k < 4; ++k) {
      std::shuffle(shuffled.begin(), shuffled.end(), rng);
      ASSERT_EQ(matcher.DecisionOf(shuffled), full.decision) << "list " << i;
    }
    // Untouched: Finish goes on reading the list by position.
    ASSERT_EQ(list.size(), before.size());
    for (size_t k = 0; k < list.size(); ++k) ASSERT_EQ(list[k].child, before[k].child);
  }
  // Every decision is reached, so each of the rules is compared.
  EXPECT_GT(by_decision[static_cast<int>(MatchDecision::kLink)], 500u);
  EXPECT_GT(by_decision[static_cast<int>(MatchDecision::kNew)], 500u);
  EXPECT_GT(by_decision[static_cast<int>(MatchDecision::kReview)], 500u);
}

// The two best by total, ties to the lower child id: a second candidate above `upper`
// sends the record to review whatever order the list is in.
TEST(MatcherDecideTest, TwoCandidatesAboveTheUpperThresholdGoToReviewInEitherOrder) {
  const Matcher matcher(nullptr);
  const double upper = matcher.weights().upper;
  ScoredCandidate a, b, c;
  a.child = 1, a.total = upper + 1;
  b.child = 2, b.total = upper + 0.5;
  c.child = 3, c.total = upper - 5;
  for (const auto& list :
       {std::vector<ScoredCandidate>{a, b, c}, std::vector<ScoredCandidate>{c, b, a},
        std::vector<ScoredCandidate>{b, c, a}}) {
    EXPECT_EQ(matcher.DecisionOf(list), MatchDecision::kReview);
    EXPECT_EQ(matcher.Decide(list).decision, MatchDecision::kReview);
  }
  EXPECT_EQ(matcher.DecisionOf({a, c}), MatchDecision::kLink);
  EXPECT_EQ(matcher.Decide({a, c}).child, 1u);
}

}  // namespace
}  // namespace cp
