// The contactpointd binary: configuration errors, serving, and a clean drain on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <regex>
#include <thread>

#include "index/index_policy.h"
#include "server/client.h"
#include "storage/child_store.h"
#include "tests/server/subprocess.h"

namespace cp::server::testing {
namespace {

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp_daemon_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string WriteConfig(const std::string& text) {
    const std::string path = dir_ + "/d.toml";
    std::ofstream(path) << text;
    return path;
  }
  Output Daemon(const std::string& config) {
    return RunProgram({CP_CONTACTPOINTD_BIN, "--config", config}, dir_);
  }
  std::string dir_;
};

TEST_F(DaemonTest, AnUnsafeConfigurationIsAUsageError) {
  Output o = Daemon(WriteConfig(
      "[server]\nlisten_address = \"0.0.0.0\"\nplain_tcp = true\n[database]\ndir = \"x\"\n"));
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("loopback"), std::string::npos);
  EXPECT_EQ(Daemon(dir_ + "/missing.toml").code, 2);
}

TEST_F(DaemonTest, AMissingDatabaseIsExitCodeThree) {
  Output o = Daemon(WriteConfig("[server]\nplain_tcp = true\nport = 0\n[database]\ndir = \"" +
                                dir_ + "/nodb\"\n"));
  EXPECT_EQ(o.code, 3) << o.err;
}

TEST_F(DaemonTest, ServesThenDrainsOnSigterm) {
  {
    ChildStore::Options options;
    options.db_dir = dir_ + "/db";
    options.key_file = dir_ + "/db.key";
    options.create = true;
    options.policy = &NameIndexPolicy::Instance();
    auto store = ChildStore::Open(options);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
  }
  const std::string config =
      WriteConfig("[server]\nplain_tcp = true\nport = 0\n[database]\ndir = \"" + dir_ + "/db\"\n");
  const std::string err_path = dir_ + "/daemon.err";
  pid_t pid = Spawn({CP_CONTACTPOINTD_BIN, "--config", config}, dir_ + "/daemon.out", err_path);
  ASSERT_GT(pid, 0);
  // The log names the ephemeral port once the server listens.
  std::smatch m;
  std::string log;
  const std::regex serving("serving on 127\\.0\\.0\\.1:([0-9]+)");
  for (int i = 0; i < 600 && !std::regex_search(log, m, serving); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = Slurp(err_path);
  }
  ASSERT_TRUE(std::regex_search(log, m, serving)) << log;
  ClientOptions o;
  o.port = static_cast<uint16_t>(std::stoi(m[1]));
  o.plain = true;
  auto client = Client::Connect(o);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  auto health = (*client)->Health();
  ASSERT_TRUE(health.ok());
  EXPECT_EQ(health->envelope().body_as_HealthResult()->status()->str(), "serving");
  ASSERT_EQ(kill(pid, SIGTERM), 0);
  EXPECT_EQ(Wait(pid), 0);
  log = Slurp(err_path);
  EXPECT_NE(log.find("drained and stopped"), std::string::npos) << log;
}

}  // namespace
}  // namespace cp::server::testing
