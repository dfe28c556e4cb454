// `contactpoint audit verify | query | report`: check the hash chain; who looked at a
// child, and what a user looked at; the misuse report (storage/audit_report.h).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <ctime>
#include <iostream>
#include <nlohmann/json.hpp>

#include "storage/audit_log.h"
#include "storage/audit_report.h"
#include "tools/cli_common.h"
#include "util/date.h"

namespace cp {
namespace {


constexpr int64_t kMicrosPerDay = int64_t{86400} * 1000000;

// "2026-11-28T19:51:04.123456Z".
std::string FormatTime(int64_t micros) {
  time_t seconds = static_cast<time_t>(micros / 1000000);
  tm utc{};
  gmtime_r(&seconds, &utc);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06lldZ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                static_cast<long long>(micros % 1000000));
  return buf;
}

nlohmann::json EntryJson(const AuditEntry& e) {
  nlohmann::json j = {{"sequence", e.sequence},
                      {"time", FormatTime(e.time_micros)},
                      {"user", e.user},
                      {"organisation", e.organisation},
                      {"address", e.source_address},
                      {"action", AuditActionName(e.action)},
                      {"outcome", AuditOutcomeName(e.outcome)},
                      {"children", e.children},
                      {"reason", e.reason},
                      {"criteria", e.criteria}};
  if (e.outcome == AuditOutcome::kRefused) j["refusal"] = AuditRefusalName(e.refusal);
  return j;
}

void PrintEntry(const AuditEntry& e) {
  std::cout << FormatTime(e.time_micros) << "  #" << e.sequence << "  " << e.user;
  if (!e.organisation.empty()) std::cout << " (" << e.organisation << ")";
  std::cout << " from " << e.source_address << "  " << AuditActionName(e.action) << " "
            << AuditOutcomeName(e.outcome);
  if (e.outcome == AuditOutcome::kRefused) std::cout << " (" << AuditRefusalName(e.refusal) << ")";
  if (!e.children.empty()) {
    std::cout << "  children";
    for (size_t i = 0; i < e.children.size(); ++i) std::cout << (i ? "," : " ") << e.children[i];
  }
  if (!e.reason.empty()) std::cout << "  reason \"" << e.reason << "\"";
  if (!e.criteria.empty()) std::cout << "  criteria \"" << e.criteria << "\"";
  std::cout << "\n";
}

void AddAuditVerify(CLI::App* audit, std::function<int()>* run) {
  static DbFlags flags;
  auto* cmd = audit->add_subcommand(
      "verify", "walk the hash chain; exit 0 if intact, 1 with the first altered, removed or moved entry");
  AddDbFlags(cmd, &flags);
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto v = AuditReader(store->get()).Verify();
      if (!v.ok()) return Fail(v.status());
      if (!v->intact) {
        std::cout << "audit chain broken at entry " << v->first_bad << ": " << v->problem << " ("
                  << v->entries << " entries verified before it)\n";
        return kExitFailure;
      }
      std::cout << v->entries << " entries, chain intact";
      if (!v->head_hash_hex.empty()) std::cout << ", head " << v->head_hash_hex;
      std::cout << "\n";
      return kExitOk;
    };
  });
}

void AddQuery(CLI::App* audit, std::function<int()>* run) {
  static DbFlags flags;
  static uint64_t child = 0;
  static std::string user, from, to;
  static size_t limit = 1000;
  static bool json = false;
  auto* cmd = audit->add_subcommand("query", "who looked at a child (--child), or what a user did (--user)");
  AddDbFlags(cmd, &flags);
  auto* by_child = cmd->add_option("--child", child, "child id")->check(CLI::PositiveNumber);
  auto* by_user = cmd->add_option("--user", user, "user name");
  by_child->excludes(by_user);
  cmd->add_option("--from", from, "first day, YYYY-MM-DD (UTC)");
  cmd->add_option("--to", to, "last day, YYYY-MM-DD (UTC), inclusive");
  cmd->add_option("--limit", limit, "at most this many entries (default 1000)")
      ->check(CLI::Range(size_t{1}, size_t{1000000}));
  cmd->add_flag("--json", json, "print one JSON object");
  cmd->callback([run, by_child, by_user] {
    *run = [by_child, by_user] {
      if (by_child->count() == 0 && by_user->count() == 0) {
        return Fail(Status::InvalidArgument("give --child ID or --user NAME"));
      }
      AuditTimeRange range;
      if (!from.empty()) {
        auto d = ParseDate(from);
        if (!d.ok()) return Fail(d.status());
        range.from_micros = std::max<int64_t>(0, d->ToDays() * kMicrosPerDay);
      }
      if (!to.empty()) {
        auto d = ParseDate(to);
        if (!d.ok()) return Fail(d.status());
        range.to_micros = (d->ToDays() + int64_t{1}) * kMicrosPerDay - 1;
      }
      if (range.from_micros > range.to_micros) {
        return Fail(Status::InvalidArgument("--from is after --to"));
      }
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      AuditReader reader(store->get());
      std::vector<AuditEntry> entries;
      bool complete = true;
      Status s = by_child->count() > 0 ? reader.QueryChild(child, range, limit, &entries, &complete)
                                       : reader.QueryUser(user, range, limit, &entries, &complete);
      if (!s.ok()) return Fail(s);
      if (json) {
        nlohmann::json out = {{"entries", nlohmann::json::array()}, {"complete", complete}};
        for (const auto& e : entries) out["entries"].push_back(EntryJson(e));
        std::cout << out.dump(2) << "\n";
      } else {
        for (const auto& e : entries) PrintEntry(e);
        std::cout << entries.size() << (entries.size() == 1 ? " entry" : " entries")
                  << (complete ? "\n" : " (limit reached; more exist)\n");
      }
      return kExitOk;
    };
  });
}

