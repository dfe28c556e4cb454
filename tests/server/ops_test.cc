// The operations side in the test process: log lines, metrics text, config keys for
// [log] and [metrics], reloadable limits, and the HTTP endpoint's health and readiness.
#include <gtest/gtest.h>

#include "server/config.h"
#include "server/daemon_ops.h"
#include "server/frame.h"
#include "server/log.h"
#include "server/metrics.h"
#include "server/rate_limit.h"
#include "server/sessions.h"
#include "tests/server/ops_helpers.h"
#include "tests/server/server_fixture.h"

namespace cp::server::testing {
namespace {

namespace fb = protocol;

// ---- Log lines ------------------------------------------------------------------------

TEST(LogTest, JsonLineIsOneEscapedObject) {
  const std::string line =
      FormatLogLine(LogFormat::kJson, 1764360904123, "error", "bad \"x\"\nnext\\",
                    {{"event", "reload_failed"}, {"port", 7443}, {"ratio", 0.5}, {"tls", true}});
  EXPECT_EQ(line,
            "{\"ts\":\"2025-11-28T20:15:04.123Z\",\"level\":\"error\",\"msg\":\"bad "
            "\\\"x\\\"\\nnext\\\\\",\"event\":\"reload_failed\",\"port\":7443,\"ratio\":0.5,"
            "\"tls\":true}");
  EXPECT_EQ(line.find('\n'), std::string::npos);
  // Control bytes are escaped, not written raw.
  const std::string ctl = FormatLogLine(LogFormat::kJson, 0, "info", std::string("a\x01z"), {});
  EXPECT_NE(ctl.find("a\\u0001z"), std::string::npos) << ctl;
}

TEST(LogTest, TextLineForAPerson) {
  EXPECT_EQ(FormatLogLine(LogFormat::kText, 1764360904123, "info", "serving on x\nnext",
                          {{"event", "serving"}, {"note", "two words"}, {"port", 7443}}),
            "2025-11-28T20:15:04.123Z INFO serving on x next event=serving note=\"two words\" "
            "port=7443");
}

// ---- Metrics text ---------------------------------------------------------------------

TEST(MetricsTest, RequestsRefusalsAndHistogramsRender) {
  ServerMetrics m;  // not Global(): counts start at zero
  flatbuffers::FlatBufferBuilder fbb(64);
  const std::string ok =
      FinishFrame(fbb, 1, fb::Body::LogoutResult, fb::CreateLogoutResult(fbb).Union());
  const std::string refused = ErrorFrame(2, fb::ErrorCode::RateLimited, "slow down", 100);
  m.ObserveRequest(fb::Body::Logout, ok, 300'000);          // 0.3 ms
  m.ObserveRequest(fb::Body::Logout, ok, 2'000'000);        // 2 ms
  m.ObserveRequest(fb::Body::Search, refused, 20'000'000);  // 20 ms
  m.ObserveRequest(fb::Body::Search, ok, 60'000'000'000);   // 60 s: only +Inf
  m.ObserveFrameRefusal(fb::ErrorCode::FrameTooLarge);
  m.ObserveAuditAppend(4'000'000, true);
  m.ObserveAuditAppend(1'000'000, false);
  m.ObserveReload(false);
  ScrapeGauges g;
  g.ready = true;
  g.connections = 3;
  g.engine = ChildStore::EngineStats{};
  g.engine->statistics = true;
  g.engine->block_cache_hits = 3;
  g.engine->block_cache_misses = 1;
  g.engine->stall_micros = 2'500'000;
  g.engine->flushes = 4;
  g.engine->flush_micros = 1'500'000;
  g.engine->compactions = 2;
  g.engine->compaction_micros = 250'000;
  g.engine->stalls_delayed = 3;
  g.engine->stalls_stopped = 1;
  g.engine->level0_files = 5;
  g.engine->write_stopped = true;
  g.feeds.push_back({"gro\"births", 7, 1000, false});
  g.feeds.push_back({"schools", 0, 0, true});
  g.now_unix = 1090;
  g.review_queue = 4;
  const Exposition e = ParseExposition(m.Render(g));
  ASSERT_TRUE(e.problems.empty()) << e.problems.front();
  EXPECT_EQ(e.Get("contactpointd_requests_total{type=\"Logout\",outcome=\"ok\"}"), 2);
  EXPECT_EQ(e.Get("contactpointd_requests_total{type=\"Search\",outcome=\"error\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_requests_total{type=\"Search\",outcome=\"ok\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_requests_total{type=\"Health\",outcome=\"ok\"}"), 0);
  EXPECT_EQ(e.Get("contactpointd_refusals_total{reason=\"rate_limited\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_refusals_total{reason=\"frame_too_large\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_refusals_total{reason=\"internal\"}"), 0);
  EXPECT_EQ(e.Get("contactpointd_request_duration_seconds_bucket{type=\"Logout\",le=\"0.0005\"}"),
            1);
  EXPECT_EQ(e.Get("contactpointd_request_duration_seconds_bucket{type=\"Logout\",le=\"0.0025\"}"),
            2);
  EXPECT_EQ(e.Get("contactpointd_request_duration_seconds_bucket{type=\"Search\",le=\"10\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_request_duration_seconds_bucket{type=\"Search\",le=\"+Inf\"}"), 2);
  EXPECT_EQ(e.Get("contactpointd_request_duration_seconds_count{type=\"Search\"}"), 2);
  EXPECT_NEAR(e.Get("contactpointd_request_duration_seconds_sum{type=\"Logout\"}"), 0.0023, 1e-9);
  EXPECT_EQ(e.Get("contactpointd_audit_append_duration_seconds_count"), 2);
  EXPECT_EQ(e.Get("contactpointd_audit_append_failures_total"), 1);
  EXPECT_EQ(e.Get("contactpointd_config_reloads_total{result=\"failed\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_block_cache_hit_ratio"), 0.75);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_write_stall_seconds_total"), 2.5);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_flushes_total"), 4);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_flush_seconds_total"), 1.5);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_compactions_total"), 2);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_compaction_seconds_total"), 0.25);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_write_stalls_total{condition=\"delayed\"}"), 3);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_write_stalls_total{condition=\"stopped\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_write_stopped"), 1);
  EXPECT_EQ(e.Get("contactpointd_rocksdb_level0_files"), 5);
  EXPECT_EQ(e.Get("contactpointd_feed_lag_seconds{source=\"gro\\\"births\"}"), 90);
  EXPECT_EQ(e.Get("contactpointd_feed_lag_seconds{source=\"schools\"}"), -1);  // no batch yet
  EXPECT_EQ(e.Get("contactpointd_feed_paused{source=\"schools\"}"), 1);
  EXPECT_EQ(e.Get("contactpointd_review_queue_items"), 4);
  EXPECT_EQ(e.Get("contactpointd_open_connections"), 3);
  EXPECT_EQ(e.Get("contactpointd_ready"), 1);
}

