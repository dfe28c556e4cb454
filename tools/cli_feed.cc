// `contactpoint feed ...`, `review ...` and `explain`: feeds, the review queue, and why a
// record linked. None of them prints a hidden field: the review queue and explanations
// show names, dates, identifiers, agreement levels and weights, never an address,
// postcode, parent contact or service.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <vector>

#include "ingest/feed_applier.h"
#include "tools/cli_common.h"
#include "tools/feed_csv.h"
#include "util/csv.h"

namespace cp {
namespace {

Clearance ReviewerClearance() {
  return Clearance::Elevated(Clearance::Level::kMatching, "contactpoint review", "review queue");
}

std::string CountsText(const FeedCounts& c) {
  char buf[256];
  std::snprintf(buf, sizeof buf,
                "linked %" PRIu64 ", new %" PRIu64 ", updated %" PRIu64 ", unchanged %" PRIu64
                ", review %" PRIu64 ", withdrawn %" PRIu64 ", rejected %" PRIu64,
                c.linked, c.created, c.updated, c.unchanged, c.review, c.withdrawn, c.rejected);
  return buf;
}

Result<std::string> ReadText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::IOError("cannot read " + path);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The rules and weights every command uses are the database's (StoredFeedOptions). Files
// given to `feed apply --rules/--weights` replace the stored ones first, for good.
Result<FeedOptions> LoadFeedOptions(ChildStore* store, const std::string& rules_file,
                                    const std::string& weights_file) {
  std::optional<std::string> rules, weights;
  if (!rules_file.empty()) {
    auto text = ReadText(rules_file);
    if (!text.ok()) return text.status();
    rules = std::move(*text);
  }
  if (!weights_file.empty()) {
    auto text = ReadText(weights_file);
    if (!text.ok()) return text.status();
    weights = std::move(*text);
  }
  if (rules || weights) {
    Status s = StoreFeedSettings(store, rules, weights);
    if (!s.ok()) return s;
    std::cerr << "stored " << (rules ? "best-view rules" : "") << (rules && weights ? " and " : "")
              << (weights ? "match weights" : "") << " in the database: every later command uses them\n";
  }
  return StoredFeedOptions(*store);
}

// A queued record can hold hundreds of candidates: every shielded child sharing a name code
// with it is compared (a few hundred an item at 1M children with one in a hundred
// shielded), nearly all far below any threshold. By default only those that can bear on a
// decision are listed — every candidate at or above its threshold (`lower`; a shielded one:
// `shield_lower`) and the best kAlwaysListed whatever they score — then how many more there
// are and the best of their totals; `all` lists every one. Thresholds are the stored ones.
constexpr size_t kAlwaysListed = 5;
constexpr const char* kAllHelp =
    "every candidate (by default: those at or above a threshold, and the best five)";

void PrintCandidates(const std::vector<ScoredCandidate>& candidates, const MatchWeights& w,
                     bool all) {
  if (candidates.empty()) std::cout << "  no candidates\n";
  size_t left_out = 0;
  double best_left_out = 0;
  for (size_t i = 0; i < candidates.size(); ++i) {
    const ScoredCandidate& c = candidates[i];
    const double threshold = c.shielded ? w.shield_lower : w.lower;
    if (!all && i >= kAlwaysListed && c.total < threshold) {
      if (left_out++ == 0 || c.total > best_left_out) best_left_out = c.total;
      continue;
    }
    std::printf("  child %" PRIu64 "%s  total %.2f\n", c.child, c.shielded ? " [SHIELDED]" : "", c.total);
    for (const auto& f : c.fields) {
      std::printf("    %-14s %-10s %+6.2f\n", f.field.c_str(), f.level.c_str(), f.weight);
    }
  }
  if (left_out > 0) {
    std::printf(
        "  and %zu more candidate%s below the thresholds (review from %g, from %g against a "
        "shielded child; the best of them %.2f): --all lists them\n",
        left_out, left_out == 1 ? "" : "s", w.lower, w.shield_lower, best_left_out);
  }
}

void PrintVisible(const ChildRecord& r) {
  std::cout << "  " << r.given_name << (r.middle_names.empty() ? "" : " " + r.middle_names) << " "
            << r.family_name << "  born "
            << (r.date_of_birth.empty() ? "unknown" : r.date_of_birth.ToString()) << "  "
            << GenderCode(r.gender) << "\n";
}

void AddFeed(CLI::App& app, std::function<int()>* run) {
  auto* feed = app.add_subcommand("feed", "numbered, idempotent feed batches from one source");
  feed->require_subcommand(1);

  static DbFlags flags;
  static std::string source, rules_file, weights_file;
  static std::vector<std::string> files;
  static uint64_t batch = 0;
  static size_t cache_mb = 1024, threads = 0, window = 128;
  static bool timing = false;
  auto* apply = feed->add_subcommand("apply",
                                     "apply batch N of a source (and N+1, ... given more files): "
                                     "match, link, create or queue for review");
  AddDbFlags(apply, &flags);
  apply->add_option("--source", source, "source name, e.g. births, health, la_leeds")->required();
  apply->add_option("--batch", batch, "batch number of the first file: 1, 2, ... in order")
      ->required();
  apply->add_option("--rules", rules_file, "best-view rules file (field = source, ...)");
  apply->add_option("--weights", weights_file, "matching weights and thresholds file (name = number)");
  apply->add_option("--cache-mb", cache_mb,
                    "block cache size in MiB (default 1024: matching reads name postings and "
                    "candidates all over the database)");
  apply->add_option("--threads", threads, "threads matching rows ahead (default 0: one per core)");
  apply->add_option("--window", window, "rows matched ahead at a time (default 128; 1: one row after another)")
      ->check(CLI::Range(1, 100000));
  apply->add_flag("--timing", timing, "print each batch's time and records a second, on stderr");
  apply
      ->add_option("files", files,
                   "feed CSV: the import columns plus action, date_of_death. Several files are "
                   "batches N, N+1, ... applied one after another by one run (a source's backlog "
                   "after a pause); the first that fails stops the rest")
      ->required();
  apply->callback([run] {
    *run = [] {
      for (const auto& file : files) {
        if (!std::ifstream(file, std::ios::binary))
          return Fail(Status::IOError("cannot read " + file));
      }
      auto store = OpenStore(flags, false, cache_mb);
      if (!store.ok()) return Fail(store.status());
      auto options = LoadFeedOptions(store->get(), rules_file, weights_file);
      if (!options.ok()) return Fail(options.status());
      options->threads = threads;
      options->window = window;
      if (const char* kill = std::getenv("CP_FEED_KILL_AFTER_WRITES")) {
        options->kill_after_writes = std::strtoull(kill, nullptr, 10);
      }
      int code = kExitOk;
      for (size_t i = 0; i < files.size(); ++i) {
        const uint64_t n = batch + i;
        std::ifstream in(files[i], std::ios::binary);
        if (!in) return Fail(Status::IOError("cannot read " + files[i]));
        const auto start = std::chrono::steady_clock::now();
        FeedBatchResult result;
        Status s = ApplyFeedCsv(
            store->get(), *options, source, n, in,
            [](const std::string& m) { std::cerr << m << "\n"; }, &result);
        if (!s.ok()) {
          if (i > 0)
            std::cerr << "contactpoint: stopped at batch " << n << "; batches up to " << n - 1
                      << " are applied\n";
          return Fail(s);
        }
        if (result.already_applied) {
          std::cout << "batch " << n << " of " << source
                    << " was applied before: nothing changed\n";
          continue;
        }
        if (result.resumed_at_row > 0) {
          std::cout << "resumed an interrupted run after row " << result.resumed_at_row << "\n";
        }
        std::cout << "batch " << n << " of " << source << ": " << CountsText(result.counts)
                  << std::endl;
        if (timing) {
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
          const FeedCounts& c = result.counts;
          const uint64_t rows =
              c.linked + c.created + c.updated + c.unchanged + c.review + c.withdrawn + c.rejected;
          std::cerr << "batch " << n << ": " << rows << " rows in " << std::fixed
                    << std::setprecision(2) << seconds << " s, " << std::setprecision(0)
                    << (seconds > 0 ? rows / seconds : 0.0) << " rows/s\n"
                    << std::defaultfloat;
        }
        if (result.counts.rejected > 0) code = kExitFailure;
      }
      return code;
    };
  });

  for (bool pause : {true, false}) {
    static DbFlags pflags[2];
    static std::string psource[2];
    const int i = pause ? 0 : 1;
    auto* cmd = feed->add_subcommand(pause ? "pause" : "resume",
                                     pause ? "refuse a source's batches until resumed" : "accept a paused source's batches again");
    AddDbFlags(cmd, &pflags[i]);
    cmd->add_option("--source", psource[i], "source name")->required();
    cmd->callback([run, i, pause] {
      *run = [i, pause] {
        auto store = OpenStore(pflags[i], false);
        if (!store.ok()) return Fail(store.status());
        auto state = (*store)->GetFeedState(psource[i]);
        if (!state.ok()) return Fail(state.status());
        state->paused = pause;
        Status s = (*store)->PutFeedState(*state);
        if (!s.ok()) return Fail(s);
        std::cout << "source " << psource[i] << (pause ? " paused\n" : " resumed\n");
        return kExitOk;
      };
    });
  }

  static DbFlags sflags;
  auto* status = feed->add_subcommand("status", "every source: last batch, when, counts, paused");
  AddDbFlags(status, &sflags);
  status->callback([run] {
    *run = [] {
      auto store = OpenStore(sflags, false);
      if (!store.ok()) return Fail(store.status());
      std::vector<FeedState> states;
      Status s = (*store)->ListFeedStates(&states);
      if (!s.ok()) return Fail(s);
      if (states.empty()) std::cout << "no feed has applied a batch yet\n";
      for (const auto& st : states) {
        char when[32] = "never";
        if (st.last_unix > 0) {
          std::time_t t = st.last_unix;
          std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
        }
        std::cout << st.source << "  last batch " << st.last_batch << "  at " << when
                  << (st.paused ? "  PAUSED" : "") << "\n    " << CountsText(st.last_counts) << "\n";
        if (st.open_batch != 0) {
          std::cout << "    batch " << st.open_batch << " interrupted after row " << st.next_row
                    << ": resend it to finish\n";
        }
      }
      return kExitOk;
    };
  });
}

void AddReview(CLI::App& app, std::function<int()>* run) {
  auto* review = app.add_subcommand("review", "the review queue: records that could not be matched safely");
  review->require_subcommand(1);

  static DbFlags lflags;
  auto* list = review->add_subcommand("list", "waiting items: id, source, key, best candidate");
  AddDbFlags(list, &lflags);
  list->callback([run] {
    *run = [] {
      auto store = OpenStore(lflags, false);
      if (!store.ok()) return Fail(store.status());
      std::vector<ReviewItem> items;
      Status s = (*store)->ListReview(&items);
      if (!s.ok()) return Fail(s);
      for (const auto& item : items) {
        auto full = (*store)->GetReview(item.id, ReviewerClearance());
        if (!full.ok()) return Fail(full.status());
        auto payload = DecodeReviewPayload(full->payload);
        if (!payload.ok()) return Fail(payload.status());
        auto shielded = ReviewItemShielded(**store, *full, *payload);
        if (!shielded.ok()) return Fail(shielded.status());
        std::cout << item.id << "  " << item.ref.source << "  " << item.ref.key
                  << (*shielded ? "  [SHIELDED]" : "");
        if (!payload->outcome.candidates.empty()) {
          const auto& best = payload->outcome.candidates[0];
          std::printf("  best: child %" PRIu64 " (%.2f)", best.child, best.total);
        }
        std::cout << "  " << payload->outcome.reason << "\n";
      }
      std::cout << items.size() << " waiting\n";
      return kExitOk;
    };
  });

  static DbFlags shflags;
  static uint64_t show_id = 0;
  static bool show_all = false;
  auto* show = review->add_subcommand("show", "one item: the record's names and date, its candidates and weights");
  AddDbFlags(show, &shflags);
  show->add_option("review_id", show_id, "review item id")->required();
  show->add_flag("--all", show_all, kAllHelp);
  show->callback([run] {
    *run = [] {
      auto store = OpenStore(shflags, false);
      if (!store.ok()) return Fail(store.status());
      auto item = (*store)->GetReview(show_id, ReviewerClearance());
      if (!item.ok()) return Fail(item.status());
      auto payload = DecodeReviewPayload(item->payload);
      if (!payload.ok()) return Fail(payload.status());
      auto shielded = ReviewItemShielded(**store, *item, *payload);
      if (!shielded.ok()) return Fail(shielded.status());
      auto options = StoredFeedOptions(**store);
      if (!options.ok()) return Fail(options.status());
      std::cout << "review " << item->id << ": source " << item->ref.source << " key "
                << item->ref.key << (*shielded ? "  [SHIELDED: location fields withheld]" : "")
                << "\n";
      PrintVisible(payload->row.record.record);
      std::cout << "  " << payload->outcome.reason << "\n";
      PrintCandidates(payload->outcome.candidates, options->weights, show_all);
      return kExitOk;
    };
  });

  for (bool link : {true, false}) {
    static DbFlags rflags[2];
    static uint64_t rid[2];
    static std::string child_text;
    const int i = link ? 0 : 1;
    auto* cmd = review->add_subcommand(link ? "link" : "new",
                                       link ? "the record is this child: link it" : "the record is a child of its own");
    AddDbFlags(cmd, &rflags[i]);
    cmd->add_option("review_id", rid[i], "review item id")->required();
    if (link) cmd->add_option("child_id", child_text, "the child it is")->required();
    cmd->callback([run, i, link] {
      *run = [i, link] {
        ChildId child = 0;
        if (link) {
          auto id = ParseChildId(child_text);
          if (!id.ok()) return Fail(id.status());
          child = *id;
        }
        auto store = OpenStore(rflags[i], false);
        if (!store.ok()) return Fail(store.status());
        auto options = StoredFeedOptions(**store);
        if (!options.ok()) return Fail(options.status());
        FeedApplier applier(store->get(), *options);
        FeedCounts counts;
        Status s = applier.ResolveReview(rid[i], child, &counts);
        if (!s.ok()) return Fail(s);
        std::cout << "review " << rid[i] << (link ? " linked to child " + std::to_string(child) : " made a new child")
                  << "\n";
        return kExitOk;
      };
    });
  }
}

void AddExplain(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static std::string source, key;
  auto* cmd = app.add_subcommand("explain", "why a source record linked (or waits): candidates and per-field weights");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--source", source, "source name")->required();
  cmd->add_option("--key", key, "the source's key for the record")->required();
  static bool all = false;
  cmd->add_flag("--all", all, kAllHelp);
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto options = StoredFeedOptions(**store);
      if (!options.ok()) return Fail(options.status());
      const SourceRef ref{source, key};
      auto waiting = (*store)->FindReview(ref, ReviewerClearance());
      if (waiting.ok()) {
        auto payload = DecodeReviewPayload(waiting->payload);
        if (!payload.ok()) return Fail(payload.status());
        std::cout << "source " << source << " key " << key << ": waiting in review (item " << waiting->id
                  << "): " << payload->outcome.reason << "\n";
        PrintCandidates(payload->outcome.candidates, options->weights, all);
        return kExitOk;
      }
      auto link = (*store)->FindSource(source, key);
      if (!link.ok()) {
        return Fail(link.status().IsNotFound()
                        ? Status::NotFound("source " + source + " key " + key + " is neither linked nor in review")
                        : link.status());
      }
      auto record = (*store)->GetSourceRecord(ref, ReviewerClearance());
      if (!record.ok()) return Fail(record.status());
      Matcher matcher(store->get(), options->weights);
      auto outcome = matcher.Match(*record);
      if (!outcome.ok()) return Fail(outcome.status());
      std::cout << "source " << source << " key " << key << ": linked to child " << link->child << "\n";
      std::cout << "matched against the index as it is now: " << MatchDecisionName(outcome->decision)
                << (outcome->decision == MatchDecision::kLink ? " child " + std::to_string(outcome->child) : "")
                << " (" << outcome->reason << "; link at " << matcher.weights().upper << ", review from "
                << matcher.weights().lower << ", from " << matcher.weights().shield_lower
                << " against a shielded child)\n";
      PrintCandidates(outcome->candidates, options->weights, all);
      return kExitOk;
    };
  });
}

