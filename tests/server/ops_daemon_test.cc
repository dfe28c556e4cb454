// The contactpointd binary's operations side: the metrics endpoint scraped after real
// requests, JSON-lines logs free of personal data, a refused non-loopback metrics bind,
// and SIGHUP reloads that keep connections and sessions.
#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "server/accounts_adapter.h"
#include "server/client.h"
#include "storage/child_store.h"
#include "tests/server/ops_helpers.h"
#include "tests/server/server_fixture.h"
#include "tests/server/subprocess.h"
#include "tests/server/test_accounts.h"
#include "tests/server/test_store.h"
#include "util/totp.h"

namespace cp::server::testing {
namespace {

constexpr const char* kUser = "ops_amy";
constexpr const char* kPassword = "correct horse battery";

class OpsDaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/cp_ops_daemon_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
  }
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      Wait(pid_);
    }
    std::filesystem::remove_all(dir_);
  }

  // A database with the test organisations and one user (whose TOTP secret is kept).
  void MakeDatabase() {
    auto store = OpenTestStore(dir_, true);
    ASSERT_NE(store, nullptr);
    auto services = AccountServices::Open(store.get(), AccountServices::Options());
    ASSERT_TRUE(services.ok()) << services.status().ToString();
    ASSERT_TRUE(AddTestOrganisations(services->get()).ok());
    auto secret = AddTestUser(services->get(), kUser, "la_leeds", "la_social_care", kPassword);
    ASSERT_TRUE(secret.ok()) << secret.status().ToString();
    secret_ = *secret;
  }

  std::string Config(const std::string& extra) {
    return "[server]\nplain_tcp = true\nport = 0\n[database]\ndir = \"" + dir_ + "/db\"\n" + extra;
  }
  void WriteConfig(const std::string& text) { std::ofstream(dir_ + "/d.toml") << text; }

  // Starts the daemon and waits until the log names both ports.
  void StartDaemon() {
    pid_ =
        Spawn({CP_CONTACTPOINTD_BIN, "--config", dir_ + "/d.toml"}, dir_ + "/out", dir_ + "/err");
    ASSERT_GT(pid_, 0);
    server_port_ = WaitForPort("serving on 127.0.0.1:");
    metrics_port_ = WaitForPort("metrics on 127.0.0.1:");
    ASSERT_GT(server_port_, 0) << Log();
    ASSERT_GT(metrics_port_, 0) << Log();
  }
  int WaitForPort(const std::string& marker) {
    std::string log;
    for (int i = 0; i < 600 && log.find(marker) == std::string::npos; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
      log = Log();
    }
    const size_t at = log.find(marker);
    return at == std::string::npos ? 0 : std::atoi(log.c_str() + at + marker.size());
  }
  // Waits until the log holds `text` `count` times.
  bool WaitForLog(const std::string& text, int count = 1) {
    for (int i = 0; i < 200; ++i) {
      const std::string log = Log();
      int n = 0;
      for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
      if (n >= count) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return false;
  }
  std::string Log() { return Slurp(dir_ + "/err"); }

  std::unique_ptr<Client> Connect() {
    ClientOptions o;
    o.port = static_cast<uint16_t>(server_port_);
    o.plain = true;
    auto c = Client::Connect(o);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? std::move(*c) : nullptr;
  }
  std::string Code() {
    auto key = Base32Decode(secret_);
    EXPECT_TRUE(key.ok());
    const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return TotpCodeAt(*key, TotpStep(now));
  }
  Exposition Scrape() {
    HttpReply r = HttpGet(static_cast<uint16_t>(metrics_port_), "/metrics");
    EXPECT_EQ(r.status, 200);
    Exposition e = ParseExposition(r.body);
    EXPECT_TRUE(e.problems.empty()) << e.problems.front();
    return e;
  }

  std::string dir_;
  std::string secret_;
  pid_t pid_ = -1;
  int server_port_ = 0;
  int metrics_port_ = 0;
};

TEST_F(OpsDaemonTest, ANonLoopbackMetricsBindIsRefused) {
  WriteConfig(Config("[metrics]\nlisten = \"0.0.0.0:9464\"\n"));
  Output o = RunProgram({CP_CONTACTPOINTD_BIN, "--config", dir_ + "/d.toml"}, dir_);
  EXPECT_EQ(o.code, 2);
  EXPECT_NE(o.err.find("metrics.listen must be a loopback address"), std::string::npos) << o.err;
  // The refusal is itself a JSON line.
  EXPECT_EQ(o.err.rfind("{\"ts\":", 0), 0u) << o.err;
}