TEST(MetricsTest, TheFormatCheckerCatchesBrokenText) {
  EXPECT_FALSE(ParseExposition("x_total 1\n").problems.empty());  // no TYPE
  EXPECT_FALSE(ParseExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\n"
                               "h_sum 1\nh_count 1\n")
                   .problems.empty());  // not cumulative
  EXPECT_FALSE(ParseExposition("# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\n"
                               "h_sum 1\nh_count 3\n")
                   .problems.empty());  // +Inf != _count
  EXPECT_FALSE(ParseExposition("# TYPE g gauge\ng{a=\"1\" 2\n").problems.empty());
  EXPECT_FALSE(ParseExposition("# TYPE g gauge\ng two\n").problems.empty());
  EXPECT_TRUE(ParseExposition("# TYPE g gauge\ng{a=\"1\"} 2\n").problems.empty());
}

// ---- Config ---------------------------------------------------------------------------

constexpr const char* kBase = "[server]\nplain_tcp = true\n[database]\ndir = \"d\"\n";

TEST(OpsConfigTest, MetricsListenMustBeLoopback) {
  auto c = ParseConfig(std::string(kBase) + "[metrics]\nlisten = \"0.0.0.0:9464\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("metrics.listen must be a loopback address"),
            std::string::npos)
      << c.status().message();
  c = ParseConfig(std::string(kBase) + "[metrics]\nlisten = \"10.1.2.3:9464\"\n");
  EXPECT_FALSE(c.ok());
  for (const char* bad : {"127.0.0.1", "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:x", "host:1"}) {
    EXPECT_FALSE(ParseConfig(std::string(kBase) + "[metrics]\nlisten = \"" + bad + "\"\n").ok())
        << bad;
  }
  c = ParseConfig(std::string(kBase) + "[metrics]\nlisten = \"[::1]:9464\"\n");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->metrics_address, "::1");
  EXPECT_EQ(c->metrics_port, 9464);
  c = ParseConfig(kBase);
  ASSERT_TRUE(c.ok());
  EXPECT_TRUE(c->metrics_address.empty());  // no endpoint unless asked for
  EXPECT_TRUE(c->log_json);
}

