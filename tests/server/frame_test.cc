// Framing and verification as pure functions: no sockets.
#include "server/frame.h"

#include <gtest/gtest.h>

#include <cstring>
#include <vector>

namespace cp::server {
namespace {

namespace fb = protocol;

std::vector<uint8_t> BodyOf(const std::string& frame) {
  return std::vector<uint8_t>(frame.begin() + kFrameHeaderBytes, frame.end());
}

std::string HealthFrame(uint64_t id) {
  flatbuffers::FlatBufferBuilder fbb;
  auto body = fb::CreateHealth(fbb);
  return FinishFrame(fbb, id, fb::Body::Health, body.Union(), "token");
}

TEST(FrameTest, LengthIsLittleEndian) {
  const uint8_t header[4] = {0x01, 0x02, 0x03, 0x04};
  EXPECT_EQ(DecodeFrameLength(std::span<const uint8_t, 4>(header)), 0x04030201u);
}

TEST(FrameTest, FinishFramePrefixesTheBodyLength) {
  const std::string frame = HealthFrame(7);
  const auto* h = reinterpret_cast<const uint8_t*>(frame.data());
  EXPECT_EQ(DecodeFrameLength(std::span<const uint8_t, 4>(h, 4)), frame.size() - kFrameHeaderBytes);
}

TEST(FrameTest, LengthChecks) {
  EXPECT_EQ(CheckFrameLength(0, 100), FrameLength::kEmpty);
  EXPECT_EQ(CheckFrameLength(1, 100), FrameLength::kOk);
  EXPECT_EQ(CheckFrameLength(100, 100), FrameLength::kOk);
  EXPECT_EQ(CheckFrameLength(101, 100), FrameLength::kTooLarge);
  EXPECT_EQ(CheckFrameLength(0xffffffffu, kDefaultMaxRequestBytes), FrameLength::kTooLarge);
}

TEST(FrameTest, RoundTripKeepsIdSessionAndBody) {
  auto body = BodyOf(HealthFrame(42));
  const fb::Envelope* env = VerifyEnvelope(body);
  ASSERT_NE(env, nullptr);
  EXPECT_EQ(env->id(), 42u);
  EXPECT_EQ(env->session()->str(), "token");
  EXPECT_EQ(env->body_type(), fb::Body::Health);
}

TEST(FrameTest, ErrorFrameCarriesCodeMessageAndRetry) {
  auto body = BodyOf(ErrorFrame(3, fb::ErrorCode::RateLimited, "slow down", 250));
  const fb::Envelope* env = VerifyEnvelope(body);
  ASSERT_NE(env, nullptr);
  const fb::Error* e = env->body_as_Error();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code(), fb::ErrorCode::RateLimited);
  EXPECT_EQ(e->message()->str(), "slow down");
  EXPECT_EQ(e->retry_after_ms(), 250u);
}

TEST(FrameTest, EveryTruncationIsRefused) {
  auto body = BodyOf(ErrorFrame(3, fb::ErrorCode::Internal, "a message long enough to matter"));
  for (size_t n = 0; n < body.size(); ++n) {
    std::vector<uint8_t> cut(body.begin(), body.begin() + n);
    EXPECT_EQ(VerifyEnvelope(cut), nullptr) << "accepted a frame cut to " << n << " bytes";
  }
}

TEST(FrameTest, WrongFileIdentifierIsRefused) {
  auto body = BodyOf(HealthFrame(1));
  std::memcpy(body.data() + 4, "XXXX", 4);
  EXPECT_EQ(VerifyEnvelope(body), nullptr);
}

TEST(FrameTest, GarbageIsRefused) {
  std::vector<uint8_t> garbage(64);
  for (size_t i = 0; i < garbage.size(); ++i) garbage[i] = static_cast<uint8_t>(i * 37 + 11);
  EXPECT_EQ(VerifyEnvelope(garbage), nullptr);
  std::vector<uint8_t> zeros(64, 0);
  EXPECT_EQ(VerifyEnvelope(zeros), nullptr);
}

TEST(FrameTest, AStringPointingOutsideTheBufferIsRefused) {
  auto body = BodyOf(ErrorFrame(3, fb::ErrorCode::Internal, "message"));
  // Every 4-byte window set to a huge offset in turn: the verifier must refuse or accept
  // without reading out of bounds (ASan checks the latter).
  for (size_t i = 0; i + 4 <= body.size(); i += 4) {
    auto bad = body;
    bad[i] = 0xff;
    bad[i + 1] = 0xff;
    bad[i + 2] = 0xff;
    bad[i + 3] = 0x7f;
    const fb::Envelope* env = VerifyEnvelope(bad);
    if (env && env->body_as_Error() && env->body_as_Error()->message()) {
      EXPECT_LE(env->body_as_Error()->message()->size(), bad.size());
    }
  }
}

TEST(FrameTest, UnknownBodyTypeVerifiesSoTheServerCanAnswerIt) {
  auto body = BodyOf(HealthFrame(9));
  const fb::Envelope* env = VerifyEnvelope(body);
  ASSERT_NE(env, nullptr);
  // Find the union type byte (Health) and make it a type no version knows.
  const uint8_t health = static_cast<uint8_t>(fb::Body::Health);
  bool changed = false;
  for (auto& b : body) {
    if (b == health && !changed) {
      auto copy = body;
      copy[&b - body.data()] = 200;
      const fb::Envelope* e = VerifyEnvelope(copy);
      if (e && static_cast<int>(e->body_type()) == 200) {
        changed = true;
        EXPECT_FALSE(IsRequest(e->body_type()));
      }
    }
  }
  EXPECT_TRUE(changed);
}

TEST(FrameTest, RequestsAndResultsAreTold) {
  EXPECT_TRUE(IsRequest(fb::Body::Search));
  EXPECT_TRUE(IsRequest(fb::Body::Health));
  EXPECT_FALSE(IsRequest(fb::Body::SearchResult));
  EXPECT_FALSE(IsRequest(fb::Body::Error));
  EXPECT_FALSE(IsRequest(fb::Body::NONE));
}

TEST(FrameTest, ErrorCodeNamesAreSnakeCase) {
  EXPECT_STREQ(ErrorCodeName(fb::ErrorCode::TooManyMatches), "too_many_matches");
  EXPECT_STREQ(ErrorCodeName(fb::ErrorCode::UnregisteredAddress), "unregistered_address");
}

}  // namespace
}  // namespace cp::server
