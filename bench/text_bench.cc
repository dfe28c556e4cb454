// Micro-benchmarks of the per-name work done on every import row and every query:
// folding, Double Metaphone, trigrams, nickname groups, the index policy's terms and
// features, and the scorer.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "index/double_metaphone.h"
#include "index/features.h"
#include "index/index_policy.h"
#include "index/name_variants.h"
#include "index/normalize.h"
#include "index/similarity.h"
#include "index/trigrams.h"
#include "query/scorer.h"

namespace {

const std::vector<std::string> kNames = {"Oliver", "Amelia", "Mohammed", "Siobhán", "O'Brien-Smith",
                                         "MacDonald", "Zoë", "Williams", "Catherine", "Łukasz"};

cp::ChildRecord SampleChild() {
  cp::ChildRecord r;
  r.id = 42;
  r.given_name = "William";
  r.middle_names = "James";
  r.family_name = "Smith-Jones";
  r.former_family_names = {"Taylor"};
  r.date_of_birth = cp::Date{2015, 3, 2};
  r.gender = cp::Gender::kMale;
  return r;
}

void BM_FoldName(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(cp::NameParts(kNames[i++ % kNames.size()]));
}
BENCHMARK(BM_FoldName);

void BM_DoubleMetaphone(benchmark::State& state) {
  size_t i = 0;
  for (auto _ : state) benchmark::DoNotOptimize(cp::DoubleMetaphone(kNames[i++ % 3]));
}
BENCHMARK(BM_DoubleMetaphone);

void BM_Trigrams(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cp::Trigrams("williams"));
}
BENCHMARK(BM_Trigrams);

void BM_NicknameGroups(benchmark::State& state) {
  const auto& variants = cp::NameVariants::Default();
  for (auto _ : state) benchmark::DoNotOptimize(variants.Groups("bill"));
}
BENCHMARK(BM_NicknameGroups);

void BM_IndexTerms(benchmark::State& state) {
  const auto record = SampleChild();
  std::vector<cp::IndexTerm> terms;
  for (auto _ : state) {
    cp::NameIndexPolicy::Instance().NameTerms(record, &terms);
    benchmark::DoNotOptimize(terms.data());
  }
  state.counters["terms"] = static_cast<double>(terms.size());
}
BENCHMARK(BM_IndexTerms);

void BM_EncodeFeatures(benchmark::State& state) {
  const auto record = SampleChild();
  std::string out;
  for (auto _ : state) {
    out.clear();
    cp::EncodeCandidateFeatures(record, &out);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["bytes"] = static_cast<double>(out.size());
}
BENCHMARK(BM_EncodeFeatures);

void BM_JaroWinkler(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(cp::JaroWinkler("catherine", "kathryn"));
}
BENCHMARK(BM_JaroWinkler);

void BM_ScoreCandidate(benchmark::State& state) {
  std::string bytes;
  cp::EncodeCandidateFeatures(SampleChild(), &bytes);
  cp::SearchCriteria c;
  c.given_name = "Bill";
  c.family_name = "Smith";
  c.date_of_birth = cp::Date{2015, 2, 3};
  cp::PreparedQuery query(c);
  for (auto _ : state) {
    cp::FeatureView view;
    view.Parse(bytes);
    benchmark::DoNotOptimize(query.Score(view, false));
  }
}
BENCHMARK(BM_ScoreCandidate);

}  // namespace

BENCHMARK_MAIN();