TEST(OpsConfigTest, LogFormat) {
  auto c = ParseConfig(std::string(kBase) + "[log]\nformat = \"text\"\n");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->log_json);
  c = ParseConfig(std::string(kBase) + "[log]\nformat = \"xml\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("log.format"), std::string::npos);
}

TEST(OpsConfigTest, WhichKeysNeedARestart) {
  auto a = ParseConfig(kBase);
  auto b = ParseConfig(
      "[server]\nplain_tcp = true\nport = 7000\nmax_connections = 5\nidle_timeout_ms = 9\n"
      "[database]\ndir = \"e\"\n[limits]\nrate_burst = 3.0\n[log]\nformat = \"text\"\n"
      "slow_request_ms = 40\n");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(KeysNeedingRestart(*a, *b),
            (std::vector<std::string>{"server.port", "database.dir", "database.key_file"}));
  ServerConfig running = *a;
  ApplyReloadable(*b, &running);
  EXPECT_EQ(running.max_connections, 5);
  EXPECT_EQ(running.idle_timeout_ms, 9);
  EXPECT_EQ(running.rate_burst, 3.0);
  EXPECT_FALSE(running.log_json);
  EXPECT_EQ(running.slow_request_ms, 40);
  EXPECT_EQ(running.listen_port, a->listen_port);  // restart-only keys stay as started
  EXPECT_EQ(running.db_dir, "d");
  EXPECT_TRUE(KeysNeedingRestart(running, *a).empty());
}

// ---- Reloadable limits ----------------------------------------------------------------

TEST(ReloadTest, RateLimiterTakesNewRates) {
  RateLimiter limiter(0.001, 10);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(limiter.Admit("u", 1000, nullptr));
  limiter.SetRates(0.001, 2);  // 5 tokens left, capped at 2
  EXPECT_TRUE(limiter.Admit("u", 1000, nullptr));
  EXPECT_TRUE(limiter.Admit("u", 1000, nullptr));
  uint32_t retry = 0;
  EXPECT_FALSE(limiter.Admit("u", 1000, &retry));
  limiter.SetRates(1000, 2);  // a fast refill
  EXPECT_TRUE(limiter.Admit("u", 1002, nullptr));
}

