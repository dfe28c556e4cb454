#include "tools/cli_retention.h"

#include <CLI/CLI.hpp>
#include <functional>
#include <iostream>

#include "storage/check.h"
#include "storage/retention.h"
#include "tools/cli_common.h"

namespace cp {
namespace {

void PrintIds(const char* label, const std::vector<ChildId>& ids) {
  if (ids.empty()) return;
  std::cout << "  " << label << ":";
  for (ChildId id : ids) std::cout << " " << id;
  std::cout << "\n";
}

// Counts, and in a dry run the ids: never a name or an address.
void PrintReport(const RetentionReport& r) {
  const char* verb = r.dry_run ? "would archive" : "archived";
  std::cout << "retention as of " << r.as_of.ToString()
            << (r.dry_run ? " (dry run: nothing written)" : "") << "\n";
  std::cout << verb << " " << r.ArchivedTotal() << ":";
  for (size_t i = 0; i < kArchiveRuleCount; ++i) {
    std::cout << (i ? ", " : " ") << ArchiveRuleName(static_cast<ArchiveRule>(i)) << " "
              << r.archived[i];
  }
  std::cout << "\n";
  for (size_t i = 0; i < kArchiveRuleCount; ++i) {
    PrintIds(ArchiveRuleName(static_cast<ArchiveRule>(i)), r.archive_ids[i]);
  }
  std::cout << (r.dry_run ? "would delete " : "deleted ") << r.deleted << "\n";
  PrintIds("deleted", r.delete_ids);
  std::cout << "live " << r.live << " (" << r.no_rule << " with no date of birth and no death)\n"
            << "archived, readable by data managers " << r.archived_readable << "\n"
            << "archived, past the data managers' year " << r.archived_kept << "\n";
}

void AddRetention(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static std::string as_of;
  static bool dry_run = false, compact = false;
  auto* retention =
      app.add_subcommand("retention", "the record lifecycle: archive and delete by rule");
  retention->require_subcommand(1);
  auto* cmd = retention->add_subcommand(
      "run",
      "archive children due (18th birthday, 25th with consent, a year after death) and "
      "delete those archived six years; prints counts per rule");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--as-of", as_of, "the day to run as of, YYYY-MM-DD (a daily job: today)")
      ->required();
  cmd->add_flag("--dry-run", dry_run, "decide and print, with child ids; write nothing");
  cmd->add_flag("--compact", compact,
                "after deleting, compact so deleted data leaves the files now");
  cmd->callback([run] {
    *run = [] {
      auto date = ParseDate(as_of);
      if (!date.ok()) return Fail(Status::InvalidArgument("--as-of: " + date.status().message()));
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto report = RunRetention(store->get(), *date, RetentionOptions{dry_run, compact});
      if (!report.ok()) return Fail(report.status());
      PrintReport(*report);
      return kExitOk;
    };
  });
}

void AddCheck(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  auto* cmd = app.add_subcommand(
      "check",
      "verify that indexes, source links and merge records agree with the children; "
      "exit 1 and list the problems (ids only) if not");
  AddDbFlags(cmd, &flags);
  cmd->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      ConsistencyReport report;
      Status s = (*store)->CheckConsistency(&report);
      if (!s.ok()) return Fail(s);
      for (const auto& p : report.problems) {
        std::cout << ProblemKindName(p.kind) << "  " << p.family << "  child " << p.child;
        if (!p.detail.empty()) std::cout << "  " << p.detail;
        std::cout << "\n";
      }
      if (report.problem_count > report.problems.size()) {
        std::cout << "... and " << report.problem_count - report.problems.size() << " more\n";
      }
      std::cout << report.children << " children, " << report.postings << " index entries, "
                << report.source_links << " source links, " << report.merge_records
                << " merge records";
      if (report.looked_up > 0) {
        std::cout << " (the indexes differ from what the records yield: " << report.looked_up
                  << " entries looked up one by one)";
      }
      std::cout << ": ";
      if (report.ok()) {
        std::cout << "consistent\n";
        return kExitOk;
      }
      std::cout << report.problem_count << " problem" << (report.problem_count == 1 ? "" : "s")
                << "\n";
      return kExitFailure;
    };
  });
}

void AddConsent(CLI::App& app, std::function<int()>* run) {
  static DbFlags flags;
  static std::string child, until_25, sensitive;
  auto* cmd = app.add_subcommand(
      "consent",
      "record (yes) or withdraw (no) a young person's consent: to stay on the index until 25 "
      "(care leavers, learning difficulties), or to show their sensitive services (sexual "
      "health, mental health, substance misuse)");
  AddDbFlags(cmd, &flags);
  cmd->add_option("--child", child, "child id")->required();
  auto* to_25 =
      cmd->add_option("--until-25", until_25, "yes or no")->check(CLI::IsMember({"yes", "no"}));
  auto* services = cmd->add_option("--sensitive-services", sensitive,
                                   "yes (consent recorded) or no (refused or withdrawn)")
                       ->check(CLI::IsMember({"yes", "no"}));
  cmd->callback([run, to_25, services] {
    if (to_25->count() == 0 && services->count() == 0) {
      throw CLI::RequiredError("--until-25 or --sensitive-services");
    }
    *run = [] {
      auto id = ParseChildId(child);
      if (!id.ok()) return Fail(id.status());
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      // Each consent is its own write: one refused (an archived child's consent to 25)
      // leaves the other as it was recorded.
      if (!sensitive.empty()) {
        Status s = (*store)->SetSensitiveServicesConsent(*id, sensitive == "yes");
        if (!s.ok()) return Fail(s);
        std::cout << "child " << *id << ": consent to show sensitive services "
                  << (sensitive == "yes" ? "recorded" : "not recorded (refused or withdrawn)")
                  << "\n";
      }
      if (!until_25.empty()) {
        Status s = (*store)->SetConsentTo25(*id, until_25 == "yes");
        if (!s.ok()) return Fail(s);
        std::cout << "child " << *id << ": consent to stay until 25 "
                  << (until_25 == "yes" ? "recorded" : "withdrawn") << "\n";
      }
      return kExitOk;
    };
  });
}

}  // namespace

void AddLifecycleCommands(CLI::App& app, std::function<int()>* run) {
  AddRetention(app, run);
  AddCheck(app, run);
  AddConsent(app, run);
}

}  // namespace cp
