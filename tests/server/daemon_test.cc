// The contactpointd binary: configuration errors, serving, and a clean drain on SIGTERM.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "server/accounts_adapter.h"
#include "server/client.h"
#include "storage/child_store.h"
#include "tests/server/subprocess.h"
#include "tests/server/test_accounts.h"
#include "tests/server/test_store.h"

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
    auto store = OpenTestStore(dir_, true);
    ASSERT_NE(store, nullptr);
    // The server refuses connections from addresses no organisation registered.
    auto services = AccountServices::Open(store.get(), AccountServices::Options());
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    ASSERT_TRUE(AddTestOrganisations(services->get()).ok());
  }
  const std::string config =
      WriteConfig("[server]\nplain_tcp = true\nport = 0\n[database]\ndir = \"" + dir_ + "/db\"\n");
  const std::string err_path = dir_ + "/daemon.err";
  pid_t pid = Spawn({CP_CONTACTPOINTD_BIN, "--config", config}, dir_ + "/daemon.out", err_path);
  ASSERT_GT(pid, 0);
  // The log names the ephemeral port once the server listens. (No std::regex: GCC 12
  // warns falsely inside it in the sanitizer build.)
  const std::string marker = "serving on 127.0.0.1:";
  std::string log;
  for (int i = 0; i < 600 && log.find(marker) == std::string::npos; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    log = Slurp(err_path);
  }
  const size_t at = log.find(marker);
  ASSERT_NE(at, std::string::npos) << log;
  const int port = std::atoi(log.c_str() + at + marker.size());
  ASSERT_GT(port, 0) << log;
  ClientOptions o;
  o.port = static_cast<uint16_t>(port);
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
