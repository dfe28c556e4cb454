#include "tools/cli.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "index/double_metaphone.h"
#include "index/index_policy.h"
#include "index/normalize.h"
#include "query/searcher.h"
#include "storage/file_encryption.h"
#include "tools/batch_search.h"
#include "tools/cli_accounts.h"
#include "tools/cli_common.h"
#include "tools/cli_retention.h"
#include "tools/gen.h"
#include "tools/import.h"
#include "tools/json_output.h"

namespace cp {
namespace {

void PrintHuman(const ChildView& v, double score) {
  const ChildRecord& r = v.record;
  std::cout << "child " << r.id;
  if (score >= 0) std::printf("  score %.3f", score);
  std::cout << (r.shield.shielded ? "  [SHIELDED]" : "") << "\n  " << r.given_name
            << (r.middle_names.empty() ? "" : " " + r.middle_names) << " " << r.family_name
            << "  born " << (r.date_of_birth.empty() ? "unknown" : r.date_of_birth.ToString())
            << "  " << GenderCode(r.gender) << "\n";
  if (!r.former_family_names.empty()) {
    std::cout << "  formerly:";
    for (const auto& f : r.former_family_names) std::cout << " " << f;
    std::cout << "\n";
  }
  if (!r.nhs_number.empty()) std::cout << "  NHS number " << r.nhs_number << "\n";
  if (!r.pupil_number.empty()) std::cout << "  pupil number " << r.pupil_number << "\n";
  if (v.hidden) {
    const HiddenFields& h = *v.hidden;
    if (!h.address.empty() || !h.postcode.empty()) std::cout << "  " << h.address << "  " << h.postcode << "\n";
    if (!h.parent_name.empty()) std::cout << "  parent/carer " << h.parent_name << "  " << h.parent_phone << "\n";
    for (const auto& s : h.services) std::cout << "  " << ServiceKindName(s.kind) << ": " << s.name << "\n";
  } else {
    std::cout << "  location and contacts hidden (shielded)\n";
  }
  for (const auto& s : r.sources) std::cout << "  source " << s.source << " / " << s.key << "\n";
}

}  // namespace

void AddInit(CLI::App& app, std::function<int()>* run);
void AddImport(CLI::App& app, std::function<int()>* run);
void AddSearch(CLI::App& app, std::function<int()>* run);
void AddGetAndDump(CLI::App& app, std::function<int()>* run);
void AddShield(CLI::App& app, std::function<int()>* run);
void AddCompact(CLI::App& app, std::function<int()>* run);
void AddInfoLog(CLI::App& app, std::function<int()>* run);
void AddUpgrade(CLI::App& app, std::function<int()>* run);
void AddPhoneticAndGen(CLI::App& app, std::function<int()>* run);
void AddClientCommands(CLI::App& app, std::function<int()>* run);  // tools/cli_client.cc
void AddLoadCommand(CLI::App& app, std::function<int()>* run);     // tools/cli_load.cc

int RunCli(int argc, char** argv) {
  CLI::App app{"contactpoint: the child index engine's ops and development tool"};
  app.require_subcommand(1);
  std::function<int()> run;
  AddInit(app, &run);
  AddImport(app, &run);
  AddSearch(app, &run);
  AddGetAndDump(app, &run);
  AddShield(app, &run);
  AddCompact(app, &run);
  AddInfoLog(app, &run);
  AddUpgrade(app, &run);
  AddPhoneticAndGen(app, &run);
  AddFeedCommands(app, &run);
  AddAccountCommands(app, &run);
  AddClientCommands(app, &run);
  AddLoadCommand(app, &run);
  AddLifecycleCommands(app, &run);
  AddBackupCommands(app, &run);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);
    return code == 0 ? kExitOk : kExitUsage;
  }
  return run ? run() : kExitUsage;
}

void AddInit(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  auto* cmd = app.add_subcommand("init", "create a database and its encryption key file");
  AddDbFlags(cmd, &flags);
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, /*create=*/true);
      if (!store.ok()) return Fail(store.status());
      std::cout << "created database " << (*store)->db_dir() << " with key file "
                << StoreOptions(flags).key_file
                << " (mode 0600; keep it apart from backups of the database)\n";
      return kExitOk;
    };
  });
}

