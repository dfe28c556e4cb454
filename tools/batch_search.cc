#include "tools/batch_search.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <thread>
#include <unordered_map>

#include "tools/json_output.h"
#include "util/csv.h"

namespace cp {

namespace {

Result<SearchCriteria> CriteriaFromRow(const std::unordered_map<std::string, size_t>& col,
                                       const std::vector<std::string>& f, size_t limit) {
  auto get = [&](const char* name) -> std::string {
    auto it = col.find(name);
    return it == col.end() || it->second >= f.size() ? std::string() : f[it->second];
  };
  SearchCriteria c;
  c.limit = limit;
  c.given_name = get("given_name");
  c.family_name = get("family_name");
  c.postcode = get("postcode");
  c.nhs_number = get("nhs_number");
  c.pupil_number = get("pupil_number");
  for (auto [name, slot] : {std::pair{"date_of_birth", &c.date_of_birth},
                            std::pair{"dob_from", &c.dob_from}, std::pair{"dob_to", &c.dob_to}}) {
    std::string text = get(name);
    if (text.empty()) continue;
    auto d = ParseDate(text);
    if (!d.ok()) return Status::InvalidArgument(std::string(name) + ": " + d.status().message());
    *slot = *d;
  }
  auto gender = ParseGender(get("gender"));
  if (!gender) return Status::InvalidArgument("gender '" + get("gender") + "' is not M, F or empty");
  c.gender = *gender;
  return c;
}

}  // namespace

Result<std::vector<QueryRow>> ReadQueryFile(std::istream& in, size_t limit) {
  CsvReader reader(&in);
  std::vector<std::string> fields;
  std::string error;
  if (!reader.Next(&fields, &error) || !error.empty()) {
    return Status::InvalidArgument("the query file has no header row");
  }
  std::unordered_map<std::string, size_t> col;
  for (size_t i = 0; i < fields.size(); ++i) col[fields[i]] = i;
  if (!col.count("query_id")) return Status::InvalidArgument("the query file has no query_id column");
  std::vector<QueryRow> rows;
  while (true) {
    error.clear();
    if (!reader.Next(&fields, &error)) break;
    QueryRow row;
    row.query_id = col["query_id"] < fields.size() ? fields[col["query_id"]] : "";
    if (!error.empty()) {
      row.criteria = Status::InvalidArgument(error);
    } else {
      row.criteria = CriteriaFromRow(col, fields, limit);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

double Quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(std::ceil(q * sorted.size()));
  return sorted[std::min(sorted.size() - 1, rank == 0 ? 0 : rank - 1)];
}

Status RunBatch(const Searcher& searcher, const std::vector<QueryRow>& queries, int threads,
                std::ostream& out, BatchStats* stats, bool timings) {
  const size_t n = queries.size();
  std::vector<std::string> lines(n);
  std::vector<double> micros(n);
  std::vector<int> outcome(n);  // 0 ok, 1 too many, 2 invalid, 3 error
  std::vector<int> tiers(n, 0);
  std::atomic<size_t> next{0};
  const Clearance clearance = Clearance::Ordinary();
  auto worker = [&] {
    for (size_t i = next++; i < n; i = next++) {
      const auto start = std::chrono::steady_clock::now();
      nlohmann::json j;
      if (!queries[i].criteria.ok()) {
        j = InvalidCriteriaJson(queries[i].criteria.status().message());
        outcome[i] = 2;
      } else {
        auto r = searcher.Search(*queries[i].criteria, clearance);
        if (r.ok()) {
          j = SearchJson(*r);
          outcome[i] = r->outcome == SearchOutcome::kOk ? 0 : 1;
          tiers[i] = r->tiers;
        } else if (r.status().IsInvalidArgument()) {
          j = InvalidCriteriaJson(r.status().message());
          outcome[i] = 2;
        } else {
          j = {{"status", "error"}, {"message", r.status().ToString()}, {"results", nlohmann::json::array()}};
          outcome[i] = 3;
        }
      }
      // The id goes into the answer itself: merging the answer into a new object copied
      // it whole, which cost a fifth of a batch's instructions (callgrind). Objects are
      // ordered maps, so the line is the same either way.
      j["query_id"] = queries[i].query_id;
      lines[i] = j.dump();
      micros[i] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start).count();
    }
  };
  const auto wall_start = std::chrono::steady_clock::now();
  std::vector<std::thread> pool;
  for (int t = 0; t < std::max(1, threads); ++t) pool.emplace_back(worker);
  for (auto& t : pool) t.join();
  stats->wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  for (size_t i = 0; i < n; ++i) {
    if (timings) {
      // Appended to the rendered object: {"query_id":...,"micros":...,"tiers":...}
      lines[i].pop_back();
      lines[i] += ",\"micros\":" + std::to_string(static_cast<int64_t>(micros[i])) +
                  ",\"tiers\":" + std::to_string(tiers[i]) + "}";
    }
    out << lines[i] << '\n';
  }
  stats->queries = n;
  for (int o : outcome) {
    stats->ok += o == 0;
    stats->too_many += o == 1;
    stats->invalid += o == 2;
    stats->errors += o == 3;
  }
  std::sort(micros.begin(), micros.end());
  stats->p50_us = Quantile(micros, 0.50);
  stats->p99_us = Quantile(micros, 0.99);
  stats->p999_us = Quantile(micros, 0.999);
  stats->max_us = micros.empty() ? 0 : micros.back();
  return out.good() ? Status::OK() : Status::IOError("writing results failed");
}

}  // namespace cp
