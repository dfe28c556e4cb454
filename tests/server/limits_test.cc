// Sessions and rate limits with a clock the test moves.
#include <gtest/gtest.h>

#include "server/rate_limit.h"
#include "server/sessions.h"

namespace cp::server {
namespace {

using Verdict = RateLimiter::Verdict;

TEST(RateLimiterTest, BurstThenSteadyRate) {
  RateLimiter limiter(2, 3);  // 2 a second, burst 3
  uint32_t retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_EQ(limiter.Admit("u", false, 0, 1000, &retry), Verdict::kOk);
  EXPECT_EQ(limiter.Admit("u", false, 0, 1000, &retry), Verdict::kRateLimited);
  EXPECT_EQ(retry, 500u);
  EXPECT_EQ(limiter.Admit("other", false, 0, 1000, &retry), Verdict::kOk);
  EXPECT_EQ(limiter.Admit("u", false, 0, 1500, &retry), Verdict::kOk);
  EXPECT_EQ(limiter.Admit("u", false, 0, 1500, &retry), Verdict::kRateLimited);
}

TEST(RateLimiterTest, DailyQuotaResetsAtUtcMidnight) {
  RateLimiter limiter(1000, 1000);
  const int64_t day = 86400000;
  EXPECT_EQ(limiter.Admit("u", true, 2, 5 * day + 1, nullptr), Verdict::kOk);
  EXPECT_EQ(limiter.Admit("u", true, 2, 5 * day + 2, nullptr), Verdict::kOk);
  EXPECT_EQ(limiter.Admit("u", true, 2, 5 * day + 3, nullptr), Verdict::kQuotaExceeded);
  EXPECT_EQ(limiter.Admit("u", false, 2, 5 * day + 4, nullptr), Verdict::kOk);  // views are not searches
  EXPECT_EQ(limiter.Admit("u", true, 2, 6 * day, nullptr), Verdict::kOk);
}

TEST(SessionTableTest, TicketIsBoundToAddressAndExpires) {
  SessionTable t({1000, 10000, 5000});
  const std::string ticket = t.IssueTicket("ann", "10.0.0.1", 0);
  EXPECT_EQ(ticket.size(), 64u);
  EXPECT_FALSE(t.TicketUser(ticket, "10.0.0.2", 10).ok());
  ASSERT_TRUE(t.TicketUser(ticket, "10.0.0.1", 10).ok());
  EXPECT_FALSE(t.TicketUser(ticket, "10.0.0.1", 1000).ok());
  const std::string again = t.IssueTicket("ann", "10.0.0.1", 0);
  t.RedeemTicket(again);
  EXPECT_FALSE(t.TicketUser(again, "10.0.0.1", 1).ok());
}

TEST(SessionTableTest, SessionEndsWhenIdleOrExpiredOrClosed) {
  SessionTable t({1000, 10000, 5000});
  UserProfile p;
  p.user = "ann";
  const std::string token = t.Open(p, "10.0.0.1", 0);
  EXPECT_FALSE(t.Use(token, "10.0.0.9", 1).ok());
  EXPECT_TRUE(t.Use(token, "10.0.0.1", 4000).ok());
  EXPECT_TRUE(t.Use(token, "10.0.0.1", 8000).ok());  // idle is measured from the last use
  EXPECT_FALSE(t.Use(token, "10.0.0.1", 10000).ok());  // absolute expiry
  const std::string idle = t.Open(p, "10.0.0.1", 0);
  EXPECT_FALSE(t.Use(idle, "10.0.0.1", 5000).ok());
  const std::string closed = t.Open(p, "10.0.0.1", 0);
  t.Close(closed);
  EXPECT_FALSE(t.Use(closed, "10.0.0.1", 1).ok());
}

TEST(SessionTableTest, BreakGlassIsPerSession) {
  SessionTable t({1000, 10000, 5000});
  UserProfile p;
  const std::string a = t.Open(p, "h", 0), b = t.Open(p, "h", 0);
  ASSERT_TRUE(t.SetBreakGlass(a, "s47 enquiry").ok());
  EXPECT_TRUE(t.Use(a, "h", 1)->break_glass);
  EXPECT_FALSE(t.Use(b, "h", 1)->break_glass);
}

}  // namespace
}  // namespace cp::server
