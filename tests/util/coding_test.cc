// Varints and the byte reader that decodes them.
#include "util/coding.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>

namespace cp {
namespace {

TEST(VarintTest, RoundTripsEdgesAndTakesOneByteBelow128) {
  const uint64_t values[] = {
      0, 1, 127, 128, 300, 16383, 16384, uint64_t{1} << 35, std::numeric_limits<uint64_t>::max()};
  std::string bytes;
  for (uint64_t v : values) PutVarint64(&bytes, v);
  ByteReader in(bytes);
  for (uint64_t v : values) {
    uint64_t got = 0;
    ASSERT_TRUE(in.Varint64(&got)) << v;
    EXPECT_EQ(got, v);
  }
  EXPECT_TRUE(in.empty());
  std::string one;
  PutVarint64(&one, 127);
  EXPECT_EQ(one.size(), 1u);
  std::string max;
  PutVarint64(&max, std::numeric_limits<uint64_t>::max());
  EXPECT_EQ(max.size(), 10u);
}

TEST(VarintTest, ACutOrOverlongVarintIsRefusedAndConsumesNothing) {
  std::string bytes;
  PutVarint64(&bytes, 300);  // two bytes
  ByteReader cut(std::string_view(bytes).substr(0, 1));
  uint64_t v = 7;
  EXPECT_FALSE(cut.Varint64(&v));
  EXPECT_EQ(v, 7u);
  EXPECT_EQ(cut.remaining(), 1u);
  // Eleven bytes, or a tenth byte carrying more than the 64th bit.
  // (The reader holds a view: the bytes must outlive it.)
  const std::string eleven = std::string(10, '\xff') + '\x01';
  ByteReader long_one(eleven);
  EXPECT_FALSE(long_one.Varint64(&v));
  EXPECT_EQ(long_one.remaining(), 11u);
  const std::string too_wide = std::string(9, '\xff') + '\x02';
  ByteReader wide(too_wide);
  EXPECT_FALSE(wide.Varint64(&v));
  ByteReader empty("");
  EXPECT_FALSE(empty.Varint64(&v));
}

TEST(ZigZagTest, SmallMagnitudesStaySmallEitherSign) {
  EXPECT_EQ(ZigZag64(0), 0u);
  EXPECT_EQ(ZigZag64(-1), 1u);
  EXPECT_EQ(ZigZag64(1), 2u);
  EXPECT_EQ(ZigZag64(-2), 3u);
  for (int64_t v : {int64_t{0}, int64_t{-8000}, int64_t{12600}, std::numeric_limits<int64_t>::min(),
                    std::numeric_limits<int64_t>::max()}) {
    EXPECT_EQ(UnZigZag64(ZigZag64(v)), v);
  }
}

}  // namespace
}  // namespace cp
