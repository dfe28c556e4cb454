// `contactpoint account ...`: organisations, ranges and users. Every change is also
// appended to the audit trail as an admin entry by the local operator (user
// "local:<login name>", address "local"), with no secret in it.
#include "tools/cli_accounts.h"

#include <pwd.h>
#include <termios.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "storage/accounts.h"
#include "storage/audit_log.h"
#include "tools/cli_common.h"
#include "util/totp.h"

namespace cp {

void AddAuditCommands(CLI::App& app, std::function<int()>* run);

namespace {


std::string OperatorName() {
  const passwd* pw = ::getpwuid(::geteuid());
  return std::string("local:") + (pw != nullptr ? pw->pw_name : std::to_string(::geteuid()));
}

// The first line of `path`, or of standard input when `path` is empty (with echo off when
// it is a terminal). The password never appears in argv, where `ps` would show it.
Result<std::string> ReadPassword(const std::string& path) {
  std::string line;
  if (!path.empty()) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::IOError("cannot read " + path);
    std::getline(in, line);
  } else if (::isatty(STDIN_FILENO)) {
    termios old{};
    ::tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::cerr << "password: " << std::flush;
    std::getline(std::cin, line);
    ::tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
  } else {
    std::getline(std::cin, line);
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) return Status::InvalidArgument("no password given (--password-file or stdin)");
  return line;
}

// Opens the store, accounts and audit log; runs `change`; records `detail` as an admin
// entry when the change succeeded.
int AdminChange(const DbFlags& flags, const std::string& detail,
                const std::function<Status(Accounts*)>& change) {
  auto store = OpenStore(flags, false);
  if (!store.ok()) return Fail(store.status());
  auto accounts = Accounts::Open(store->get());
  if (!accounts.ok()) return Fail(accounts.status());
  auto log = AuditLog::Open(store->get());
  if (!log.ok()) return Fail(log.status());
  Status s = change(accounts->get());
  if (!s.ok()) return Fail(s);
  AuditEntry e;
  e.user = OperatorName();
  e.source_address = "local";
  e.action = AuditAction::kAdmin;
  e.criteria = detail;
  auto seq = (*log)->Append(e);
  if (!seq.ok()) return Fail(seq.status());
  return kExitOk;
}

void PrintSecret(const std::string& user, const std::string& secret) {
  std::cout << "TOTP secret (shown once; enter it in the user's authenticator app): " << secret
            << "\n"
            << TotpProvisioningUri(user, secret) << "\n";
}

void AddOrgCommands(CLI::App* account, std::function<int()>* run) {
  static DbFlags flags;
  static std::string org, name;
  auto* add = account->add_subcommand("org-add", "register an organisation");
  AddDbFlags(add, &flags);
  add->add_option("--org", org, "organisation id: a-z, 0-9, '_', '-' (e.g. la_leeds)")->required();
  add->add_option("--name", name, "display name (e.g. \"Leeds City Council\")")->required();
  add->callback([run] {
    *run = [] {
      int rc = AdminChange(flags, "org-add " + org,
                           [](Accounts* a) { return a->AddOrganisation(org, name); });
      if (rc == kExitOk) std::cout << "organisation " << org << " added\n";
      return rc;
    };
  });

  for (bool adding : {true, false}) {
    static DbFlags range_flags[2];
    static std::string range_org[2], cidr[2];
    const int i = adding ? 0 : 1;
    auto* cmd = account->add_subcommand(adding ? "range-add" : "range-remove",
                                        adding ? "register an IP range (CIDR) for an organisation"
                                               : "remove a registered IP range");
    AddDbFlags(cmd, &range_flags[i]);
    cmd->add_option("--org", range_org[i], "organisation id")->required();
    cmd->add_option("cidr", cidr[i], "range, e.g. 192.0.2.0/24 or 2001:db8::/48")->required();
    cmd->callback([run, i, adding] {
      *run = [i, adding] {
        std::string verb = adding ? "range-add " : "range-remove ";
        int rc = AdminChange(range_flags[i], verb + range_org[i] + " " + cidr[i], [&](Accounts* a) {
          return adding ? a->AddRange(range_org[i], cidr[i])
                        : a->RemoveRange(range_org[i], cidr[i]);
        });
        if (rc == kExitOk)
          std::cout << cidr[i] << (adding ? " registered for " : " removed from ") << range_org[i]
                    << "\n";
        return rc;
      };
    });
  }
}

void AddUserCommands(CLI::App* account, std::function<int()>* run) {
  static DbFlags flags;
  static std::string user, org, role_name, password_file;
  auto* add = account->add_subcommand(
      "user-add", "create a user; prints the TOTP secret once (password from --password-file or stdin)");
  AddDbFlags(add, &flags);
  add->add_option("--user", user, "user name: A-Z, a-z, 0-9, '.', '_', '@', '-'")->required();
  add->add_option("--org", org, "organisation id")->required();
  add->add_option("--role", role_name, "role (see `contactpoint account roles`)")->required();
  add->add_option("--password-file", password_file,
                  "file whose first line is the password (default: stdin)");
  add->callback([run] {
    *run = [] {
      auto role = ParseRole(role_name);
      if (!role)
        return Fail(Status::InvalidArgument("unknown role '" + role_name +
                                            "' (see `contactpoint account roles`)"));
      auto password = ReadPassword(password_file);
      if (!password.ok()) return Fail(password.status());
      std::string secret;
      int rc = AdminChange(flags, "user-add " + user + " org " + org + " role " + role_name,
                           [&](Accounts* a) {
                             auto s = a->AddUser(user, org, *role, *password);
                             if (!s.ok()) return s.status();
                             secret = std::move(*s);
                             return Status::OK();
                           });
      if (rc != kExitOk) return rc;
      std::cout << "user " << user << " added to " << org << " as " << role_name << "\n";
      PrintSecret(user, secret);
      return kExitOk;
    };
  });

  static DbFlags pw_flags;
  static std::string pw_user, pw_file;
  auto* pw = account->add_subcommand("set-password", "replace a user's password (from --password-file or stdin)");
  AddDbFlags(pw, &pw_flags);
  pw->add_option("--user", pw_user, "user name")->required();
  pw->add_option("--password-file", pw_file,
                 "file whose first line is the password (default: stdin)");
  pw->callback([run] {
    *run = [] {
      auto password = ReadPassword(pw_file);
      if (!password.ok()) return Fail(password.status());
      int rc = AdminChange(pw_flags, "set-password " + pw_user,
                           [&](Accounts* a) { return a->SetPassword(pw_user, *password); });
      if (rc == kExitOk) std::cout << "password of " << pw_user << " replaced\n";
      return rc;
    };
  });

  static DbFlags code_flags;
  static std::string code_user;
  auto* code = account->add_subcommand("reset-code", "give a user a new TOTP secret (printed once)");
  AddDbFlags(code, &code_flags);
  code->add_option("--user", code_user, "user name")->required();
  code->callback([run] {
    *run = [] {
      std::string secret;
      int rc = AdminChange(code_flags, "reset-code " + code_user, [&](Accounts* a) {
        auto s = a->ResetSecondFactor(code_user);
        if (!s.ok()) return s.status();
        secret = std::move(*s);
        return Status::OK();
      });
      if (rc == kExitOk) PrintSecret(code_user, secret);
      return rc;
    };
  });

  for (bool unlock : {true, false}) {
    static DbFlags lock_flags[2];
    static std::string lock_user[2];
    const int i = unlock ? 0 : 1;
    auto* cmd = account->add_subcommand(unlock ? "unlock" : "lock",
                                        unlock ? "unlock a user and clear the failure count"
                                               : "lock a user (a leaver, a suspected compromise)");
    AddDbFlags(cmd, &lock_flags[i]);
    cmd->add_option("--user", lock_user[i], "user name")->required();
    cmd->callback([run, i, unlock] {
      *run = [i, unlock] {
        int rc = AdminChange(
            lock_flags[i], std::string(unlock ? "unlock " : "lock ") + lock_user[i],
            [&](Accounts* a) { return unlock ? a->Unlock(lock_user[i]) : a->Lock(lock_user[i]); });
        if (rc == kExitOk) std::cout << lock_user[i] << (unlock ? " unlocked\n" : " locked\n");
        return rc;
      };
    });
  }
}

void AddListCommands(CLI::App* account, std::function<int()>* run) {
  static DbFlags flags;
  static bool json = false;
  auto* list = account->add_subcommand("list", "organisations, their ranges and users (never a hash or secret)");
  AddDbFlags(list, &flags);
  list->add_flag("--json", json, "print one JSON object");
  list->callback([run] {
    *run = [] {
      auto store = OpenStore(flags, false);
      if (!store.ok()) return Fail(store.status());
      auto accounts = Accounts::Open(store->get());
      if (!accounts.ok()) return Fail(accounts.status());
      std::vector<Organisation> orgs;
      std::vector<Account> users;
      Status s = (*accounts)->ListOrganisations(&orgs);
      if (s.ok()) s = (*accounts)->ListUsers(&users);
      if (!s.ok()) return Fail(s);
      nlohmann::json out = {{"organisations", nlohmann::json::array()},
                            {"users", nlohmann::json::array()}};
      for (const auto& o : orgs) {
        nlohmann::json ranges = nlohmann::json::array();
        for (const auto& r : o.ranges) ranges.push_back(r.ToString());
        out["organisations"].push_back(
            {{"id", o.id}, {"name", o.display_name}, {"ranges", ranges}});
        if (!json) {
          std::cout << "organisation " << o.id << "  \"" << o.display_name << "\"  ranges:";
          for (const auto& r : o.ranges) std::cout << " " << r.ToString();
          std::cout << (o.ranges.empty() ? " none\n" : "\n");
        }
      }
      for (const auto& u : users) {
        const char* role = PolicyFor(u.role).name.data();
        out["users"].push_back({{"user", u.user},
                                {"organisation", u.organisation},
                                {"role", role},
                                {"locked", u.locked},
                                {"failed_attempts", u.failed_attempts}});
        if (!json) {
          std::cout << "user " << u.user << "  org " << u.organisation << "  role " << role
                    << (u.locked ? "  LOCKED" : "") << "  failed attempts " << u.failed_attempts
                    << "\n";
        }
      }
      if (json) std::cout << out.dump(2) << "\n";
      return kExitOk;
    };
  });

  auto* roles = account->add_subcommand(
      "roles", "the roles, their permitted operations, result caps and daily quotas");
  roles->callback([run] {
    *run = [] {
      static const std::pair<Operation, const char*> kOps[] = {
          {Operation::kSearch, "search"},
          {Operation::kGetRecord, "get"},
          {Operation::kShield, "shield"},
          {Operation::kBreakGlass, "break-glass"},
          {Operation::kFeedBatch, "feed-batch"},
          {Operation::kReview, "review"},
          {Operation::kAccountAdmin, "account-admin"}};
      for (const auto& p : AllRolePolicies()) {
        std::string ops;
        for (const auto& [op, name] : kOps) {
          if (Permits(p.role, op)) ops += (ops.empty() ? "" : ",") + std::string(name);
        }
        std::printf("%-18s %-40s cap %2u  quota %4u/day  %s\n", std::string(p.name).c_str(),
                    std::string(p.description).c_str(), p.result_cap, p.daily_searches,
                    ops.c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace

void AddAccountCommands(CLI::App& app, std::function<int()>* run) {
  auto* account = app.add_subcommand("account", "organisations, IP ranges, users and roles");
  account->require_subcommand(1);
  AddOrgCommands(account, run);
  AddUserCommands(account, run);
  AddListCommands(account, run);
  AddAuditCommands(app, run);
}

}  // namespace cp
