// Sessions and rate limits with a clock the test moves.
#include <gtest/gtest.h>

#include "server/rate_limit.h"
#include "server/sessions.h"

namespace cp::server {
namespace {

TEST(RateLimiterTest, BurstThenSteadyRate) {
  RateLimiter limiter(2, 3);  // 2 a second, burst 3
  uint32_t retry = 0;
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(limiter.Admit("u", 1000, &retry));
  EXPECT_FALSE(limiter.Admit("u", 1000, &retry));
  EXPECT_EQ(retry, 500u);
  EXPECT_TRUE(limiter.Admit("other", 1000, &retry));
  EXPECT_TRUE(limiter.Admit("u", 1500, &retry));
  EXPECT_FALSE(limiter.Admit("u", 1500, &retry));
}

TEST(RateLimiterTest, ABucketNeverHoldsMoreThanTheBurst) {
  RateLimiter limiter(1, 2);
  EXPECT_TRUE(limiter.Admit("u", 0, nullptr));
  for (int i = 0; i < 2; ++i) EXPECT_TRUE(limiter.Admit("u", 1000000, nullptr));
  EXPECT_FALSE(limiter.Admit("u", 1000000, nullptr));
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
  EXPECT_TRUE(t.Use(token, "10.0.0.1", 8000).ok());    // idle is measured from the last use
  EXPECT_FALSE(t.Use(token, "10.0.0.1", 10000).ok());  // absolute expiry
  const std::string idle = t.Open(p, "10.0.0.1", 0);
  EXPECT_FALSE(t.Use(idle, "10.0.0.1", 5000).ok());
  const std::string closed = t.Open(p, "10.0.0.1", 0);
  t.Close(closed);
  EXPECT_FALSE(t.Use(closed, "10.0.0.1", 1).ok());
}

TEST(SessionTableTest, CloseUserEndsThatUsersSessionsAndTicketsOnly) {
  SessionTable t({1000, 10000, 5000});
  UserProfile ann, bob;
  ann.user = "ann";
  bob.user = "bob";
  const std::string a1 = t.Open(ann, "h", 0), a2 = t.Open(ann, "h", 0), b = t.Open(bob, "h", 0);
  const std::string ann_ticket = t.IssueTicket("ann", "h", 0),
                    bob_ticket = t.IssueTicket("bob", "h", 0);
  EXPECT_EQ(t.CloseUser("ann"), 2u);
  EXPECT_FALSE(t.Use(a1, "h", 1).ok());
  EXPECT_FALSE(t.Use(a2, "h", 1).ok());
  EXPECT_FALSE(t.TicketUser(ann_ticket, "h", 1).ok());
  EXPECT_TRUE(t.Use(b, "h", 1).ok());
  EXPECT_TRUE(t.TicketUser(bob_ticket, "h", 1).ok());
  EXPECT_EQ(t.CloseUser("ann"), 0u);
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
