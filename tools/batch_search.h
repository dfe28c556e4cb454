// Batch search for performance engineers (`contactpoint search --queries FILE.csv`).
//
// Every query runs in-process against one open store on N threads. One JSON line per
// query goes to `out`, in input order: {"query_id": ..., "status": ..., "results": [...]}.
// Latency is measured per query around Searcher::Search plus rendering of its answer.
#pragma once

#include <istream>
#include <ostream>
#include <string>
#include <vector>

#include "query/searcher.h"

namespace cp {

// A query file's columns (other columns are ignored, so a file can carry its answer):
// query_id,given_name,family_name,date_of_birth,dob_from,dob_to,gender,postcode,
// nhs_number,pupil_number
struct QueryRow {
  std::string query_id;
  Result<SearchCriteria> criteria = Status::InvalidArgument("unparsed");
};

// Reads every query. A row whose fields do not parse (a bad date) keeps its id and an
// InvalidArgument, answered as invalid_criteria. A file without a header is refused.
Result<std::vector<QueryRow>> ReadQueryFile(std::istream& in, size_t limit);

struct BatchStats {
  size_t queries = 0;
  double wall_seconds = 0;
  double p50_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  size_t ok = 0, too_many = 0, invalid = 0, errors = 0;
  double throughput() const { return wall_seconds > 0 ? queries / wall_seconds : 0; }
};

// With `timings`, each JSON line also carries "micros" (its latency) and "tiers" (how many
// candidate tiers the search ran).
Status RunBatch(const Searcher& searcher, const std::vector<QueryRow>& queries, int threads,
                std::ostream& out, BatchStats* stats, bool timings = false);

// The value at quantile q (0..1) of sorted samples, nearest rank.
double Quantile(const std::vector<double>& sorted, double q);

}  // namespace cp