TEST(ReloadTest, SessionsKeepRunningUnderNewLimitsAndProfiles) {
  SessionTable t(SessionTable::Limits{1000, 100000, 50000});
  UserProfile p;
  p.user = "amy";
  p.role = "voluntary";
  const std::string token = t.Open(p, "127.0.0.1", 0);
  UserProfile q;
  q.user = "gone";
  const std::string gone = t.Open(q, "127.0.0.1", 0);
  EXPECT_EQ(t.open_sessions(), 2u);
  t.SetLimits(SessionTable::Limits{1000, 100000, 10000});
  EXPECT_EQ(t.limits().idle_ms, 10000);
  auto used = t.Use(token, "127.0.0.1", 9000);  // within the new idle timeout
  ASSERT_TRUE(used.ok());
  const size_t closed = t.RefreshProfiles([](const std::string& user) -> Result<UserProfile> {
    if (user == "gone") return Status::NotFound("no such user");
    UserProfile fresh;
    fresh.user = user;
    fresh.role = "la_social_care";
    return fresh;
  });
  EXPECT_EQ(closed, 1u);
  auto after = t.Use(token, "127.0.0.1", 9500);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->profile.role, "la_social_care");
  EXPECT_FALSE(t.Use(gone, "127.0.0.1", 9500).ok());
  // The new idle timeout applies to the open session: 10 s without a request ends it.
  EXPECT_FALSE(t.Use(token, "127.0.0.1", 9500 + 10000).ok());
}

TEST(ReloadTest, ARoleThatMayNotBreakGlassMendsTheSessionsGlass) {
  SessionTable t(SessionTable::Limits{1000, 100000, 50000});
  UserProfile p;
  p.user = "cpo";
  p.role = "child_protection";
  p.operations =
      static_cast<uint32_t>(Operation::kGetRecord) | static_cast<uint32_t>(Operation::kBreakGlass);
  const std::string token = t.Open(p, "127.0.0.1", 0);
  ASSERT_TRUE(t.SetBreakGlass(token, "section 47 enquiry").ok());
  // Re-read with its own role: the glass stays broken.
  t.RefreshProfiles([&](const std::string&) -> Result<UserProfile> { return p; });
  auto same = t.Use(token, "127.0.0.1", 10);
  ASSERT_TRUE(same.ok());
  EXPECT_TRUE(same->break_glass);
  UserProfile police = p;
  police.role = "police";
  police.operations = static_cast<uint32_t>(Operation::kGetRecord);
  t.RefreshProfiles([&](const std::string&) -> Result<UserProfile> { return police; });
  auto after = t.Use(token, "127.0.0.1", 20);
  ASSERT_TRUE(after.ok());
  EXPECT_EQ(after->profile.role, "police");
  EXPECT_FALSE(after->break_glass);
  EXPECT_TRUE(after->break_glass_reason.empty());
}

// A role change re-reads the changed user's account only: other users' sessions keep their
// profiles, and no account of theirs is read.
TEST(ReloadTest, ARefreshForOneUserReadsOnlyThatUsersAccount) {
  SessionTable t(SessionTable::Limits{1000, 100000, 50000});
  UserProfile amy, ben;
  amy.user = "amy";
  amy.role = "voluntary";
  ben.user = "ben";
  ben.role = "voluntary";
  const std::string a1 = t.Open(amy, "127.0.0.1", 0), a2 = t.Open(amy, "127.0.0.2", 0);
  const std::string b = t.Open(ben, "127.0.0.1", 0);
  std::vector<std::string> read;
  const size_t closed = t.RefreshProfiles(
      [&](const std::string& user) -> Result<UserProfile> {
        read.push_back(user);
        UserProfile fresh;
        fresh.user = user;
        fresh.role = "la_social_care";
        return fresh;
      },
      "amy");
  EXPECT_EQ(closed, 0u);
  EXPECT_EQ(read, std::vector<std::string>{"amy"}) << "one read for both of amy's sessions";
  for (const auto& token : {a1, a2}) {
    auto s = t.Use(token, token == a1 ? "127.0.0.1" : "127.0.0.2", 10);
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(s->profile.role, "la_social_care");
  }
  auto other = t.Use(b, "127.0.0.1", 10);
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->profile.role, "voluntary");
}

// ---- The endpoint over a running server -----------------------------------------------

class OpsEndpointTest : public ServerTest {};

