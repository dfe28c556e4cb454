// Fixed-width big-endian integers, so that keys sort in numeric order bytewise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cp {

inline void PutBigEndian16(std::string* dst, uint16_t v) {
  dst->push_back(static_cast<char>(v >> 8));
  dst->push_back(static_cast<char>(v));
}

inline void PutBigEndian64(std::string* dst, uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

// `src` must hold at least 2 (resp. 8) bytes.
inline uint16_t DecodeBigEndian16(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  return static_cast<uint16_t>((p[0] << 8) | p[1]);
}

inline uint64_t DecodeBigEndian64(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | p[i];
  return v;
}

inline void PutBigEndian32(std::string* dst, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) dst->push_back(static_cast<char>(v >> shift));
}

inline uint32_t DecodeBigEndian32(const char* src) {
  const auto* p = reinterpret_cast<const unsigned char*>(src);
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | p[3];
}

// LEB128: seven bits a byte, low first, the top bit set on every byte but the last. Small
// numbers in one byte, for values that are not keys (a key needs a fixed width to sort).
inline void PutVarint64(std::string* dst, uint64_t v) {
  while (v >= 0x80) {
    dst->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  dst->push_back(static_cast<char>(v));
}

// Signed values as varints: 0, -1, 1, -2, ... become 0, 1, 2, 3, ...
inline uint64_t ZigZag64(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag64(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline std::string BigEndian64(uint64_t v) {
  std::string s;
  s.reserve(8);
  PutBigEndian64(&s, v);
  return s;
}

// Decodes stored bytes front to back. Every read checks the remaining length and returns
// false, consuming nothing, when it is too short, so a decoder chains reads with && and
// reports one Corruption at the end.
class ByteReader {
 public:
  explicit ByteReader(std::string_view in) : in_(in) {}
  bool Byte(uint8_t* v) {
    if (in_.empty()) return false;
    *v = static_cast<uint8_t>(in_[0]);
    in_.remove_prefix(1);
    return true;
  }
  bool U16(uint16_t* v) { return Fixed(2, [&] { *v = DecodeBigEndian16(in_.data()); }); }
  bool U32(uint32_t* v) { return Fixed(4, [&] { *v = DecodeBigEndian32(in_.data()); }); }
  bool U64(uint64_t* v) { return Fixed(8, [&] { *v = DecodeBigEndian64(in_.data()); }); }
  // What PutVarint64 wrote; false for one cut short or longer than 64 bits.
  bool Varint64(uint64_t* v) {
    uint64_t out = 0;
    for (size_t i = 0; i < in_.size() && i < 10; ++i) {
      const auto byte = static_cast<uint8_t>(in_[i]);
      if (i == 9 && byte > 1) return false;
      out |= uint64_t{byte & 0x7fu} << (7 * i);
      if ((byte & 0x80) == 0) {
        *v = out;
        in_.remove_prefix(i + 1);
        return true;
      }
    }
    return false;
  }
  bool Bytes(size_t n, std::string* out) {
    if (in_.size() < n) return false;
    out->assign(in_.substr(0, n));
    in_.remove_prefix(n);
    return true;
  }
  bool View(size_t n, std::string_view* out) {
    if (in_.size() < n) return false;
    *out = in_.substr(0, n);
    in_.remove_prefix(n);
    return true;
  }
  bool empty() const { return in_.empty(); }
  size_t remaining() const { return in_.size(); }

 private:
  template <typename F>
  bool Fixed(size_t n, F decode) {
    if (in_.size() < n) return false;
    decode();
    in_.remove_prefix(n);
    return true;
  }
  std::string_view in_;
};

}  // namespace cp
