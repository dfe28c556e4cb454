// pg_search_client: runs a `contactpoint gen-queries` query set against the PostgreSQL side
// of bench/england_scale.sh (bench/pg/*.sql) through libpq, as contactpoint's own clients
// run it against contactpointd, so that the two can be compared side by side.
//
//   pg_search_client --conninfo "host=127.0.0.1 port=54329 dbname=cp user=practitioner"
//                    --queries queries.csv --connections 4 --answers pg-answers.jsonl
//
// Every query is checked first with contactpoint's ValidateCriteria (minimum criteria,
// canonical postcode and identifiers), exactly as contactpointd checks it before touching
// an index; a refused query is answered `invalid_criteria` without a round trip. The rest
// call cp_search(...) (bench/pg/search.sql) through one prepared statement per connection:
// it returns at most cap + 1 rows, and cap + 1 rows is "too many matches" with no results.
//
// Each connection is one thread with one blocking libpq connection; connections take the
// next query of the file until every query has been sent once (after an untimed pass with
// --warmup). Output: throughput, latency percentiles and outcomes on stdout, with the last
// line `summary: searches=N ok=N too_many_matches=N invalid=N errors=N` for scripts; and
// with --answers, one JSON line per query in file order, in the shape of `contactpoint
// search --queries` ({"query_id", "status", "results": [{"score", "sources": [{"source",
// "key"}]}]}), so that the same recall computation reads both.
//
// Exit codes: 0 every query answered (ok, too many, or invalid criteria), 1 some query
// failed in PostgreSQL, 2 usage, 3 could not connect.
#include <libpq-fe.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "query/criteria.h"
#include "tools/batch_search.h"

