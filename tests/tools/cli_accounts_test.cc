// The `account` and `audit` subcommands end to end: each test runs the contactpoint binary
// against a fresh database and checks exit code and output — and that no password or
// secret ever reaches argv, stdout listings or the audit trail.
#include <fcntl.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "cli_runner.h"
#include "index/index_policy.h"
#include "storage/accounts.h"
#include "storage/child_store.h"

namespace cp {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kPassword[] = "Tr0ub4dor&3 horse staple";

class CliAccountsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp-cli-accounts-test-XXXXXX";
    ASSERT_NE(::mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    db_ = dir_ + "/db";
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  // Runs the binary with `args` and `input` on stdin.
  CliResult Run(const std::vector<std::string>& args, const std::string& input = "") {
    return RunContactpoint(dir_, args, {}, &input);
  }

  // `contactpoint <group> <command> --db <db_> args...`
  CliResult RunDb(const std::string& group, const std::string& command,
                  std::vector<std::string> args = {}, const std::string& input = "") {
    args.insert(args.begin(), {group, command, "--db", db_});
    return Run(args, input);
  }

  // A database with organisation la_leeds (192.0.2.0/24) and user alice (police).
  void CreateDatabaseWithAlice() {
    ASSERT_EQ(Run({"init", "--db", db_}).code, kExitOk);
    CliResult r =
        RunDb("account", "org-add", {"--org", "la_leeds", "--name", "Leeds City Council"});
    ASSERT_EQ(r.code, kExitOk) << r;
    r = RunDb("account", "range-add", {"--org", "la_leeds", "192.0.2.0/24"});
    ASSERT_EQ(r.code, kExitOk) << r;
    r = RunDb("account", "user-add", {"--user", "alice", "--org", "la_leeds", "--role", "police"},
              std::string(kPassword) + "\n");
    ASSERT_EQ(r.code, kExitOk) << r;
    // Not std::regex: GCC 12 warns falsely inside it under the sanitizer build.
    size_t at = r.out.find("secret=");
    ASSERT_NE(at, std::string::npos) << r;
    secret_ = r.out.substr(at + 7, r.out.find('&', at) - at - 7);
    ASSERT_EQ(secret_.size(), 32u) << r;
    EXPECT_EQ(secret_.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"), std::string::npos);
    EXPECT_THAT(r.out, HasSubstr("otpauth://totp/ContactPoint:alice?secret=" + secret_ +
                                 "&issuer=ContactPoint&algorithm=SHA1&digits=6&period=30"));
    EXPECT_THAT(r.out, Not(HasSubstr(kPassword)));
  }

  std::string dir_;
  std::string db_;
  std::string secret_;
};

TEST_F(CliAccountsTest, EverySubcommandHasHelp) {
  for (std::vector<std::string> cmd : {std::vector<std::string>{"account"},
                                       {"account", "org-add"},
                                       {"account", "range-add"},
                                       {"account", "range-remove"},
                                       {"account", "user-add"},
                                       {"account", "set-password"},
                                       {"account", "reset-code"},
                                       {"account", "unlock"},
                                       {"account", "lock"},
                                       {"account", "list"},
                                       {"account", "roles"},
                                       {"audit"},
                                       {"audit", "verify"},
                                       {"audit", "query"}}) {
    cmd.push_back("--help");
    CliResult r = Run(cmd);
    EXPECT_EQ(r.code, kExitOk) << cmd[0] << " " << cmd[1] << "\n" << r;
    EXPECT_THAT(r.out, HasSubstr("Usage")) << cmd[1];
  }
  EXPECT_THAT(Run({"account", "user-add", "--help"}).out, HasSubstr("--password-file"));
  EXPECT_THAT(Run({"audit", "query", "--help"}).out, HasSubstr("--child"));
}

TEST_F(CliAccountsTest, CreateListAndAuditTheFirstUsers) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  CliResult list = RunDb("account", "list");
  ASSERT_EQ(list.code, kExitOk) << list;
  EXPECT_THAT(list.out, HasSubstr("la_leeds"));
  EXPECT_THAT(list.out, HasSubstr("192.0.2.0/24"));
  EXPECT_THAT(list.out, HasSubstr("user alice  org la_leeds  role police"));
  for (const std::string& secret : {std::string(kPassword), secret_, std::string("argon2")}) {
    EXPECT_THAT(list.out, Not(HasSubstr(secret)));
  }
  json j = json::parse(RunDb("account", "list", {"--json"}).out);
  ASSERT_EQ(j["users"].size(), 1u);
  EXPECT_EQ(j["users"][0]["role"], "police");
  EXPECT_EQ(j["users"][0]["locked"], false);
  EXPECT_EQ(j["organisations"][0]["ranges"][0], "192.0.2.0/24");

  CliResult verify = RunDb("audit", "verify");
  ASSERT_EQ(verify.code, kExitOk) << verify;
  EXPECT_THAT(verify.out, ::testing::StartsWith("3 entries, chain intact, head "));

  // The three admin changes are audited, by the local operator, with no secret in them.
  CliResult byop = Run({"audit", "query", "--db", db_, "--user",
                        "local:" + std::string(getpwuid(geteuid())->pw_name), "--json"});
  ASSERT_EQ(byop.code, kExitOk) << byop;
  json q = json::parse(byop.out);
  ASSERT_EQ(q["entries"].size(), 3u);
  EXPECT_EQ(q["complete"], true);
  EXPECT_EQ(q["entries"][0]["action"], "admin");
  EXPECT_EQ(q["entries"][2]["criteria"], "user-add alice org la_leeds role police");
  EXPECT_THAT(byop.out, Not(HasSubstr(kPassword)));
  EXPECT_THAT(byop.out, Not(HasSubstr(secret_)));
}

TEST_F(CliAccountsTest, PasswordFromAFile) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  std::string file = dir_ + "/pw";
  std::ofstream(file) << "another long passphrase\n";
  CliResult r =
      RunDb("account", "user-add",
            {"--user", "bob", "--org", "la_leeds", "--role", "health", "--password-file", file});
  ASSERT_EQ(r.code, kExitOk) << r;
  r = RunDb("account", "set-password", {"--user", "bob", "--password-file", file});
  EXPECT_EQ(r.code, kExitOk) << r;
}