void AddImport(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static std::string source, file;
  static bool compact = false;
  static size_t chunk = 250000;
  auto* cmd = app.add_subcommand("import", "import children from a CSV file (every row a new child)");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--source", source, "source name, e.g. births, la_leeds")->required();
  cmd->add_option("file", file, "CSV with a header row")->required();
  cmd->add_flag("--compact", compact, "compact the database afterwards (after bulk loads)");
  cmd->add_option("--chunk", chunk,
                  "rows ingested together as one set of sorted files (memory ~5 KB a row)")
      ->check(CLI::Range(size_t{1}, size_t{10000000}));
  static const std::map<std::string, FileReadBuf::Mode> kReadModes = {
      {"auto", FileReadBuf::Mode::kAuto}, {"io_uring", FileReadBuf::Mode::kIoUring},
      {"read", FileReadBuf::Mode::kRead}};
  static FileReadBuf::Mode read_mode = FileReadBuf::Mode::kAuto;
  cmd->add_option("--read", read_mode,
                  "how the file is read: auto (io_uring read-ahead, else read(2)), io_uring, read")
      ->transform(CLI::CheckedTransformer(kReadModes, CLI::ignore_case));
  cmd->callback([run] {
    *run = [] {
      // The file is opened before the database so that a wrong path changes nothing.
      if (std::ifstream probe(file, std::ios::binary); !probe) {
        return Fail(Status::IOError("cannot read " + file));
      }
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      ImportSummary summary;
      bool uring = false;
      std::string fallback;
      auto start = std::chrono::steady_clock::now();
      Status s = ImportCsvFile(store->get(), source, file, &summary,
                               [](const std::string& msg) { std::cerr << "rejected " << msg << "\n"; },
                               chunk, read_mode, &uring, &fallback);
      std::fprintf(stderr, "import: read %s%s%s\n", uring ? "with io_uring" : "with read(2)",
                   fallback.empty() ? "" : ": ", fallback.c_str());
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (s.ok() && compact) s = (*store)->CompactAll();
      std::fprintf(stderr, "import: %zu rows, %zu imported, %zu rejected in %.2f s (%.0f rows/s)\n",
                   summary.rows, summary.imported, summary.rejected, seconds,
                   seconds > 0 ? summary.rows / seconds : 0.0);
      if (!s.ok()) return Fail(s);
      return summary.rejected == 0 ? kExitOk : kExitFailure;
    };
  });
}

