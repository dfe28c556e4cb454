// IP addresses and CIDR ranges, IPv4 and IPv6: an organisation's registered ranges, and
// the test "does this connection come from one of them".
//
// An IPv4-mapped IPv6 address (::ffff:192.0.2.7, what a dual-stack socket reports for an
// IPv4 peer) is the IPv4 address it maps: ParseIpAddress returns it as IPv4, so a range
// registered as 192.0.2.0/24 contains it.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "util/status.h"

namespace cp {

struct IpAddress {
  bool v6 = false;
  // Network byte order. An IPv4 address uses bytes[0..3]; the rest are zero.
  std::array<uint8_t, 16> bytes{};

  size_t size() const { return v6 ? 16 : 4; }
  // "192.0.2.7", "2001:db8::1" (RFC 5952 form for IPv6).
  std::string ToString() const;
  friend bool operator==(const IpAddress&, const IpAddress&) = default;
};

// Dotted quad (no leading zeros, no shorthand) or RFC 4291 IPv6 text. No zone index
// ("%eth0"), no brackets, no port. InvalidArgument naming the text otherwise.
Result<IpAddress> ParseIpAddress(std::string_view text);

struct Cidr {
  IpAddress base;      // host bits are zero
  uint8_t prefix = 0;  // 0..32 for IPv4, 0..128 for IPv6

  // True when `addr` is of the same family and agrees with `base` on the first `prefix`
  // bits. An IPv4 address is never inside an IPv6 range and vice versa (mapped addresses
  // are IPv4 already, see above).
  bool Contains(const IpAddress& addr) const;
  // "192.0.2.0/24", "2001:db8::/32".
  std::string ToString() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

// "ADDRESS/PREFIX". The prefix is decimal without sign or leading zeros and within the
// family's width; host bits must be zero ("10.0.0.1/8" is refused, it is probably a
// typing mistake for a single host or for 10.0.0.0/8). A bare address is refused too:
// write /32 or /128 for one host. InvalidArgument with a message naming the fault.
Result<Cidr> ParseCidr(std::string_view text);

}  // namespace cp