void AddDiscrepancies(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static std::string source, out;
  auto* cmd = app.add_subcommand("discrepancies",
                                 "CSV for one source: where its records disagree with the index's best view");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--source", source, "source name")->required();
  cmd->add_option("--out", out, "CSV file to write (default: standard output)");
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      std::ofstream file;
      if (!out.empty()) {
        file.open(out, std::ios::binary | std::ios::trunc);
        if (!file) return Fail(Status::IOError("cannot write " + out));
      }
      std::ostream& os = out.empty() ? std::cout : file;
      os << "source_key,child_id,field,your_value,index_value,index_source\n";
      const Clearance clearance = ReviewerClearance();
      Status inner;
      size_t rows = 0;
      Status s = (*store)->ForEachSourceLink(source, [&](const std::string& key, const SourceLink& link) {
        auto theirs = (*store)->GetSourceRecord({source, key}, clearance);
        auto child = (*store)->Get(link.child, clearance);
        if (!theirs.ok() || !child.ok()) {
          inner = theirs.ok() ? child.status() : theirs.status();
          return false;
        }
        for (const auto& d : FindDiscrepancies(*theirs, child->record, *child->hidden)) {
          os << CsvLine({key, std::to_string(child->record.id), d.field, d.source_value, d.index_value,
                         d.index_source})
             << "\n";
          ++rows;
        }
        return true;
      });
      if (s.ok()) s = inner;
      if (!s.ok()) return Fail(s);
      std::cerr << rows << " discrepancies for source " << source << "\n";
      return kExitOk;
    };
  });
}