void AddSearch(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static std::string given, family, dob, dob_from, dob_to, gender, postcode, nhs, upn, queries;
  static size_t limit = kDefaultResultCap;
  static int threads = 1;
  static bool json = false, warmup = false, timings = false;
  static size_t cache_mb = 0;
  auto* cmd = app.add_subcommand("search", "bounded search; or a batch of queries from a file");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--given", given, "given name (an initial is enough)");
  cmd->add_option("--family", family, "family name");
  cmd->add_option("--dob", dob, "date of birth, YYYY-MM-DD");
  cmd->add_option("--dob-from", dob_from, "date-of-birth range start (range at most 2 years)");
  cmd->add_option("--dob-to", dob_to, "date-of-birth range end");
  cmd->add_option("--gender", gender, "M or F");
  cmd->add_option("--postcode", postcode, "postcode (never matches a shielded child)");
  cmd->add_option("--nhs-number", nhs, "NHS number (enough on its own)");
  cmd->add_option("--pupil-number", upn, "unique pupil number (enough on its own)");
  cmd->add_option("--limit", limit, "result cap, 1..50 (default 20)");
  cmd->add_flag("--json", json, "print one JSON object");
  cmd->add_option("--queries", queries, "batch mode: a CSV of queries; one JSON line per query");
  cmd->add_option("--threads", threads, "batch mode: worker threads")->check(CLI::Range(1, 256));
  cmd->add_flag("--warmup", warmup,
                "batch mode: run the queries once untimed first, to measure a warm cache");
  cmd->add_option("--cache-mb", cache_mb, "block cache size in MiB (default 256)");
  cmd->add_flag("--timings", timings, "batch mode: add each query's micros and tiers to its line");
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false, cache_mb);
      if (!store.ok()) return Fail(store.status());
      Searcher searcher(store->get());
      if (!queries.empty()) {
        std::ifstream in(queries, std::ios::binary);
        if (!in) return Fail(Status::IOError("cannot read " + queries));
        auto rows = ReadQueryFile(in, limit);
        if (!rows.ok()) return Fail(rows.status());
        BatchStats stats;
        if (warmup) {
          std::ostringstream discard;
          Status s = RunBatch(searcher, *rows, threads, discard, &stats);
          if (!s.ok()) return Fail(s);
          stats = BatchStats();
        }
        Status s = RunBatch(searcher, *rows, threads, std::cout, &stats, timings);
        std::fprintf(stderr,
                     "queries %zu (ok %zu, too_many %zu, invalid %zu, error %zu) threads %d wall %.3f s "
                     "throughput %.0f q/s latency p50 %.1f us p99 %.1f us p99.9 %.1f us max %.1f us\n",
                     stats.queries, stats.ok, stats.too_many, stats.invalid, stats.errors, threads,
                     stats.wall_seconds, stats.throughput(), stats.p50_us, stats.p99_us,
                     stats.p999_us, stats.max_us);
        return s.ok() ? kExitOk : Fail(s);
      }
      SearchCriteria c;
      c.given_name = given;
      c.family_name = family;
      c.postcode = postcode;
      c.nhs_number = nhs;
      c.pupil_number = upn;
      c.limit = limit;
      Status parse;
      for (auto [text, slot] : {std::pair{&dob, &c.date_of_birth}, std::pair{&dob_from, &c.dob_from},
                                std::pair{&dob_to, &c.dob_to}}) {
        if (text->empty() || !parse.ok()) continue;
        auto d = ParseDate(*text);
        if (d.ok()) *slot = *d; else parse = d.status();
      }
      auto g = ParseGender(gender);
      if (parse.ok() && !g) parse = Status::InvalidArgument("gender '" + gender + "' is not M or F");
      if (g) c.gender = *g;
      Result<SearchResponse> r = parse.ok() ? searcher.Search(c, Clearance::Ordinary()) : Result<SearchResponse>(parse);
      if (!r.ok() && !r.status().IsInvalidArgument()) return Fail(r.status());
      if (json) {
        std::cout << (r.ok() ? SearchJson(*r) : InvalidCriteriaJson(r.status().message())).dump(2) << "\n";
      } else if (!r.ok()) {
        std::cerr << "contactpoint: invalid criteria: " << r.status().message() << "\n";
      } else if (r->outcome == SearchOutcome::kTooManyMatches) {
        std::cout << "too many matches (" << r->matches << " or more) — refine the search\n";
      } else {
        std::cout << r->hits.size() << (r->hits.size() == 1 ? " match\n" : " matches\n");
        for (const auto& hit : r->hits) PrintHuman(hit.view, hit.score);
      }
      if (!r.ok()) return kExitUsage;
      return r->outcome == SearchOutcome::kTooManyMatches ? kExitTooMany : kExitOk;
    };
  });
}