TEST_F(CliAccountsTest, NoPasswordFlag) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  CliResult r =
      RunDb("account", "user-add",
            {"--user", "bob", "--org", "la_leeds", "--role", "health", "--password", kPassword});
  EXPECT_EQ(r.code, kExitUsage) << r;
}

TEST_F(CliAccountsTest, RefusalsAndTheirExitCodes) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  auto expect = [&](int code, const std::string& group, const std::string& cmd,
                    std::vector<std::string> args, const std::string& message,
                    const std::string& input = std::string(kPassword) + "\n") {
    CliResult r = RunDb(group, cmd, args, input);
    EXPECT_EQ(r.code, code) << cmd << "\n" << r;
    EXPECT_THAT(r.err, HasSubstr(message)) << cmd;
    EXPECT_THAT(r.err, Not(HasSubstr(kPassword)));
  };
  expect(kExitUsage, "account", "range-add", {"--org", "la_leeds", "192.0.2.1/24"}, "host bits");
  expect(kExitUsage, "account", "range-add", {"--org", "la_leeds", "nonsense"}, "not a CIDR");
  expect(kExitFailure, "account", "range-add", {"--org", "nowhere", "198.51.100.0/24"},
         "no organisation");
  expect(kExitFailure, "account", "org-add", {"--org", "la_leeds", "--name", "Again"}, "exists");
  expect(kExitUsage, "account", "org-add", {"--org", "LA Leeds", "--name", "X"}, "organisation id");
  expect(kExitUsage, "account", "user-add",
         {"--user", "bob", "--org", "la_leeds", "--role", "wizard"}, "unknown role");
  expect(kExitFailure, "account", "user-add",
         {"--user", "bob", "--org", "nowhere", "--role", "police"}, "no organisation");
  expect(kExitFailure, "account", "user-add",
         {"--user", "alice", "--org", "la_leeds", "--role", "police"}, "exists");
  expect(kExitUsage, "account", "user-add",
         {"--user", "bob", "--org", "la_leeds", "--role", "police"}, "at least 12", "short\n");
  expect(kExitUsage, "account", "user-add",
         {"--user", "bob", "--org", "la_leeds", "--role", "police"}, "no password", "");
  expect(kExitFailure, "account", "unlock", {"--user", "nobody"}, "no user");
  expect(kExitUsage, "audit", "query", {}, "--child ID or --user NAME");
  expect(kExitUsage, "audit", "query", {"--user", "alice", "--from", "2026-02-30"}, "2026-02-30");
  expect(kExitUsage, "audit", "query",
         {"--user", "alice", "--from", "2026-03-02", "--to", "2026-03-01"}, "after");
  CliResult both = RunDb("audit", "query", {"--user", "alice", "--child", "3"});
  EXPECT_EQ(both.code, kExitUsage) << both;
  // Refused changes are not audited.
  EXPECT_THAT(RunDb("audit", "verify").out, ::testing::StartsWith("3 entries"));
}