TEST_F(OpsDaemonTest, ScrapedCountersMoveAndTheLogHoldsNoPersonalData) {
  ASSERT_NO_FATAL_FAILURE(MakeDatabase());
  // Every request of 1 ms or more is logged: the logins (Argon2) are.
  WriteConfig(Config("[metrics]\nlisten = \"127.0.0.1:0\"\n[log]\nslow_request_ms = 1\n"));
  StartDaemon();
  EXPECT_EQ(HttpGet(static_cast<uint16_t>(metrics_port_), "/health").status, 200);
  EXPECT_EQ(HttpGet(static_cast<uint16_t>(metrics_port_), "/ready").status, 200);
  const Exposition before = Scrape();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(client->Health().ok());
  // A wrong password: refused (bad_credentials) and audited.
  auto bad = client->LogIn(kUser, "not the password", "000000");
  ASSERT_FALSE(bad.ok() && CodeOf(bad) == protocol::ErrorCode::None);
  auto good = client->LogIn(kUser, kPassword, Code());
  ASSERT_TRUE(good.ok()) << good.status().ToString();
  ASSERT_EQ(CodeOf(good), protocol::ErrorCode::None);
  auto missing = client->GetRecord(987654321, "section 47 enquiry for Jane Doe");
  EXPECT_EQ(CodeOf(missing), protocol::ErrorCode::NotFound);

  const Exposition after = Scrape();
  const std::string health = "contactpointd_requests_total{type=\"Health\",outcome=\"ok\"}";
  EXPECT_EQ(after.Get(health) - before.Get(health), 3);
  EXPECT_EQ(after.Get("contactpointd_requests_total{type=\"Login\",outcome=\"error\"}"), 1);
  EXPECT_EQ(after.Get("contactpointd_requests_total{type=\"SecondFactor\",outcome=\"ok\"}"), 1);
  EXPECT_EQ(after.Get("contactpointd_requests_total{type=\"GetRecord\",outcome=\"error\"}"), 1);
  EXPECT_EQ(after.Get("contactpointd_refusals_total{reason=\"bad_credentials\"}"), 1);
  EXPECT_EQ(after.Get("contactpointd_refusals_total{reason=\"not_found\"}"), 1);
  EXPECT_EQ(after.Get("contactpointd_request_duration_seconds_count{type=\"Health\"}"),
            after.Get(health));
  // Three appends: the refused login, the login, the record view.
  EXPECT_EQ(after.Get("contactpointd_audit_append_duration_seconds_count") -
                before.Get("contactpointd_audit_append_duration_seconds_count"),
            3);
  EXPECT_EQ(after.Get("contactpointd_open_connections"), 1);
  EXPECT_EQ(after.Get("contactpointd_open_sessions"), 1);
  EXPECT_EQ(after.Get("contactpointd_ready"), 1);
  EXPECT_EQ(after.Get("contactpointd_review_queue_items"), 0);
  EXPECT_GE(after.Get("contactpointd_rocksdb_pending_compaction_bytes"), 0);
  EXPECT_GT(after.Get("contactpointd_rocksdb_block_cache_hits_total") +
                after.Get("contactpointd_rocksdb_block_cache_misses_total"),
            0);  // statistics are on: the reads above were counted
  EXPECT_GT(after.Get("contactpointd_rocksdb_block_cache_capacity_bytes"), 0);
  EXPECT_GE(after.Get("contactpointd_rocksdb_flushes_total"), 0);
  EXPECT_EQ(after.Get("contactpointd_rocksdb_write_stopped"), 0);
  EXPECT_GE(after.Get("contactpointd_rocksdb_level0_files"), 0);

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(pid_), 0);
  pid_ = -1;
  // Every line one JSON object; no user id, password, code, reason or name in any.
  std::istringstream lines(Log());
  int n = 0;
  for (std::string line; std::getline(lines, line); ++n) {
    EXPECT_EQ(line.rfind("{\"ts\":\"", 0), 0u) << line;
    EXPECT_EQ(line.back(), '}') << line;
    EXPECT_NE(line.find("\"level\":"), std::string::npos) << line;
    EXPECT_NE(line.find("\"msg\":"), std::string::npos) << line;
  }
  EXPECT_GE(n, 3);  // metrics, serving, draining, stopped
  const std::string log = Log();
  for (const char* secret :
       {kUser, kPassword, "not the password", "Jane Doe", "section 47", "987654321"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << secret << " in\n" << log;
  }
  EXPECT_NE(log.find("\"event\":\"stopped\""), std::string::npos) << log;
  // The logins took over 1 ms: each is logged by its type and duration, nothing else.
  EXPECT_NE(log.find("\"event\":\"slow_request\",\"type\":\"Login\",\"ms\":"), std::string::npos)
      << log;
  // Closing the store flushed the audit appends above: RocksDB's flush is logged by its
  // column family.
  EXPECT_NE(log.find("\"event\":\"rocksdb_flush\",\"family\":\"audit\",\"reason\":"),
            std::string::npos)
      << log;
}