void AddGetAndDump(CLI::App& app, std::function<int()>* run) {
  static DbFlags get_flags, dump_flags;
  static std::string id_text;
  static bool json = false;
  auto* get = app.add_subcommand("get", "show one child (hidden fields only if not shielded)");
  AddDbFlags(get, &get_flags);
  get->add_option("child_id", id_text, "child id")->required();
  get->add_flag("--json", json, "print JSON");
  get->callback([run] {
    *run = [] {
      auto id = ParseChildId(id_text);
      if (!id.ok()) return Fail(id.status());
      auto store = OpenStore(get_flags, false);
      if (!store.ok()) return Fail(store.status());
      auto view = (*store)->Get(*id, Clearance::Ordinary());
      if (!view.ok()) return Fail(view.status());
      if (json) std::cout << ChildJson(*view).dump(2) << "\n"; else PrintHuman(*view, -1);
      return kExitOk;
    };
  });
  auto* dump = app.add_subcommand("dump", "every child as JSON lines (no hidden fields of shielded children)");
  AddDbFlags(dump, &dump_flags);
  dump->callback([run] {
    *run = [] {
      auto store = OpenStore(dump_flags, false);
      if (!store.ok()) return Fail(store.status());
      Status s = (*store)->ForEachChild(Clearance::Ordinary(), [](const ChildView& v) {
        std::cout << ChildJson(v).dump() << '\n';
        return static_cast<bool>(std::cout);
      });
      return s.ok() ? kExitOk : Fail(s);
    };
  });
}

void AddCompact(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  auto* cmd = app.add_subcommand("compact", "compact every column family (after a bulk import)");
  AddDbFlags(cmd, &flags);
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto start = std::chrono::steady_clock::now();
      Status s = (*store)->CompactAll();
      if (!s.ok()) return Fail(s);
      std::fprintf(stderr, "compacted in %.2f s; live data %llu bytes\n",
                   std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(),
                   static_cast<unsigned long long>((*store)->LiveDataBytes()));
      for (const auto& [name, bytes] : (*store)->LiveDataBytesByFamily()) {
        if (bytes > 0) std::fprintf(stderr, "  %-14s %llu bytes\n", name.c_str(),
                                    static_cast<unsigned long long>(bytes));
      }
      return kExitOk;
    };
  });
}

// RocksDB's info log is encrypted with the database's files: this is how an operator reads
// it (flushes, compactions, write stalls), also while contactpointd holds the database.
void AddInfoLog(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static bool previous = false;
  auto* cmd = app.add_subcommand(
      "info-log", "print RocksDB's info log of a database (decrypted with its key file)");
  AddDbFlags(cmd, &flags);
  cmd->add_flag("--previous", previous, "the log before the last open (LOG.old)");
  cmd->callback([run] {
    *run = [] {
      const ChildStore::Options options = StoreOptions(flags);
      Status s = ReadInfoLog(options.db_dir, options.key_file, previous, [](std::string_view part) {
        std::fwrite(part.data(), 1, part.size(), stdout);
      });
      if (!s.ok()) return Fail(s);
      return kExitOk;
    };
  });
}

void AddUpgrade(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  auto* cmd = app.add_subcommand("upgrade",
                                 "give a database created by an earlier build the index entries "
                                 "this one reads (birth day and name pair postings, shielded "
                                 "children's district digests)");
  AddDbFlags(cmd, &flags);
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto seconds_since = [](std::chrono::steady_clock::time_point start) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      };
      bool any = false;
      if (!(*store)->HasDayPostings()) {
        auto start = std::chrono::steady_clock::now();
        size_t children = 0;
        Status s = (*store)->AddDayPostings(&children);
        if (!s.ok()) return Fail(s);
        std::printf("birth day and name pair postings written for %zu children in %.2f s\n",
                    children, seconds_since(start));
        any = true;
      }
      // After the day postings, which a shielded child gets without its digest.
      auto start = std::chrono::steady_clock::now();
      size_t shielded = 0;
      Status s = (*store)->AddShieldedDistricts(&shielded);
      if (!s.ok()) return Fail(s);
      if (shielded > 0) {
        std::printf("district digests written for %zu shielded children in %.2f s\n", shielded,
                    seconds_since(start));
        any = true;
      }
      if (!any) {
        std::printf(
            "nothing to upgrade: the database has birth day and name pair postings, and every "
            "shielded child's postings carry its district\n");
      }
      return kExitOk;
    };
  });
}

