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

inline std::string BigEndian64(uint64_t v) {
  std::string s;
  s.reserve(8);
  PutBigEndian64(&s, v);
  return s;
}

}  // namespace cp