TEST_F(OpsDaemonTest, SighupAppliesLimitsAndKeepsConnectionsSessionsAndABadFileOut) {
  ASSERT_NO_FATAL_FAILURE(MakeDatabase());
  const std::string limits = "[limits]\nrate_per_second = 0.001\nrate_burst = ";
  WriteConfig(Config("[metrics]\nlisten = \"127.0.0.1:0\"\n" + limits + "100.0\n"));
  StartDaemon();
  auto client = Connect();
  ASSERT_NE(client, nullptr);
  auto login = client->LogIn(kUser, kPassword, Code());
  ASSERT_EQ(CodeOf(login), protocol::ErrorCode::None) << login.status().ToString();
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(CodeOf(client->GetRecord(0, "check")), protocol::ErrorCode::NotFound);

  // A burst of 2 and one connection at most; the port changes too, which needs a restart.
  WriteConfig(Config("[metrics]\nlisten = \"127.0.0.1:0\"\n" + limits + "2.0\n") +
              "[sessions]\nidle_timeout_s = 600\n");
  std::string text = Slurp(dir_ + "/d.toml");
  text.insert(text.find("port = 0"), "max_connections = 1\n");
  text.replace(text.find("port = 0"), 8, "port = 1");
  WriteConfig(text);
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitForLog("\"event\":\"reloaded\"")) << Log();
  EXPECT_NE(Log().find("server.port changed and takes effect at the next restart"),
            std::string::npos)
      << Log();
  // The same connection and session: two tokens left, then refused.
  EXPECT_EQ(CodeOf(client->GetRecord(0, "check")), protocol::ErrorCode::NotFound);
  EXPECT_EQ(CodeOf(client->GetRecord(0, "check")), protocol::ErrorCode::NotFound);
  EXPECT_EQ(CodeOf(client->GetRecord(0, "check")), protocol::ErrorCode::RateLimited);
  // The connection limit of 1 is reached: a second connection is closed unserved.
  {
    ClientOptions o;
    o.port = static_cast<uint16_t>(server_port_);
    o.plain = true;
    auto second = Client::Connect(o);
    if (second.ok()) {
      EXPECT_FALSE((*second)->Health().ok());
    }
  }
  EXPECT_TRUE(client->Health().ok());

  // A file that does not parse: logged, the running config kept.
  WriteConfig("[server\nthis is not toml");
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitForLog("\"event\":\"reload_failed\"")) << Log();
  EXPECT_NE(Log().find("the running configuration is kept"), std::string::npos);
  // An unsafe one is refused the same way.
  WriteConfig(Config("[metrics]\nlisten = \"0.0.0.0:1\"\n"));
  ASSERT_EQ(kill(pid_, SIGHUP), 0);
  ASSERT_TRUE(WaitForLog("\"event\":\"reload_failed\"", 2)) << Log();
  EXPECT_EQ(CodeOf(client->GetRecord(0, "check")), protocol::ErrorCode::RateLimited);
  EXPECT_TRUE(client->Health().ok());
  const Exposition e = Scrape();
  EXPECT_EQ(e.Get("contactpointd_config_reloads_total{result=\"ok\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_config_reloads_total{result=\"failed\"}"), 2);
  EXPECT_EQ(e.Get("contactpointd_open_sessions"), 1);

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  EXPECT_EQ(Wait(pid_), 0);
  pid_ = -1;
}

}  // namespace
}  // namespace cp::server::testing
