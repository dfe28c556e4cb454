// `contactpoint client ...` (the binary, as a subprocess) against the in-process server:
// the same options and --json shapes as the local commands, and exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/server/server_fixture.h"
#include "tests/server/subprocess.h"
#include "tests/server/test_accounts.h"

namespace cp::server::testing {
namespace {

using nlohmann::json;

constexpr int kExitOk = 0, kExitUsage = 2, kExitRefused = 4;

class CliClientTest : public ServerTest {
 protected:
  Output Client(std::vector<std::string> args) {
    std::vector<std::string> argv = {
        CP_CONTACTPOINT_BIN, "client",
        "--server",          "127.0.0.1:" + std::to_string(main_->server->port()),
        "--tls-ca",          cert_,
        "--session-file",    dir_ + "/cli-session"};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProgram(argv, dir_);
  }
  void Login(const std::string& name, const std::string& role) {
    AddUser(name, role);
    LoginAs(name);
  }
  void LoginAs(const std::string& name) {
    const std::string pw = dir_ + "/pw";
    std::ofstream(pw) << Password(name) << "\n";
    Output o = Client({"login", "--user", name, "--password-file", pw, "--totp", Code(name)});
    ASSERT_EQ(o.code, kExitOk) << o.err;
  }
};

TEST_F(CliClientTest, HealthNeedsNoLogin) {
  Output o = Client({"health"});
  EXPECT_EQ(o.code, kExitOk) << o.err;
  EXPECT_NE(o.out.find("serving"), std::string::npos);
}

TEST_F(CliClientTest, LoginKeepsTheTokenInAPrivateFile) {
  Login("cli-login", "la_social_care");
  struct stat st;
  ASSERT_EQ(::stat((dir_ + "/cli-session").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST_F(CliClientTest, SearchAndGetPrintTheLocalJsonShapes) {
  Login("cli-search", "la_social_care");
  Output o = Client({"search", "--given", "Olivia", "--family", "Smith", "--dob", "2016-03-02",
                     "--reason", "cli test", "--json"});
  ASSERT_EQ(o.code, kExitOk) << o.err;
  json j = json::parse(o.out);
  EXPECT_EQ(j["status"], "ok");
  ASSERT_EQ(j["results"].size(), 1u);
  EXPECT_EQ(j["results"][0]["child_id"], olivia_);
  EXPECT_EQ(j["results"][0]["record"]["postcode"], "LS1 1AA");
  Output shielded = Client({"search", "--given", "Lily", "--family", "Evans", "--dob", "2015-05-05",
                            "--reason", "cli test", "--json"});
  ASSERT_EQ(shielded.code, kExitOk) << shielded.err;
  json s = json::parse(shielded.out);
  ASSERT_EQ(s["results"].size(), 1u);
  EXPECT_TRUE(s["results"][0]["shielded"]);
  for (const char* key : {"address", "postcode", "parent_name", "parent_phone", "school",
                          "gp_practice", "services"}) {
    EXPECT_FALSE(s["results"][0]["record"].contains(key)) << key;
  }
  Output get = Client({"get", std::to_string(olivia_), "--reason", "cli test", "--json"});
  ASSERT_EQ(get.code, kExitOk) << get.err;
  EXPECT_EQ(json::parse(get.out)["child_id"], olivia_);
}

TEST_F(CliClientTest, RefusalsHaveTheirExitCodes) {
  Login("cli-refusals", "la_social_care");
  Output invalid = Client({"search", "--family", "Smith", "--reason", "x", "--json"});
  EXPECT_EQ(invalid.code, kExitUsage);
  EXPECT_EQ(json::parse(invalid.out)["status"], "invalid_criteria");
  Output shield = Client({"shield", std::to_string(olivia_), "--reason", "x"});
  EXPECT_EQ(shield.code, kExitRefused);
  EXPECT_NE(shield.err.find("not_authorised"), std::string::npos);
  EXPECT_EQ(Client({"logout"}).code, kExitOk);
  Output after = Client({"get", std::to_string(olivia_), "--reason", "x"});
  EXPECT_NE(after.code, kExitOk);
}

TEST_F(CliClientTest, FeedPrintsTheCountsAndARefusedBatchItsCode) {
  ASSERT_TRUE(AddTestOrganisation(services_, "cli_feed", "127.0.0.0/8").ok());
  AddUserIn("cli-feeder", "feed_supplier", "cli_feed");
  LoginAs("cli-feeder");
  const std::string file = dir_ + "/cli_feed_1.csv";
  std::ofstream(file) << "source_key,given_name,family_name,date_of_birth,gender\n"
                         "K1,Peregrine,Fairweather,2012-08-08,M\n"
                         "K2,Ottoline,Fairweather,2012-13-08,F\n";
  Output o = Client({"feed", "--source", "cli_feed", "--batch", "1", file, "--json"});
  EXPECT_EQ(o.code, 1) << o.err;  // a rejected row: exit 1, as `feed apply`
  json j = json::parse(o.out);
  EXPECT_EQ(j["counts"]["new"], 1);
  EXPECT_EQ(j["counts"]["rejected"], 1);
  ASSERT_EQ(j["rejected_rows"].size(), 1u);
  EXPECT_EQ(j["rejected_rows"][0].get<std::string>().find("2012-13-08"), std::string::npos);
  Output again = Client({"feed", "--source", "cli_feed", "--batch", "1", file});
  EXPECT_EQ(again.code, kExitOk) << again.err;
  EXPECT_NE(again.out.find("applied before"), std::string::npos);
  Output gap = Client({"feed", "--source", "cli_feed", "--batch", "3", file});
  EXPECT_EQ(gap.code, kExitRefused);
  EXPECT_NE(gap.err.find("batch_out_of_sequence"), std::string::npos);
}

TEST_F(CliClientTest, AFeedFileTooLargeForOneFrameIsRefusedBeforeSending) {
  ASSERT_TRUE(AddTestOrganisation(services_, "cli_big", "127.0.0.0/8").ok());
  AddUserIn("cli-big-feeder", "feed_supplier", "cli_big");
  LoginAs("cli-big-feeder");
  const std::string file = dir_ + "/cli_big.csv";
  {
    std::ofstream out(file);
    out << "source_key,given_name,family_name\n";
    for (int i = 0; i < 5000; ++i) out << "K" << i << ",Someone,Longfamilyname" << i << "\n";
  }
  Output o = Client({"feed", "--source", "cli_big", "--batch", "1", file});
  EXPECT_EQ(o.code, kExitUsage);
  EXPECT_NE(o.err.find("split the file into batches"), std::string::npos) << o.err;
  EXPECT_EQ(store_->GetFeedState("cli_big")->last_batch, 0u);
}

TEST_F(CliClientTest, AccountAndReviewCommands) {
  Login("cli-admin", "system_admin");
  Output org = Client({"account", "org-add", "--org", "la_cli", "--name", "CLI Council", "--range",
                       "10.7.0.0/16", "--json"});
  ASSERT_EQ(org.code, kExitOk) << org.err;
  EXPECT_EQ(json::parse(org.out)["ranges"], json::array({"10.7.0.0/16"}));
  Output bad = Client({"account", "range-add", "--org", "la_cli", "10.8.0.1/16"});
  EXPECT_EQ(bad.code, kExitUsage);
  EXPECT_NE(bad.err.find("invalid_request"), std::string::npos);
  const std::string pw = dir_ + "/new-user-pw";
  std::ofstream(pw) << "a long enough password\n";
  Output user = Client({"account", "user-add", "--user", "cli.new", "--org", "la_cli", "--role",
                        "police", "--password-file", pw, "--json"});
  ASSERT_EQ(user.code, kExitOk) << user.err;
  json u = json::parse(user.out);
  EXPECT_EQ(u["totp_secret"].get<std::string>().size(), 32u);
  EXPECT_EQ(u["role"], "police");
  Output role = Client({"account", "set-role", "--user", "cli.new", "--role", "health", "--json"});
  ASSERT_EQ(role.code, kExitOk) << role.err;
  EXPECT_EQ(json::parse(role.out)["role"], "health");
  Output lock = Client({"account", "lock", "--user", "cli.new", "--json"});
  ASSERT_EQ(lock.code, kExitOk) << lock.err;
  EXPECT_EQ(json::parse(lock.out)["locked"], true);
  Output unlock = Client({"account", "unlock", "--user", "cli.new", "--json"});
  EXPECT_EQ(unlock.code, kExitOk) << unlock.err;
  EXPECT_EQ(json::parse(unlock.out)["locked"], false);
  Output unknown = Client({"account", "unlock", "--user", "cli.nobody"});
  EXPECT_EQ(unknown.code, kExitRefused);
  EXPECT_NE(unknown.err.find("not_found"), std::string::npos);
  Output list = Client({"review", "list", "--json"});
  ASSERT_EQ(list.code, kExitOk) << list.err;
  EXPECT_EQ(json::parse(list.out)["status"], "ok");
  Output resolve = Client({"review", "new", "424242", "--reason", "cli test"});
  EXPECT_EQ(resolve.code, kExitRefused);
  EXPECT_NE(resolve.err.find("not_found"), std::string::npos);
}

}  // namespace
}  // namespace cp::server::testing