namespace cp::bench {
namespace {

using Steady = std::chrono::steady_clock;
constexpr int kExitOk = 0, kExitErrors = 1, kExitUsage = 2, kExitSetup = 3;

constexpr const char* kSearchSql =
    "SELECT source_key, score FROM cp_search($1, $2, $3::date, $4::date, $5::date, $6, $7, $8, "
    "$9, $10::int)";

struct Options {
  std::string conninfo, queries, answers, source = "births";
  int connections = 1;
  size_t cap = kDefaultResultCap;
  bool warmup = false;
};

enum class Outcome { kOk, kTooMany, kInvalid, kError };

struct Answer {
  Outcome outcome = Outcome::kError;
  std::string message;
  std::vector<std::pair<std::string, double>> hits;  // source key, score
  uint32_t micros = 0;
};

// The parameters of cp_search for validated criteria, as text ("" for an absent one;
// NULL for an absent date).
struct Params {
  std::string given, family, dob, from, to, gender, postcode, nhs, upn, cap;
  bool has_dob = false, has_range = false;
};

Params ToParams(const SearchCriteria& c, size_t cap) {
  Params p;
  p.given = c.given_name;
  p.family = c.family_name;
  if (c.date_of_birth) p.dob = c.date_of_birth->ToString(), p.has_dob = true;
  if (c.dob_from && c.dob_to) {
    p.from = c.dob_from->ToString();
    p.to = c.dob_to->ToString();
    p.has_range = true;
  }
  p.gender = c.gender == Gender::kMale ? "M" : c.gender == Gender::kFemale ? "F" : "";
  p.postcode = c.postcode;
  p.nhs = c.nhs_number;
  p.upn = c.pupil_number;
  p.cap = std::to_string(cap);
  return p;
}

// One query on one connection. The connection is left usable after a failed query.
Answer RunOne(PGconn* conn, const QueryRow& row, size_t cap) {
  Answer a;
  if (!row.criteria.ok()) {
    a.outcome = Outcome::kInvalid;
    a.message = row.criteria.status().message();
    return a;
  }
  SearchCriteria criteria = *row.criteria;
  if (auto kind = ValidateCriteria(&criteria); !kind.ok()) {
    a.outcome = Outcome::kInvalid;
    a.message = kind.status().message();
    return a;
  }
  const Params p = ToParams(criteria, cap);
  const char* values[10] = {p.given.c_str(),    p.family.c_str(),
                            p.has_dob ? p.dob.c_str() : nullptr,
                            p.has_range ? p.from.c_str() : nullptr,
                            p.has_range ? p.to.c_str() : nullptr,
                            p.gender.c_str(),   p.postcode.c_str(),
                            p.nhs.c_str(),      p.upn.c_str(),
                            p.cap.c_str()};
  PGresult* r = PQexecPrepared(conn, "search", 10, values, nullptr, nullptr, 0);
  if (PQresultStatus(r) != PGRES_TUPLES_OK) {
    a.outcome = Outcome::kError;
    a.message = PQresultErrorMessage(r);
    PQclear(r);
    return a;
  }
  const int rows = PQntuples(r);
  if (static_cast<size_t>(rows) > cap) {
    a.outcome = Outcome::kTooMany;
  } else {
    a.outcome = Outcome::kOk;
    for (int i = 0; i < rows; ++i) {
      a.hits.emplace_back(PQgetvalue(r, i, 0), std::strtod(PQgetvalue(r, i, 1), nullptr));
    }
  }
  PQclear(r);
  return a;
}

Result<PGconn*> Connect(const std::string& conninfo) {
  PGconn* conn = PQconnectdb(conninfo.c_str());
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string m = PQerrorMessage(conn);
    PQfinish(conn);
    return Status::IOError("cannot connect: " + m);
  }
  PGresult* r = PQprepare(conn, "search", kSearchSql, 0, nullptr);
  const bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
  std::string m = ok ? "" : PQresultErrorMessage(r);
  PQclear(r);
  if (!ok) {
    PQfinish(conn);
    return Status::IOError("cannot prepare cp_search (was bench/pg/search.sql loaded?): " + m);
  }
  return conn;
}

// Every query once over `conns`, each connection on its own thread taking the next query.
void RunPass(const std::vector<PGconn*>& conns, const std::vector<QueryRow>& queries,
             size_t cap, std::vector<Answer>* answers) {
  std::atomic<size_t> next{0};
  std::vector<std::thread> threads;
  for (PGconn* conn : conns) {
    threads.emplace_back([&, conn] {
      for (size_t i = next++; i < queries.size(); i = next++) {
        const auto t0 = Steady::now();
        Answer a = RunOne(conn, queries[i], cap);
        a.micros = static_cast<uint32_t>(
            std::chrono::duration_cast<std::chrono::microseconds>(Steady::now() - t0).count());
        (*answers)[i] = std::move(a);
      }
    });
  }
  for (auto& t : threads) t.join();
}

double Quantile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

nlohmann::json AnswerJson(const QueryRow& row, const Answer& a, const std::string& source) {
  nlohmann::json j;
  j["query_id"] = row.query_id;
  nlohmann::json results = nlohmann::json::array();
  switch (a.outcome) {
    case Outcome::kOk:
      j["status"] = "ok";
      for (const auto& [key, score] : a.hits) {
        results.push_back({{"score", std::round(score * 10000) / 10000},
                           {"sources", {{{"source", source}, {"key", key}}}}});
      }
      break;
    case Outcome::kTooMany:
      j["status"] = "too_many_matches";
      break;
    case Outcome::kInvalid:
      j["status"] = "invalid_criteria";
      j["message"] = a.message;
      break;
    case Outcome::kError:
      j["status"] = "error";
      j["message"] = a.message;
      break;
  }
  j["results"] = std::move(results);
  return j;
}

int Run(const Options& o) {
  std::ifstream in(o.queries, std::ios::binary);
  if (!in) {
    std::fprintf(stderr, "pg_search_client: cannot read %s\n", o.queries.c_str());
    return kExitUsage;
  }
  auto queries = ReadQueryFile(in, o.cap);
  if (!queries.ok()) {
    std::fprintf(stderr, "pg_search_client: %s\n", queries.status().ToString().c_str());
    return kExitUsage;
  }
  std::vector<PGconn*> conns;
  auto close_all = [&] {
    for (PGconn* c : conns) PQfinish(c);
  };
  for (int i = 0; i < o.connections; ++i) {
    auto c = Connect(o.conninfo);
    if (!c.ok()) {
      std::fprintf(stderr, "pg_search_client: %s\n", c.status().ToString().c_str());
      close_all();
      return kExitSetup;
    }
    conns.push_back(*c);
  }
  std::vector<Answer> answers(queries->size());
  if (o.warmup) RunPass(conns, *queries, o.cap, &answers);
  const auto start = Steady::now();
  RunPass(conns, *queries, o.cap, &answers);
  const double wall = std::chrono::duration<double>(Steady::now() - start).count();
  close_all();

  std::vector<uint32_t> micros;
  size_t ok = 0, too_many = 0, invalid = 0, errors = 0;
  std::string first_error;
  for (const Answer& a : answers) {
    if (a.outcome != Outcome::kInvalid) micros.push_back(a.micros);
    ok += a.outcome == Outcome::kOk;
    too_many += a.outcome == Outcome::kTooMany;
    invalid += a.outcome == Outcome::kInvalid;
    if (a.outcome == Outcome::kError) {
      if (errors++ == 0) first_error = a.message;
    }
  }
  std::sort(micros.begin(), micros.end());
  if (!o.answers.empty()) {
    std::ofstream out(o.answers, std::ios::binary | std::ios::trunc);
    for (size_t i = 0; i < answers.size(); ++i) {
      out << AnswerJson((*queries)[i], answers[i], o.source).dump() << '\n';
    }
    if (!out) {
      std::fprintf(stderr, "pg_search_client: cannot write %s\n", o.answers.c_str());
      return kExitSetup;
    }
  }
  std::printf("connections %d (libpq), %zu queries, %.2f s%s\n", o.connections, answers.size(),
              wall, o.warmup ? " (after an untimed pass)" : "");
  std::printf("throughput %.0f searches/s\n", wall > 0 ? answers.size() / wall : 0.0);
  std::printf("latency us: p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f\n",
              Quantile(micros, 0.50), Quantile(micros, 0.90), Quantile(micros, 0.99),
              Quantile(micros, 0.999), micros.empty() ? 0.0 : double(micros.back()));
  if (errors) std::printf("first error: %s\n", first_error.c_str());
  std::printf("summary: searches=%zu ok=%zu too_many_matches=%zu invalid=%zu errors=%zu\n",
              answers.size(), ok, too_many, invalid, errors);
  return errors == 0 ? kExitOk : kExitErrors;
}

}  // namespace
}  // namespace cp::bench

int main(int argc, char** argv) {
  cp::bench::Options o;
  CLI::App app{"pg_search_client: a gen-queries set against bench/pg's PostgreSQL (see the file's header)"};
  app.add_option("--conninfo", o.conninfo, "libpq connection string")->required();
  app.add_option("--queries", o.queries, "queries CSV (contactpoint gen-queries)")->required();
  app.add_option("--answers", o.answers, "write one JSON line per query here");
  app.add_option("--connections", o.connections, "concurrent connections")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--cap", o.cap, "result cap (more is too many matches)")
      ->check(CLI::Range(size_t{1}, size_t{cp::kMaxResultCap}))
      ->capture_default_str();
  app.add_option("--source", o.source, "source name written beside each key in --answers")
      ->capture_default_str();
  app.add_flag("--warmup", o.warmup, "run the set once untimed first");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return cp::bench::Run(o);
}