TEST_F(CliAccountsTest, UnlockAfterLockout) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  {
    ChildStore::Options o;
    o.db_dir = db_;
    o.key_file = db_ + ".key";
    o.policy = &NameIndexPolicy::Instance();
    auto store = ChildStore::Open(o);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto accounts = Accounts::Open(store->get());
    ASSERT_TRUE(accounts.ok());
    IpAddress from = *ParseIpAddress("192.0.2.9");
    for (int i = 0; i < 5; ++i) {
      EXPECT_EQ((*accounts)->CheckPassword("alice", "not the password", from).error,
                AuthError::kBadCredentials);
    }
    EXPECT_TRUE((*accounts)->GetUser("alice")->locked);
  }
  EXPECT_THAT(RunDb("account", "list").out, HasSubstr("LOCKED"));
  CliResult r = RunDb("account", "unlock", {"--user", "alice"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(RunDb("account", "list").out, Not(HasSubstr("LOCKED")));
  r = RunDb("account", "lock", {"--user", "alice"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(RunDb("account", "list").out, HasSubstr("LOCKED"));
}

TEST_F(CliAccountsTest, ResetCodePrintsANewSecret) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  CliResult r = RunDb("account", "reset-code", {"--user", "alice"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("otpauth://"));
  EXPECT_THAT(r.out, Not(HasSubstr(secret_)));
}

TEST_F(CliAccountsTest, QueryByUserWithDatesAndByChild) {
  ASSERT_NO_FATAL_FAILURE(CreateDatabaseWithAlice());
  const std::string op = "local:" + std::string(getpwuid(geteuid())->pw_name);
  CliResult r = Run(
      {"audit", "query", "--db", db_, "--user", op, "--from", "2000-01-01", "--to", "2000-12-31"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("0 entries"));
  r = Run({"audit", "query", "--db", db_, "--user", op, "--limit", "2"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("2 entries (limit reached; more exist)"));
  EXPECT_THAT(r.out, HasSubstr("admin ok"));
  r = Run({"audit", "query", "--db", db_, "--child", "12"});
  ASSERT_EQ(r.code, kExitOk) << r;
  EXPECT_THAT(r.out, HasSubstr("0 entries"));
}

TEST_F(CliAccountsTest, RolesTableListsEveryRole) {
  CliResult r = Run({"account", "roles"});
  ASSERT_EQ(r.code, kExitOk) << r;
  for (const auto& p : AllRolePolicies()) EXPECT_THAT(r.out, HasSubstr(std::string(p.name)));
  EXPECT_THAT(r.out, HasSubstr("break-glass"));
}

}  // namespace
}  // namespace cp