std::string FormatDay(int64_t day) { return FormatTime(day * kMicrosPerDay).substr(0, 10); }

nlohmann::json ReportJson(const AuditReport& r, const AuditReportOptions& o) {
  nlohmann::json out = {{"from", FormatDay(o.from_day)},
                        {"to", FormatDay(o.to_day)},
                        {"entries", r.entries},
                        {"break_glass", nlohmann::json::array()},
                        {"refusals", nlohmann::json::array()},
                        {"shielded_views", nlohmann::json::array()},
                        {"outliers", nlohmann::json::array()},
                        {"rule", {{"factor", o.factor},
                                  {"min_volume", o.min_volume},
                                  {"baseline_days", o.baseline_days}}}};
  for (const auto& e : r.break_glass) out["break_glass"].push_back(EntryJson(e));
  for (const auto& g : r.refusals) {
    out["refusals"].push_back(
        {{"reason", AuditRefusalName(g.reason)}, {"count", g.count}, {"users", g.by_user}});
  }
  for (const auto& v : r.shielded_views) {
    nlohmann::json j = EntryJson(v.entry);
    j["shielded"] = v.shielded;
    out["shielded_views"].push_back(j);
  }
  for (const auto& x : r.outliers) {
    out["outliers"].push_back({{"user", x.user},
                               {"role", x.role},
                               {"day", FormatDay(x.day)},
                               {"volume", x.volume},
                               {"own_median", x.own_median},
                               {"role_median", x.role_median}});
  }
  return out;
}

void PrintReport(const AuditReport& r, const AuditReportOptions& o) {
  std::cout << "audit report " << FormatDay(o.from_day) << " to " << FormatDay(o.to_day) << ": "
            << r.entries << " entries\n";
  std::cout << "\nbreak-glass events: " << r.break_glass.size() << "\n";
  for (const auto& e : r.break_glass) PrintEntry(e);
  uint64_t refused = 0;
  for (const auto& g : r.refusals) refused += g.count;
  std::cout << "\nrefusals: " << refused << "\n";
  for (const auto& g : r.refusals) {
    std::cout << "  " << AuditRefusalName(g.reason) << ": " << g.count << " (";
    bool first = true;
    for (const auto& [user, n] : g.by_user) {
      std::cout << (first ? "" : ", ") << (user.empty() ? "(no user)" : user) << " " << n;
      first = false;
    }
    std::cout << ")\n";
  }
  std::cout << "\nviews of shielded children: " << r.shielded_views.size() << "\n";
  for (const auto& v : r.shielded_views) {
    std::cout << "  shielded";
    for (size_t i = 0; i < v.shielded.size(); ++i) std::cout << (i ? "," : " ") << v.shielded[i];
    std::cout << ": ";
    PrintEntry(v.entry);
  }
  std::cout << "\nvolume far above the user's usual and the role's (more than " << o.factor
            << "x both medians over " << o.baseline_days << " days, at least " << o.min_volume
            << " a day): " << r.outliers.size() << "\n";
  for (const auto& x : r.outliers) {
    std::printf("  %s  %s (%s): %llu (own median %.1f, role median %.1f)\n",
                FormatDay(x.day).c_str(), x.user.c_str(), x.role.c_str(),
                static_cast<unsigned long long>(x.volume), x.own_median, x.role_median);
  }
}

void AddReport(CLI::App* audit, std::function<int()>* run) {
  static DbFlags flags;
  static std::string from, to;
  static bool json = false;
  static AuditReportOptions options;
  auto* cmd = audit->add_subcommand(
      "report", "for misuse monitoring: break-glass events, refusals by reason, views of shielded "
                "children, users far above their usual volume and their role's");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--from", from, "first day, YYYY-MM-DD (UTC)")->required();
  cmd->add_option("--to", to, "last day, YYYY-MM-DD (UTC), inclusive")->required();
  cmd->add_option("--factor", options.factor, "flag volume above this many times both medians (3)")
      ->check(CLI::Range(1.0, 1000.0));
  cmd->add_option("--min-volume", options.min_volume, "never flag a day below this volume (20)");
  cmd->add_option("--baseline-days", options.baseline_days, "days before each day for the medians (28)")
      ->check(CLI::Range(1, 366));
  cmd->add_flag("--json", json, "print one JSON object");
  cmd->callback([run] {
    *run = [] {
      auto first = ParseDate(from);
      if (!first.ok()) return Fail(first.status());
      auto last = ParseDate(to);
      if (!last.ok()) return Fail(last.status());
      options.from_day = first->ToDays();
      options.to_day = last->ToDays();
      if (options.from_day > options.to_day) {
        return Fail(Status::InvalidArgument("--from is after --to"));
      }
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto report = BuildAuditReport(store->get(), options);
      if (!report.ok()) return Fail(report.status());
      if (json) {
        std::cout << ReportJson(*report, options).dump(2) << "\n";
      } else {
        PrintReport(*report, options);
      }
      return kExitOk;
    };
  });
}

}  // namespace

void AddAuditCommands(CLI::App& app, std::function<int()>* run) {
  auto* audit =
      app.add_subcommand("audit", "the audit trail: verify the chain, query by child or user, report");
  audit->require_subcommand(1);
  AddAuditVerify(audit, run);
  AddQuery(audit, run);
  AddReport(audit, run);
}

}  // namespace cp
