// `contactpoint client ...` (the binary, as a subprocess) against the in-process server:
// the same options and --json shapes as the local commands, and exit codes.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "tests/server/server_fixture.h"
#include "tests/server/subprocess.h"

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

}  // namespace
}  // namespace cp::server::testing
