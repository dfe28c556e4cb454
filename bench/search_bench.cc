// In-process search latency against a database built beforehand.
//
//   CP_BENCH_DB=/path/to/db CP_BENCH_QUERIES=/path/to/queries.csv build/release/bench/search_bench
//   (CP_BENCH_STATISTICS=1: with RocksDB's tickers on, as the daemon runs)
//
// bench/run_1m.sh builds a 1M-children database and query set and runs this. Each
// benchmark iteration is one search; the query set is cycled. Without the variables it
// skips with a message (it needs a database that takes minutes to build).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <fstream>
#include <memory>

#include "index/index_policy.h"
#include "query/searcher.h"
#include "tools/batch_search.h"

namespace {

struct Fixture {
  std::unique_ptr<cp::ChildStore> store;
  std::vector<cp::SearchCriteria> exact, fuzzy;
};

Fixture* Load() {
  static Fixture* f = [] {
    auto* fx = new Fixture;
    const char* db = std::getenv("CP_BENCH_DB");
    const char* queries = std::getenv("CP_BENCH_QUERIES");
    if (!db || !queries) return fx;
    cp::ChildStore::Options o;
    o.db_dir = db;
    o.key_file = std::string(db) + ".key";
    o.policy = &cp::NameIndexPolicy::Instance();
    o.block_cache_bytes = size_t{1} << 30;
    // CP_BENCH_STATISTICS=1: RocksDB tickers on, as contactpointd opens the store (their
    // cost: docs/operations.md, "Metrics").
    const char* statistics = std::getenv("CP_BENCH_STATISTICS");
    o.statistics = statistics != nullptr && std::string(statistics) == "1";
    // A database made with --unencrypted-files (bench/run_1m.sh, CP_BENCH_UNENCRYPTED=1);
    // an encrypted one opens encrypted whatever this says.
    o.encrypt_files = std::getenv("CP_BENCH_UNENCRYPTED") == nullptr;
    auto store = cp::ChildStore::Open(o);
    if (!store.ok()) return fx;
    fx->store = std::move(*store);
    std::ifstream in(queries);
    // The noise column (written by `contactpoint gen-queries`) splits exact from fuzzy.
    std::ifstream in2(queries);
    std::string header, line;
    std::getline(in2, header);
    std::vector<bool> is_exact;
    while (std::getline(in2, line)) is_exact.push_back(line.size() >= 6 && line.ends_with(",exact"));
    auto rows = cp::ReadQueryFile(in, cp::kDefaultResultCap);
    if (!rows.ok()) return fx;
    for (size_t i = 0; i < rows->size(); ++i) {
      if (!(*rows)[i].criteria.ok()) continue;
      (i < is_exact.size() && is_exact[i] ? fx->exact : fx->fuzzy).push_back(*(*rows)[i].criteria);
    }
    return fx;
  }();
  return f;
}

void RunSearches(benchmark::State& state, const std::vector<cp::SearchCriteria>& set) {
  Fixture* f = Load();
  if (!f->store || set.empty()) {
    state.SkipWithError("set CP_BENCH_DB and CP_BENCH_QUERIES (see bench/run_1m.sh)");
    return;
  }
  cp::Searcher searcher(f->store.get());
  const auto clearance = cp::Clearance::Ordinary();
  size_t i = 0, found = 0, postings = 0, hits = 0;
  size_t tiers[5] = {0, 0, 0, 0, 0};
  for (auto _ : state) {
    auto r = searcher.Search(set[i++ % set.size()], clearance);
    found += r.ok() && !r->hits.empty();
    if (r.ok()) {
      postings += r->postings_scanned;
      hits += r->hits.size();
      ++tiers[std::min(r->tiers, 4)];
    }
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["answered"] = benchmark::Counter(found / n);
  state.counters["postings"] = benchmark::Counter(postings / n);
  state.counters["hits"] = benchmark::Counter(hits / n);
  for (int t = 1; t <= 4; ++t) state.counters["tier" + std::to_string(t)] = tiers[t] / n;
}

void BM_SearchExact(benchmark::State& state) { RunSearches(state, Load()->exact); }
void BM_SearchFuzzy(benchmark::State& state) { RunSearches(state, Load()->fuzzy); }
BENCHMARK(BM_SearchExact)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_SearchFuzzy)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
