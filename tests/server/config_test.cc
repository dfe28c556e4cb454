#include "server/config.h"

#include <gtest/gtest.h>

namespace cp::server {
namespace {

TEST(ConfigTest, DefaultsAndRequiredKeys) {
  auto c = ParseConfig(R"(
[server]
listen_address = "127.0.0.1"
port = 0
plain_tcp = true
[database]
dir = "/srv/db/"
)");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->db_dir, "/srv/db");
  EXPECT_EQ(c->key_file, "/srv/db.key");
  EXPECT_EQ(c->max_frame_bytes, kDefaultMaxRequestBytes);
  EXPECT_TRUE(c->plain_tcp);
}

TEST(ConfigTest, PlainTcpOffLoopbackIsRefused) {
  auto c = ParseConfig(
      "[server]\nlisten_address = \"0.0.0.0\"\nplain_tcp = true\n[database]\ndir = \"d\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("loopback"), std::string::npos);
}

TEST(ConfigTest, TlsNeedsCertificateAndKey) {
  auto c = ParseConfig("[database]\ndir = \"d\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tls.certificate"), std::string::npos);
}

TEST(ConfigTest, BadValuesNameTheKey) {
  auto c =
      ParseConfig("[server]\nmax_connections = -1\nplain_tcp = true\n[database]\ndir = \"d\"\n");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("server.max_connections"), std::string::npos);
  auto t = ParseConfig("[server]\nport = \"x\"\n");
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find("server.port"), std::string::npos);
  auto syntax = ParseConfig("[server\n");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("line 1"), std::string::npos);
}

TEST(ConfigTest, SlowRequestThresholdDefaultsToOneSecondAndIsChecked) {
  const std::string base = "[server]\nplain_tcp = true\n[database]\ndir = \"d\"\n";
  auto c = ParseConfig(base);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->slow_request_ms, 1000);
  auto off = ParseConfig(base + "[log]\nslow_request_ms = 0\n");
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_EQ(off->slow_request_ms, 0);
  for (const char* bad : {"-1", "600001", "\"fast\""}) {
    auto b = ParseConfig(base + "[log]\nslow_request_ms = " + bad + "\n");
    ASSERT_FALSE(b.ok()) << bad;
    EXPECT_NE(b.status().message().find("log.slow_request_ms"), std::string::npos)
        << b.status().ToString();
  }
}

TEST(ConfigTest, UnmeteredQuotaIsForLoopbackLoadTestsOnly) {
  const std::string rest = "plain_tcp = true\n[database]\ndir = \"d\"\n[bench]\n";
  auto off = ParseConfig("[server]\n" + rest);
  ASSERT_TRUE(off.ok()) << off.status().ToString();
  EXPECT_FALSE(off->bench_unmetered_quota);
  auto on = ParseConfig("[server]\n" + rest + "unmetered_daily_quota = true\n");
  ASSERT_TRUE(on.ok()) << on.status().ToString();
  EXPECT_TRUE(on->bench_unmetered_quota);
  auto open = ParseConfig(
      "[server]\nlisten_address = \"192.0.2.1\"\n[tls]\ncertificate = \"c\"\n"
      "private_key = \"k\"\n[database]\ndir = \"d\"\n[bench]\nunmetered_daily_quota = true\n");
  ASSERT_FALSE(open.ok());
  EXPECT_NE(open.status().message().find("bench.unmetered_daily_quota"), std::string::npos);
}

TEST(ConfigTest, Loopback) {
  EXPECT_TRUE(IsLoopbackAddress("127.0.0.1"));
  EXPECT_TRUE(IsLoopbackAddress("127.8.9.10"));
  EXPECT_TRUE(IsLoopbackAddress("::1"));
  EXPECT_FALSE(IsLoopbackAddress("10.0.0.1"));
  EXPECT_FALSE(IsLoopbackAddress("0.0.0.0"));
  EXPECT_FALSE(IsLoopbackAddress("localhost"));
}

}  // namespace
}  // namespace cp::server