TEST_F(OpsEndpointTest, ReadyFlipsWithAttachAndDrain) {
  ServerConfig config = BaseConfig();
  config.metrics_address = "127.0.0.1";
  config.metrics_port = 0;
  DaemonOps ops("/nonexistent/contactpointd.toml", config);
  ASSERT_TRUE(ops.Start().ok());
  const uint16_t port = ops.port();
  ASSERT_NE(port, 0);
  // Before the database and server are attached: alive, not ready.
  EXPECT_EQ(HttpGet(port, "/health").status, 200);
  EXPECT_EQ(HttpGet(port, "/ready").status, 503);
  EXPECT_TRUE(ParseExposition(HttpGet(port, "/metrics").body).problems.empty());

  auto running = StartServer(config);
  ASSERT_NE(running, nullptr);
  auto attached = ops.Attach(store_, running->handler.get(), running->server.get());
  HttpReply ready = HttpGet(port, "/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "ready\n");
  HttpReply metrics = HttpGet(port, "/metrics?x=1");
  EXPECT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.headers.find("text/plain; version=0.0.4"), std::string::npos);
  Exposition e = ParseExposition(metrics.body);
  ASSERT_TRUE(e.problems.empty()) << e.problems.front();
  EXPECT_EQ(e.Get("contactpointd_ready"), 1);
  EXPECT_GE(e.Get("contactpointd_rocksdb_pending_compaction_bytes"), 0);
  EXPECT_EQ(e.Get("contactpointd_review_queue_items"), 0);

  running->server->Drain();
  EXPECT_EQ(HttpGet(port, "/ready").status, 503);
  EXPECT_EQ(HttpGet(port, "/health").status, 200);
  e = ParseExposition(HttpGet(port, "/metrics").body);
  EXPECT_EQ(e.Get("contactpointd_draining"), 1);
  EXPECT_EQ(e.Get("contactpointd_ready"), 0);
  attached.reset();
  EXPECT_EQ(HttpGet(port, "/ready").status, 503);
}

TEST_F(OpsEndpointTest, BadRequestsGetClearStatuses) {
  ServerConfig config = BaseConfig();
  config.metrics_address = "127.0.0.1";
  DaemonOps ops("/nonexistent/contactpointd.toml", config);
  ASSERT_TRUE(ops.Start().ok());
  const uint16_t port = ops.port();
  EXPECT_EQ(HttpGet(port, "/nope").status, 404);
  EXPECT_EQ(HttpGet(port, "", "POST /metrics HTTP/1.1\r\n\r\n").status, 405);
  EXPECT_EQ(HttpGet(port, "", "garbage\r\n\r\n").status, 400);
  EXPECT_EQ(
      HttpGet(port, "", "GET /health HTTP/1.1\r\nX: " + std::string(9000, 'a') + "\r\n\r\n").status,
      400);
  HttpReply head = HttpGet(port, "", "HEAD /health HTTP/1.1\r\n\r\n");
  EXPECT_EQ(head.status, 200);
  EXPECT_TRUE(head.body.empty());
  // The endpoint still answers after all that.
  EXPECT_EQ(HttpGet(port, "/health").status, 200);
}

TEST(OpsEndpointStartTest, ANonLoopbackAddressIsRefused) {
  auto e = OpsEndpoint::Start("0.0.0.0", 0, OpsEndpoint::Handlers{});
  ASSERT_FALSE(e.ok());
  EXPECT_NE(e.status().message().find("loopback"), std::string::npos);
}

TEST(OpsEndpointStartTest, ABusyPortIsAnError) {
  OpsEndpoint::Handlers h;
  h.metrics = [] { return std::string(); };
  h.ready = [] { return true; };
  auto first = OpsEndpoint::Start("127.0.0.1", 0, h);
  ASSERT_TRUE(first.ok());
  auto second = OpsEndpoint::Start("127.0.0.1", (*first)->port(), h);
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
}

}  // namespace
}  // namespace cp::server::testing