void AddMerge(CLI::App& app, std::function<int()>* run) {
  static DbFlags mflags;
  static std::string kept_text, merged_text;
  auto* merge = app.add_subcommand("merge", "two children are one: keep the first id, the second resolves to it");
  AddDbFlags(merge, &mflags);
  merge->add_option("kept", kept_text, "child id kept")->required();
  merge->add_option("merged", merged_text, "child id merged into it")->required();
  merge->callback([run] {
    *run = [] {
      auto kept = ParseChildId(kept_text);
      if (!kept.ok()) return Fail(kept.status());
      auto merged = ParseChildId(merged_text);
      if (!merged.ok()) return Fail(merged.status());
      auto store = OpenStore(mflags, false);
      if (!store.ok()) return Fail(store.status());
      auto options = StoredFeedOptions(**store);
      if (!options.ok()) return Fail(options.status());
      FeedApplier applier(store->get(), *options);
      Status s = applier.Merge(*kept, *merged);
      if (!s.ok()) return Fail(s);
      std::cout << "child " << *merged << " merged into child " << *kept << "\n";
      return kExitOk;
    };
  });

  static DbFlags uflags;
  static std::string child_text, source, key;
  auto* unmerge = app.add_subcommand("unmerge", "detach one source record from a child into a child of its own");
  AddDbFlags(unmerge, &uflags);
  unmerge->add_option("child", child_text, "child id")->required();
  unmerge->add_option("--source", source, "source of the record to detach")->required();
  unmerge->add_option("--key", key, "the source's key for it")->required();
  unmerge->callback([run] {
    *run = [] {
      auto child = ParseChildId(child_text);
      if (!child.ok()) return Fail(child.status());
      auto store = OpenStore(uflags, false);
      if (!store.ok()) return Fail(store.status());
      auto options = StoredFeedOptions(**store);
      if (!options.ok()) return Fail(options.status());
      FeedApplier applier(store->get(), *options);
      auto made = applier.Unmerge(*child, {source, key});
      if (!made.ok()) return Fail(made.status());
      std::cout << "record " << source << " " << key << " detached from child " << *child << " into child "
                << *made << "\n";
      return kExitOk;
    };
  });
}

}  // namespace

void AddFeedCommands(CLI::App& app, std::function<int()>* run) {
  AddFeed(app, run);
  AddReview(app, run);
  AddExplain(app, run);
  AddMerge(app, run);
  AddDiscrepancies(app, run);
}

}  // namespace cp