void AddShield(CLI::App& app, std::function<int()>* run) {
  for (bool shield : {true, false}) {
    static DbFlags flags[2];
    static std::vector<std::string> id_texts[2];
    static std::string by[2], reason[2];
    const int i = shield ? 0 : 1;
    auto* cmd = app.add_subcommand(shield ? "shield" : "unshield",
                                   shield ? "shield children: hide every field that could reveal where each is"
                                          : "lift children's shields");
    AddDbFlags(cmd, &flags[i]);
    cmd->add_option("child_ids", id_texts[i], "child ids: each is its own change, in the order given")->required();
    cmd->add_option("--by", by[i], "organisation setting the shield")->required();
    cmd->add_option("--reason", reason[i], "stated reason")->required();
    cmd->callback([run, i, shield] {
      *run = [i, shield] {
        // Every id is checked before any child is touched.
        std::vector<ChildId> ids;
        for (const auto& text : id_texts[i]) {
          auto id = ParseChildId(text);
          if (!id.ok()) return Fail(id.status());
          ids.push_back(*id);
        }
        if (reason[i].find_first_not_of(" \t") == std::string::npos) {
          return Fail(Status::InvalidArgument("a reason is required"));
        }
        auto store = OpenStore(flags[i], false);
        if (!store.ok()) return Fail(store.status());
        size_t done = 0;
        Status s = (*store)->SetShields(ids, shield, by[i], reason[i], &done);
        for (size_t k = 0; k < done; ++k) std::cout << "child " << ids[k] << (shield ? " shielded\n" : " unshielded\n");
        if (!s.ok()) {
          if (done < ids.size()) {
            std::cerr << "stopped at child " << ids[done]
                      << ": the children before it are done, those after it untouched\n";
          }
          return Fail(s);
        }
        return kExitOk;
      };
    });
  }
}

void AddPhoneticAndGen(CLI::App& app, std::function<int()>* run) {
  static std::vector<std::string> names;
  auto* ph = app.add_subcommand("phonetic", "Double Metaphone codes: NAME<TAB>PRIMARY<TAB>ALTERNATE");
  ph->add_option("names", names, "names")->required();
  ph->callback([run] {
    *run = [] {
      for (const auto& name : names) {
        PhoneticCodes codes = DoubleMetaphone(FoldName(name));
        std::cout << name << '\t' << codes.primary << '\t' << codes.alternate << '\n';
      }
      return kExitOk;
    };
  });

  static GenOptions gen;
  static std::string out, as_of;
  auto* g = app.add_subcommand("gen", "synthetic children in the import format");
  g->add_option("--children", gen.children, "how many")->required();
  g->add_option("--seed", gen.seed, "random seed (same seed, same file)");
  g->add_option("--as-of", as_of, "ages 0..17 on this date (default today)");
  g->add_option("--out", out, "output CSV")->required();
  g->callback([run] {
    *run = [] {
      if (!as_of.empty()) {
        auto d = ParseDate(as_of);
        if (!d.ok()) return Fail(d.status());
        gen.as_of = *d;
      }
      std::ofstream f(out, std::ios::binary);
      if (!f) return Fail(Status::IOError("cannot write " + out));
      Status s = GenerateChildren(gen, f);
      f.close();
      if (s.ok() && !f) s = Status::IOError("writing " + out + " failed");
      return s.ok() ? kExitOk : Fail(s);
    };
  });

  static QueryGenOptions qgen;
  static std::string children_csv, qout;
  auto* q = app.add_subcommand("gen-queries", "noisy queries with their expected answers, from a children CSV");
  q->add_option("--children-csv", children_csv, "children in the import format")->required();
  q->add_option("--count", qgen.queries, "how many queries");
  q->add_option("--seed", qgen.seed, "random seed");
  q->add_option("--fuzzy-share", qgen.fuzzy_share, "share of queries with noise (0..1)");
  q->add_option("--out", qout, "output CSV")->required();
  q->callback([run] {
    *run = [] {
      std::ifstream in(children_csv, std::ios::binary);
      if (!in) return Fail(Status::IOError("cannot read " + children_csv));
      std::ofstream f(qout, std::ios::binary);
      if (!f) return Fail(Status::IOError("cannot write " + qout));
      Status s = GenerateQueries(qgen, in, f);
      return s.ok() ? kExitOk : Fail(s);
    };
  });
}

}  // namespace cp
