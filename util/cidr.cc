#include "util/cidr.h"

#include <arpa/inet.h>

#include <cstring>

namespace cp {
namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// Bit `i` (0 = most significant bit of byte 0).
bool Bit(const IpAddress& a, int i) { return (a.bytes[i / 8] >> (7 - i % 8)) & 1; }

Result<uint8_t> ParsePrefix(std::string_view text, int max_bits) {
  if (text.empty() || text.size() > 3 || (text.size() > 1 && text[0] == '0')) {
    return Status::InvalidArgument("prefix length '" + std::string(text) + "' is not a number");
  }
  int v = 0;
  for (char c : text) {
    if (c < '0' || c > '9') {
      return Status::InvalidArgument("prefix length '" + std::string(text) + "' is not a number");
    }
    v = v * 10 + (c - '0');
  }
  if (v > max_bits) {
    return Status::InvalidArgument("prefix length " + std::string(text) + " exceeds " +
                                   std::to_string(max_bits) + " bits");
  }
  return static_cast<uint8_t>(v);
}

}  // namespace

std::string IpAddress::ToString() const {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(v6 ? AF_INET6 : AF_INET, bytes.data(), buf, sizeof(buf));
  return buf;
}

Result<IpAddress> ParseIpAddress(std::string_view text) {
  // inet_pton needs a NUL-terminated string; a bound keeps garbage out of the buffer.
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return Status::InvalidArgument("'" + std::string(text.substr(0, 64)) +
                                   "' is not an IP address");
  }
  std::string s(text);
  IpAddress a;
  if (s.find(':') == std::string::npos) {
    if (inet_pton(AF_INET, s.c_str(), a.bytes.data()) != 1) {
      return Status::InvalidArgument("'" + s + "' is not an IPv4 address");
    }
    return a;
  }
  if (inet_pton(AF_INET6, s.c_str(), a.bytes.data()) != 1) {
    return Status::InvalidArgument("'" + s + "' is not an IPv6 address");
  }
  a.v6 = true;
  if (std::memcmp(a.bytes.data(), kMappedPrefix, sizeof(kMappedPrefix)) == 0) {
    IpAddress v4;
    std::memcpy(v4.bytes.data(), a.bytes.data() + 12, 4);
    return v4;
  }
  return a;
}

bool Cidr::Contains(const IpAddress& addr) const {
  if (addr.v6 != base.v6) return false;
  int full = prefix / 8;
  if (std::memcmp(addr.bytes.data(), base.bytes.data(), full) != 0) return false;
  for (int i = full * 8; i < prefix; ++i) {
    if (Bit(addr, i) != Bit(base, i)) return false;
  }
  return true;
}

std::string Cidr::ToString() const { return base.ToString() + "/" + std::to_string(prefix); }

Result<Cidr> ParseCidr(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) {
    return Status::InvalidArgument(
        "'" + std::string(text.substr(0, 64)) +
        "' is not a CIDR range (ADDRESS/PREFIX; /32 or /128 for one host)");
  }
  auto addr = ParseIpAddress(text.substr(0, slash));
  if (!addr.ok()) return addr.status();
  // A mapped IPv6 range would silently become an IPv4 one with the wrong prefix.
  if (!addr->v6 && text.substr(0, slash).find(':') != std::string_view::npos) {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is an IPv4-mapped range; register the IPv4 range instead");
  }
  auto prefix = ParsePrefix(text.substr(slash + 1), addr->v6 ? 128 : 32);
  if (!prefix.ok()) return prefix.status();
  Cidr cidr{*addr, *prefix};
  for (int i = cidr.prefix; i < static_cast<int>(addr->size()) * 8; ++i) {
    if (Bit(cidr.base, i)) {
      return Status::InvalidArgument("'" + std::string(text) +
                                     "' has host bits set after the prefix (did you mean a "
                                     "network address?)");
    }
  }
  return cidr;
}

}  // namespace cp
