// Tests for util/cidr.h: parsing addresses and ranges, IPv4 and IPv6, and containment.
#include "util/cidr.h"

#include <gtest/gtest.h>

#include <string>

namespace cp {
namespace {

IpAddress Ip(const std::string& text) {
  auto a = ParseIpAddress(text);
  EXPECT_TRUE(a.ok()) << text << ": " << a.status().ToString();
  return a.ok() ? *a : IpAddress();
}

Cidr Range(const std::string& text) {
  auto c = ParseCidr(text);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().ToString();
  return c.ok() ? *c : Cidr();
}

TEST(IpAddressTest, ParsesAndPrintsBothFamilies) {
  EXPECT_EQ(Ip("192.0.2.7").ToString(), "192.0.2.7");
  EXPECT_FALSE(Ip("192.0.2.7").v6);
  EXPECT_EQ(Ip("2001:DB8:0:0:0:0:0:1").ToString(), "2001:db8::1");
  EXPECT_TRUE(Ip("2001:db8::1").v6);
}

TEST(IpAddressTest, MappedIpv6IsIpv4) {
  IpAddress a = Ip("::ffff:192.0.2.7");
  EXPECT_FALSE(a.v6);
  EXPECT_EQ(a, Ip("192.0.2.7"));
}

TEST(IpAddressTest, RefusesMalformedAddresses) {
  for (const char* bad : {"", "192.0.2", "192.0.2.256", "192.0.2.7 ", " 192.0.2.7", "01.2.3.4",
                          "1.2.3.4.5", "2001:db8::1::2", "2001:db8::g", "fe80::1%eth0",
                          "[2001:db8::1]", "192.0.2.7:443", "localhost"}) {
    auto a = ParseIpAddress(bad);
    EXPECT_FALSE(a.ok()) << bad;
    if (!a.ok()) {
      EXPECT_TRUE(a.status().IsInvalidArgument());
    }
  }
}

TEST(CidrTest, ContainsIpv4) {
  Cidr r = Range("192.0.2.0/24");
  EXPECT_TRUE(r.Contains(Ip("192.0.2.0")));
  EXPECT_TRUE(r.Contains(Ip("192.0.2.255")));
  EXPECT_FALSE(r.Contains(Ip("192.0.3.0")));
  EXPECT_FALSE(r.Contains(Ip("192.0.1.255")));
  Cidr odd = Range("10.0.0.0/13");  // a prefix that ends inside a byte
  EXPECT_TRUE(odd.Contains(Ip("10.7.255.255")));
  EXPECT_FALSE(odd.Contains(Ip("10.8.0.0")));
  Cidr host = Range("203.0.113.9/32");
  EXPECT_TRUE(host.Contains(Ip("203.0.113.9")));
  EXPECT_FALSE(host.Contains(Ip("203.0.113.8")));
  EXPECT_TRUE(Range("0.0.0.0/0").Contains(Ip("8.8.8.8")));
}

TEST(CidrTest, ContainsIpv6) {
  Cidr r = Range("2001:db8:abcd::/48");
  EXPECT_TRUE(r.Contains(Ip("2001:db8:abcd:1::5")));
  EXPECT_FALSE(r.Contains(Ip("2001:db8:abce::1")));
  Cidr odd = Range("2001:db8::/33");
  EXPECT_TRUE(odd.Contains(Ip("2001:db8:7fff::1")));
  EXPECT_FALSE(odd.Contains(Ip("2001:db8:8000::1")));
  EXPECT_TRUE(Range("2001:db8::1/128").Contains(Ip("2001:db8::1")));
}

TEST(CidrTest, FamiliesNeverMix) {
  EXPECT_FALSE(Range("0.0.0.0/0").Contains(Ip("2001:db8::1")));
  EXPECT_FALSE(Range("::/0").Contains(Ip("192.0.2.7")));
  // A dual-stack socket's mapped address is inside the IPv4 range.
  EXPECT_TRUE(Range("192.0.2.0/24").Contains(Ip("::ffff:192.0.2.7")));
}

TEST(CidrTest, PrintsCanonicalForm) {
  EXPECT_EQ(Range("192.0.2.0/24").ToString(), "192.0.2.0/24");
  EXPECT_EQ(Range("2001:0DB8::/32").ToString(), "2001:db8::/32");
}

TEST(CidrTest, RefusesBadRanges) {
  for (const char* bad :
       {"192.0.2.0", "192.0.2.0/", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/+8", "192.0.2.0/08",
        "192.0.2.0/2a", "192.0.2.1/24", "10.0.0.1/8", "/24", "2001:db8::/129", "2001:db8::1/64",
        "::ffff:192.0.2.0/120", "192.0.2.0/24/1", "garbage"}) {
    auto c = ParseCidr(bad);
    EXPECT_FALSE(c.ok()) << bad;
    if (!c.ok()) {
      EXPECT_TRUE(c.status().IsInvalidArgument()) << bad;
    }
  }
}

TEST(CidrTest, HostBitsMessageSaysWhy) {
  auto c = ParseCidr("10.0.0.1/8");
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("host bits"), std::string::npos);
}

}  // namespace
}  // namespace cp
